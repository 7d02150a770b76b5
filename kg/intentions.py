"""Intentions that persist across loads: a new tail joins the nearest existing Intention.

Refinement resolves paraphrases within one run (:mod:`cosmo.refine.similarity`); this
module does it across loads. Before a load writes anything, :meth:`IntentionMatcher.match`
takes the load's intentions that are not in the graph yet and, for each:

1. an exact alias: a tail whose normalised text is already an alias of an Intention of the
   same tail type joins that Intention (this is what makes a reload add nothing);
2. else its nearest Intention of the same tail type through the vector index on
   ``Intention.text_embedding`` (MiniLM of the node's text, cosine): at a similarity of
   ``threshold`` or more the tail joins it.

A tail that joins keeps no node of its own: its edges point at the existing id and its text
(and its own aliases) are added to that node's ``aliases``. Any relation may share an
Intention of the same tail type, as the ids do (``core.schema.intention_id``). Only nodes from
earlier loads are candidates (not those of the running load, so a resumed run plans the same
writes) and tails of one load are not matched with each other (refinement did that). Ties go
to the smaller id, so the result is deterministic. Vectors are written when a later load needs
them: a matched load first embeds the earlier Intentions that have none yet (those of the load
before it, of first builds, of loads without matching; :meth:`IntentionMatcher.embed_missing`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pandas as pd

from cosmo.core.embeddings import Embedder, TextVectors
from cosmo.core.schema import intention_id
from cosmo.kg.settings import DEFAULT_THRESHOLD
from cosmo.kg.store import GraphStore, batched

__all__ = ["INTENTION_VECTOR", "AliasAddition", "IntentionMatcher", "Matching"]

INTENTION_VECTOR = "text_embedding"
"""The Intention property holding the embedding of its text (indexed for cosine search)."""


@dataclass(frozen=True)
class AliasAddition:
    """A tail that joined an existing Intention as a new alias, with its cosine ``score``."""

    intention: str
    text: str
    alias: str
    score: float


@dataclass
class Matching:
    """New intention id → the existing id it joins, and what that adds to aliases."""

    remap: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # existing id → its text
    additions: list[AliasAddition] = field(default_factory=list)

    def records(self) -> list[dict[str, object]]:
        return [asdict(a) for a in self.additions]


def _forms(g: pd.DataFrame) -> pd.DataFrame:
    """One row per intention id of a load: its first tail and its tail type."""
    cols = g[["iid", "tail", "tail_type"]].sort_values(["iid", "tail"], kind="stable")
    return cols.drop_duplicates("iid").reset_index(drop=True)


class IntentionMatcher:
    """Matches a load's new intentions to existing ones (see the module docstring).

    Args:
        embedder: turns texts into unit vectors (MiniLM by default at the CLI); nothing is
            loaded until the first text is embedded.
        threshold: the cosine at or above which a new tail joins an existing Intention.
        k: neighbours asked of the vector index per tail (those of other tail types are
            skipped, so a few more than one).
    """

    def __init__(self, embedder: Embedder, *, threshold: float = DEFAULT_THRESHOLD, k: int = 10):
        self.vectors = TextVectors(embedder)
        self.threshold = threshold
        self.k = k

    def ensure_index(self, store: GraphStore) -> None:
        store.create_vector_index("Intention", INTENTION_VECTOR, self.vectors.embedder.dim)

    def embed_missing(
        self, store: GraphStore, *, but_run: str | None = None, batch_size: int = 1000
    ) -> int:
        """Give every Intention without a text vector one (but those the run ``but_run``
        created); returns how many were written."""
        rows = store.query(
            f"MATCH (i:Intention) WHERE i.{INTENTION_VECTOR} IS NULL "
            "AND coalesce(i.created_run, '') <> $run "
            "RETURN i.id AS id, i.text AS text ORDER BY id",
            {"run": but_run or ""},
        )
        done = 0
        for batch in batched(rows, batch_size):
            vecs = self.vectors([r["text"] for r in batch])
            pairs = [(r["id"], vecs[n].tolist()) for n, r in enumerate(batch)]
            done += store.write_vectors("Intention", INTENTION_VECTOR, pairs)
        return done

    def match(self, store: GraphStore, g: pd.DataFrame, run_id: str) -> Matching:
        """``g``: the load's triples with their intention ids (``iid``, ``tail``, ``tail_type``)."""
        forms = _forms(g)
        old = _existing(store, forms["iid"].tolist(), run_id)
        new = forms[~forms["iid"].isin(old)]
        out = Matching()
        if new.empty:
            return out
        by_alias = _alias_owners(store, sorted(set(new["tail_type"])), run_id)
        rest = []
        for iid, tail, tt in new.itertuples(index=False):
            owner = by_alias.get(intention_id(tail, tt))
            if owner is not None:  # already an alias: joins it, adds nothing
                out.remap[iid] = owner[0]
                out.texts[owner[0]] = owner[1]
            else:
                rest.append((iid, tail, tt))
        self._nearest(store, rest, run_id, out)
        return out

    def _nearest(
        self, store: GraphStore, rest: list[tuple[str, str, str]], run_id: str, out: Matching
    ) -> None:
        present = _types_with_vectors(store, run_id)
        rest = [r for r in rest if r[2] in present]  # nothing to join in a type without nodes
        if not rest:
            return
        vecs = self.vectors([t for _, t, _ in rest])
        hits = store.vector_nearest(
            "Intention",
            INTENTION_VECTOR,
            ((iid, vecs[n].tolist()) for n, (iid, _, _) in enumerate(rest)),
            self.k,
            returns="{text: node.text, tail_type: node.tail_type, run: node.created_run}",
        )
        best: dict[str, dict[str, object]] = {}
        want = {iid: tt for iid, _, tt in rest}
        for h in hits:  # best first per source
            node = h["node"]
            if h["source"] in best or node["tail_type"] != want[h["source"]]:
                continue
            if node["run"] != run_id and h["id"] != h["source"]:
                best[h["source"]] = h
        for iid, tail, _ in rest:
            h = best.get(iid)
            if h is not None and float(h["score"]) >= self.threshold:  # type: ignore[arg-type]
                target, text = str(h["id"]), str(h["node"]["text"])  # type: ignore[index]
                out.remap[iid] = target
                out.texts[target] = text
                out.additions.append(
                    AliasAddition(target, text, tail, round(float(h["score"]), 4))  # type: ignore[arg-type]
                )


