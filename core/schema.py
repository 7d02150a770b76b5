"""The knowledge-graph schema: node labels, behaviour edges and the 15 COSMO relations.

::

    (:Query {key, text})-[:SEARCH_BUY {count}]->(:Product {id, title, type, domain, ...})
    (:Product)-[:CO_BUY {count}]->(:Product)                 stored once, a.id < b.id
    (:Query|:Product)-[:<RELATION> {plausibility, typicality, frequency,
                                    sources, model, pipeline_run,
                                    created_run, created_seq, updated_run, created_at}]
        ->(:Intention {id, text, tail_type, aliases})
    (:LoadRun {id, seq, status, ...})                         one node per load (versions)

Both members of a behaviour pair get the knowledge edge, so "query → intentions →
products" and "product → intentions → products" are each one traversal::

    MATCH (q:Query {key: $k})-[r]->(i:Intention)<-[r2]-(p:Product) ...

``sources`` lists the pair keys (``sb:<query key>|<product id>`` or ``cb:<a>|<b>``) an
edge came from, so every edge's provenance is recoverable.

Labels and relation types are only ever put into query text after
:func:`relation_type`/:func:`label` have checked them against this module.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from enum import StrEnum

from cosmo.core.errors import SchemaError

__all__ = [
    "BEHAVIOUR_EDGES",
    "LABELS",
    "NODE_KEYS",
    "RELATIONS",
    "RELATION_TAIL_TYPES",
    "Behaviour",
    "intention_id",
    "label",
    "normalise_text",
    "pair_key",
    "query_key",
    "relation_type",
]


class Behaviour(StrEnum):
    """The kind of behaviour pair a piece of knowledge explains."""

    SEARCH_BUY = "search_buy"
    CO_BUY = "co_buy"


RELATIONS: tuple[str, ...] = (
    "USED_FOR_FUNC",
    "USED_FOR_EVE",
    "USED_FOR_AUD",
    "CAPABLE_OF",
    "USED_TO",
    "USED_AS",
    "IS_A",
    "USED_ON",
    "USED_IN_LOC",
    "USED_IN_BODY",
    "USED_WITH",
    "USED_BY",
    "xINTERESTED_IN",
    "xIS_A",
    "xWANT",
)
"""The 15 COSMO relations (SIGMOD 2024, Table 1)."""

RELATION_TAIL_TYPES: dict[str, str] = {
    "USED_FOR_FUNC": "function",
    "USED_FOR_EVE": "event",
    "USED_FOR_AUD": "audience",
    "CAPABLE_OF": "capability",
    "USED_TO": "activity",
    "USED_AS": "role",
    "IS_A": "category",
    "USED_ON": "time",
    "USED_IN_LOC": "location",
    "USED_IN_BODY": "body_part",
    "USED_WITH": "complement",
    "USED_BY": "user",
    "xINTERESTED_IN": "interest",
    "xIS_A": "persona",
    "xWANT": "want",
}
"""Default tail type of each relation, used to group navigation facets."""

LABELS: tuple[str, ...] = ("Product", "Query", "Intention", "LoadRun")
NODE_KEYS: dict[str, str] = {"Product": "id", "Query": "key", "Intention": "id", "LoadRun": "id"}
"""The unique key property of each node label."""
BEHAVIOUR_EDGES: tuple[str, ...] = ("SEARCH_BUY", "CO_BUY")

_RELATIONS_BY_UPPER = {r.upper(): r for r in RELATIONS}


def relation_type(name: str) -> str:
    """Return the canonical relation type for ``name`` or raise :class:`SchemaError`.

    Accepts any case (``used_for_aud``, ``xwant``). Nothing else reaches query text.
    """
    if not isinstance(name, str):
        raise SchemaError(f"relation must be text, got {type(name).__name__}")
    canon = _RELATIONS_BY_UPPER.get(name.strip().upper())
    if canon is None:
        shown = name if len(name) <= 60 else name[:57] + "..."
        raise SchemaError(
            f"unknown relation {shown!r}; expected one of: {', '.join(RELATIONS)}", field="relation"
        )
    return canon


def label(name: str) -> str:
    """Return ``name`` if it is a node label of the schema, else raise :class:`SchemaError`."""
    if name not in LABELS:
        raise SchemaError(f"unknown node label {name!r}; expected one of: {', '.join(LABELS)}")
    return name


_SPACE = re.compile(r"\s+")
_PUNCT_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def normalise_text(text: str) -> str:
    """Unicode-normalise, lower-case, collapse white space and trim punctuation at the ends."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = _SPACE.sub(" ", t).strip()
    return _PUNCT_EDGES.sub("", t)


def query_key(text: str) -> str:
    """The key of a :Query node: its normalised text."""
    return normalise_text(text)


def intention_id(tail: str, tail_type: str) -> str:
    """Canonical id of an intention: tail type plus a short hash of the normalised tail."""
    norm = normalise_text(tail)
    digest = hashlib.blake2b(f"{tail_type}\x1f{norm}".encode(), digest_size=8).hexdigest()
    return f"{tail_type}:{digest}"


def pair_key(behaviour: Behaviour | str, source: str, target: str) -> str:
    """Provenance key of a behaviour pair (co-buy pairs are unordered)."""
    b = Behaviour(behaviour)
    if b is Behaviour.SEARCH_BUY:
        return f"sb:{query_key(source)}|{target}"
    a, c = sorted((source, target))
    return f"cb:{a}|{c}"
