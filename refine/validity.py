"""Validity stage: drop tails that are not a well-formed intention phrase.

Runs before every other filter. Generated and imported sentences are cut into a relation
and a tail by parsing, and the cut often leaves a fragment: ``Cord Lock" and both are
"Extension Cord``, ``Crocs" in the database``, ``Sony" and he thought they are the same``.
Each rule is a plain pattern over the tail; a rejected tail names the first rule it breaks,
in this order:

=====================  ====================================================================
rule                   rejects
=====================  ====================================================================
``unbalanced_quotes``  a closing quote with no opening one, or an opening one never closed
``joined_fragments``   two fragments joined: ``X" and "Y``, ``and both are``, ``and they are``
``narrative``          narrative: a subject pronoun or an opinion (``he thought``, ``I``)
``data_reference``     references to the data (``in the database``, ``product title``)
``restates_pair``      tails about the pair itself (``use both products together``)
``too_long``           more words than a phrase (``max_words``)
=====================  ====================================================================

:func:`validity_rules` returns every rule a tail breaks (for measuring each rule on its
own); the stage drops on the first. Measured precision and recall: ``refine/README.md``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from cosmo.core.records import Candidate
from cosmo.refine.stage import Dropped, StageReport, StageResult

__all__ = ["VALIDITY_RULES", "ValidityFilter", "first_rule", "validity_rules"]

_QUOTES = '"“”'


def _unbalanced_quotes(tail: str) -> bool:
    text = tail.strip()
    depth = 0
    for i, ch in enumerate(text):
        if ch not in _QUOTES:
            continue
        before = text[i - 1] if i > 0 else " "
        after = text[i + 1] if i + 1 < len(text) else " "
        opening = ch == "“" or (
            ch == '"' and (before.isspace() or before in "([") and not after.isspace()
        )
        if opening and depth == 0:
            depth = 1
        elif depth == 1:
            depth = 0
        else:
            return True  # a closing quote with nothing open
    return depth != 0


_JOINED = re.compile(
    r"[\"”]\s*(and|or|,)\s*[\"“]|\band (both|they|are both|it is|is)\b|\bboth (are|were)\b",
    re.IGNORECASE,
)
_NARRATIVE = re.compile(
    r"\b(he|she|i|we|thought|thinks?|believes?|likes them|likes it)\b", re.IGNORECASE
)
_DATA = re.compile(
    r"\b(database|dataset|category|categories|amazon(\.com)?|merchant|seller"
    r"|product (title|name|description|page)s?|in the same product)\b",
    re.IGNORECASE,
)
_PAIR = re.compile(
    r"\b(both|these|those|two|the|other|same) (products?|items?)\b|\bboth\b.*\btogether\b"
    r"|\bthe same (thing|purpose|brand|quality|type)\b|\ba product of\b|\beach other\b",
    re.IGNORECASE,
)

VALIDITY_RULES: tuple[str, ...] = (
    "unbalanced_quotes",
    "joined_fragments",
    "narrative",
    "data_reference",
    "restates_pair",
    "too_long",
)


def _checks(max_words: int) -> dict[str, Callable[[str], bool]]:
    return {
        "unbalanced_quotes": _unbalanced_quotes,
        "joined_fragments": lambda t: bool(_JOINED.search(t)),
        "narrative": lambda t: bool(_NARRATIVE.search(t)),
        "data_reference": lambda t: bool(_DATA.search(t)),
        "restates_pair": lambda t: bool(_PAIR.search(t)),
        "too_long": lambda t: len(t.split()) > max_words,
    }


def validity_rules(tail: str, *, max_words: int = 10) -> list[str]:
    """Every rule ``tail`` breaks, in :data:`VALIDITY_RULES` order (empty: a well-formed phrase)."""
    return [name for name, check in _checks(max_words).items() if check(tail)]


def first_rule(tail: str, *, max_words: int = 10) -> str | None:
    """The first rule ``tail`` breaks, or ``None``."""
    for name, check in _checks(max_words).items():
        if check(tail):
            return name
    return None


class ValidityFilter:
    """Drops tails that are not a well-formed intention phrase (see the module docstring)."""

    name = "validity"
    per_candidate = True  # each candidate's fate depends on it alone: mappable

    def __init__(self, *, max_words: int = 10) -> None:
        self.max_words = max_words

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        t0 = time.perf_counter()
        kept: list[Candidate] = []
        dropped: list[Dropped] = []
        for c in candidates:
            rule = first_rule(c.tail, max_words=self.max_words)
            if rule is None:
                kept.append(c)
            else:
                dropped.append(Dropped(c, rule))
        report = StageReport(
            self.name,
            len(candidates),
            len(kept),
            {"rules": list(VALIDITY_RULES), "max_words": self.max_words},
            dropped,
            time.perf_counter() - t0,
        )
        return StageResult(kept, report, {})
