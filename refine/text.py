"""How a candidate reads as text, for the language model, the embedder and the classifier."""

from __future__ import annotations

from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour

__all__ = ["RELATION_PHRASES", "head_text", "input_texts", "statement", "tail_sentence"]

RELATION_PHRASES: dict[str, str] = {
    "USED_FOR_FUNC": "it is used for",
    "USED_FOR_EVE": "it is used for the event",
    "USED_FOR_AUD": "it is made for",
    "CAPABLE_OF": "it is capable of",
    "USED_TO": "it is used to",
    "USED_AS": "it is used as",
    "IS_A": "it is a type of",
    "USED_ON": "it is used on",
    "USED_IN_LOC": "it is used in",
    "USED_IN_BODY": "it is used on the",
    "USED_WITH": "it is used with",
    "USED_BY": "it is used by",
    "xINTERESTED_IN": "the customer is interested in",
    "xIS_A": "the customer is",
    "xWANT": "the customer wants to",
}
"""A plain-English reading of each relation, used to turn a tail into a sentence."""


def _phrase(relation: str) -> str:
    for key, value in RELATION_PHRASES.items():
        if key.upper() == relation.upper():
            return value
    return relation.lower().replace("_", " ")


def tail_sentence(c: Candidate) -> str:
    """The tail as a stand-alone sentence, for perplexity: "It is capable of keeping warm."

    The product titles are left out on purpose: their (often odd) wording would dominate
    the perplexity of the whole sentence and hide how fluent the tail is.
    """
    text = f"{_phrase(c.relation)} {c.tail.strip().rstrip('.')}."
    return text[0].upper() + text[1:]


def head_text(c: Candidate) -> str:
    """The behaviour the candidate explains: the query and product, or both products."""
    if c.behaviour == Behaviour.SEARCH_BUY:
        return f"query: {c.source} ; bought: {c.target_title or c.target}"
    return f"bought together: {c.source_title or c.source} ; {c.target_title or c.target}"


def statement(c: Candidate) -> str:
    """``head ; relation ; tail``, the classifier's text input."""
    return f"{head_text(c)} ; {_phrase(c.relation)} ; {c.tail}"


def input_texts(c: Candidate) -> list[str]:
    """The texts a tail must not merely repeat: the query or titles and the product type."""
    texts = [c.source_title or c.source, c.target_title or c.target]
    if c.behaviour == Behaviour.SEARCH_BUY:
        texts[0] = c.source
    if c.target_type:
        texts.append(c.target_type)
    return [t for t in texts if t]