def _existing(store: GraphStore, ids: Iterable[str], run_id: str) -> set[str]:
    """The ids that are Intention nodes of earlier loads."""
    found: set[str] = set()
    for batch in batched(ids, 5000):
        rows = store.query(
            "UNWIND $ids AS k MATCH (i:Intention {id: k}) "
            "WHERE coalesce(i.created_run, '') <> $run RETURN i.id AS id",
            {"ids": list(batch), "run": run_id},
        )
        found.update(r["id"] for r in rows)
    return found


def _types_with_vectors(store: GraphStore, run_id: str) -> set[str]:
    """The tail types of the earlier Intentions that have a text vector."""
    rows = store.query(
        f"MATCH (i:Intention) WHERE i.{INTENTION_VECTOR} IS NOT NULL "
        "AND coalesce(i.created_run, '') <> $run RETURN DISTINCT i.tail_type AS tt",
        {"run": run_id},
    )
    return {r["tt"] for r in rows}


def _alias_owners(store: GraphStore, types: list[str], run_id: str) -> dict[str, tuple[str, str]]:
    """``intention_id(alias, tail type)`` → (id, text) of the earlier Intention holding it."""
    rows = store.query(
        "MATCH (i:Intention) WHERE i.tail_type IN $types AND size(i.aliases) > 0 "
        "AND coalesce(i.created_run, '') <> $run "
        "RETURN i.id AS id, i.text AS text, i.tail_type AS tt, i.aliases AS aliases ORDER BY id",
        {"types": types, "run": run_id},
    )
    out: dict[str, tuple[str, str]] = {}
    for r in rows:
        for a in r["aliases"]:
            out.setdefault(intention_id(a, r["tt"]), (r["id"], r["text"]))
    return out
