"""Plan a load: validated triples → the ordered writes (query and rows) that make the graph.

:func:`iter_plan` runs the phases in order, each a function of the triples frame:

1. :func:`_prepared`: query keys and behaviour-pair keys, column-wise;
2. :func:`_products`: targets always, sources of co-buys, one row per id;
3. :func:`_queries`: one row per query key;
4. :func:`_with_intention_ids` and :func:`_intentions`: the canonical intention of each
   triple, its text and its aliases (the other spellings);
5. :func:`_behaviour_edges`: the search-buy and co-buy edges the triples imply;
6. :func:`_knowledge`: one step per (head label, relation); both members of a behaviour
   pair point at the intention, with the pairs and their frequencies as provenance.

Every step is aggregated and sorted, so a plan is deterministic. Knowledge rows are built a
batch at a time (:class:`~cosmo.kg.batches.LazyRows`) on the loader's worker thread, and
each knowledge step also carries its data column-wise for the bulk path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.schema import intention_id, query_key
from cosmo.kg.batches import LazyRows
from cosmo.kg.intentions import Matching
from cosmo.kg.queries import (
    Q_CO_BUY,
    Q_INTENTIONS,
    Q_PRODUCTS,
    Q_QUERIES,
    Q_SEARCH_BUY,
    knowledge_query,
)

__all__ = ["WriteStep", "intention_ids", "iter_plan", "none_if_missing", "plan_writes"]


@dataclass(frozen=True)
class WriteStep:
    """One kind of write: its query and its rows (already aggregated and sorted)."""

    kind: str  # products | queries | intentions | search_buy | co_buy | knowledge
    cypher: str
    rows: Sequence[dict[str, Any]]  # a list, or LazyRows built a batch at a time
    head_label: str | None = None
    relation: str | None = None
    # knowledge steps: the same data column-wise (numpy), for the bulk path
    columns: dict[str, Any] | None = None


def none_if_missing(v: Any) -> Any:
    """``None`` for a missing value (None, NaN, ``pd.NA``), else the value."""
    return None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v


def _aliases(v: Any) -> list[str]:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return []
    if isinstance(v, str):
        return [a.strip() for a in v.split("|") if a.strip()]
    return [str(a) for a in v]


def _prepared(good: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The triples with ``qkey`` and ``pair`` columns, and the search-buy mask."""
    # plain Python objects iterate far faster than Arrow-backed strings in the loops below
    g = good.astype({c: object for c in good.columns if str(good[c].dtype) in ("str", "string")})
    sb = g["behaviour"] == "search_buy"
    qkey = g["source"].copy()
    if sb.any():  # normalise each distinct query text once
        texts = g.loc[sb, "source"]
        qkeys = {t: query_key(t) for t in texts.unique()}
        qkey[sb] = texts.map(qkeys)
    src, tgt = g["source"], g["target"]
    lo, hi = src.where(src <= tgt, tgt), tgt.where(src <= tgt, src)
    # the same keys as schema.pair_key, built column-wise
    pair = ("cb:" + lo + "|" + hi).where(~sb, "sb:" + qkey + "|" + tgt)
    return g.assign(qkey=qkey, pair=pair), sb


def _products(g: pd.DataFrame, sb: pd.Series) -> WriteStep:
    """Targets always, sources of co-buys; the first title of each id wins."""
    targets = pd.DataFrame(
        {
            "id": g["target"],
            "title": g["target_title"],
            "type": g["target_type"],
            "domain": g["target_domain"],
        }
    )
    sources = pd.DataFrame(
        {
            "id": g.loc[~sb, "source"],
            "title": g.loc[~sb, "source_title"],
            "type": pd.NA,
            "domain": pd.NA,
        }
    )
    prod = (
        pd.concat([targets, sources])
        .sort_values(["id", "title"], na_position="last")
        .drop_duplicates("id")
        .sort_values("id")
    )
    cols = [prod[c].astype(object) for c in ("id", "title", "type", "domain")]
    cols = [c.where(c.notna(), None) for c in cols]
    rows = [
        {"id": i, "title": t, "type": ty, "domain": d}
        for i, t, ty, d in zip(*(c.tolist() for c in cols), strict=True)
    ]
    return WriteStep("products", Q_PRODUCTS, rows)


def _queries(g: pd.DataFrame, sb: pd.Series) -> WriteStep:
    qs = g.loc[sb, ["qkey", "source"]].drop_duplicates("qkey").sort_values("qkey")
    rows = [{"key": k, "text": t} for k, t in zip(qs["qkey"], qs["source"], strict=True)]
    return WriteStep("queries", Q_QUERIES, rows)


def _with_intention_ids(g: pd.DataFrame) -> pd.DataFrame:
    """``iid``: the given intention id, or one derived from the tail and its type."""
    g["iid"] = g["intention_id"].fillna(pd.Series([None] * len(g), index=g.index, dtype="object"))
    missing = g["iid"].isna()
    if missing.any():
        cache: dict[tuple[str, str], str] = {}
        tails, types = g.loc[missing, "tail"].tolist(), g.loc[missing, "tail_type"].tolist()
        g.loc[missing, "iid"] = [
            cache.get((t, tt)) or cache.setdefault((t, tt), intention_id(t, tt))
            for t, tt in zip(tails, types, strict=True)
        ]
    return g


def _intentions(g: pd.DataFrame, known: Mapping[str, str] | None = None) -> WriteStep:
    """One row per intention: its first tail as text, the other spellings as aliases.

    ``known``: ids of existing Intentions the load's tails were matched to, with their texts
    (:mod:`cosmo.kg.intentions`); every tail of such an id becomes an alias of that text."""
    known = known or {}
    ints = g[["iid", "tail", "tail_type", "aliases"]].sort_values(["iid", "tail"], kind="stable")
    first = ints.drop_duplicates("iid")
    forms = ints.drop_duplicates(["iid", "tail"])
    # aliases: the other spellings of an intention, and any given; most intentions have none
    several = forms["iid"].duplicated(keep=False) | forms["iid"].isin(list(known))
    extra: dict[str, set[str]] = {}
    for iid, tail in zip(forms.loc[several, "iid"], forms.loc[several, "tail"], strict=True):
        extra.setdefault(iid, set()).add(tail)
    given = ints["aliases"].notna()
    if given.any():
        for iid, v in zip(ints.loc[given, "iid"], ints.loc[given, "aliases"], strict=True):
            extra.setdefault(iid, set()).update(_aliases(v))
    rows = [
        {
            "id": iid,
            "text": known.get(iid, t),
            "tail_type": tt,
            "aliases": sorted(extra[iid] - {known.get(iid, t)}) if iid in extra else [],
        }
        for iid, t, tt in zip(first["iid"], first["tail"], first["tail_type"], strict=True)
    ]
    return WriteStep("intentions", Q_INTENTIONS, rows)


def _behaviour_edges(g: pd.DataFrame, sb: pd.Series) -> Iterator[WriteStep]:
    """The behaviour edges the triples imply (count 1 unless behaviour files say more)."""
    if sb.any():
        e = g.loc[sb, ["qkey", "target"]].drop_duplicates().sort_values(["qkey", "target"])
        rows = [
            {"q": q, "p": p, "count": 1, "exact": False}
            for q, p in zip(e["qkey"], e["target"], strict=True)
        ]
        yield WriteStep("search_buy", Q_SEARCH_BUY, rows)
    if (~sb).any():
        ab = g.loc[~sb, ["source", "target"]]
        pairs = pd.DataFrame({"a": ab.min(axis=1), "b": ab.max(axis=1)})
        e = pairs.drop_duplicates().sort_values(["a", "b"])
        rows = [
            {"a": a, "b": b, "count": 1, "exact": False}
            for a, b in zip(e["a"], e["b"], strict=True)
        ]
        yield WriteStep("co_buy", Q_CO_BUY, rows)


def _per_pair(g: pd.DataFrame, sb: pd.Series) -> pd.DataFrame:
    """One row per (head label, relation, head, intention, behaviour pair)."""
    heads = pd.concat(
        [
            g.assign(hl=sb.map({True: "Query", False: "Product"}), h=g["qkey"]),
            g.assign(hl="Product", h=g["target"]),
        ]
    )
    return (
        heads.groupby(["hl", "relation", "h", "iid", "pair"], sort=True)
        .agg(
            pl=("plausibility", "max"),
            ty=("typicality", "max"),
            fr=("frequency", "max"),
            model=("model", "first"),
            prun=("pipeline_run", "first"),
        )
        .reset_index()
    )


def _knowledge_rows(
    cols: dict[str, list[Any]],
    bounds: list[int],
    pairs_col: list[str],
    fr_col: list[int],
    first: int,
) -> Callable[[int, int], list[dict[str, Any]]]:
    """Build rows ``[a, b)`` of one knowledge step (edges ``first + a`` …) from the columns."""
    h, i, pl, ty, model, prun = (cols[k] for k in ("h", "i", "pl", "ty", "model", "prun"))

    def build(a: int, b: int) -> list[dict[str, Any]]:
        return [
            {
                "h": h[j],
                "i": i[j],
                "pl": pl[j],
                "ty": None if ty[j] != ty[j] else ty[j],
                "pairs": [[pairs_col[k], fr_col[k]] for k in range(bounds[j], bounds[j + 1])],
                "model": none_if_missing(model[j]),
                "prun": none_if_missing(prun[j]),
            }
            for j in range(first + a, first + b)
        ]

    return build


def _knowledge(g: pd.DataFrame, sb: pd.Series) -> Iterator[WriteStep]:
    """Knowledge edges: both members of each pair point at the intention."""
    per_pair = _per_pair(g, sb)
    # one row per edge, its pairs as [key, frequency] lists (python-level only where it must be)
    keys = ["hl", "relation", "h", "iid"]
    edge_start = (per_pair[keys] != per_pair[keys].shift()).any(axis=1).to_numpy()
    bounds: list[int] = [*(int(x) for x in edge_start.nonzero()[0]), len(per_pair)]
    pairs_col, fr_col = per_pair["pair"].tolist(), per_pair["fr"].astype(int).tolist()
    edges = (
        per_pair.groupby(keys, sort=True)
        .agg(pl=("pl", "max"), ty=("ty", "max"), model=("model", "first"), prun=("prun", "first"))
        .reset_index()
    )
    # rows are built a batch at a time, on the loader's worker thread (see cosmo.kg.batches)
    cols = {
        "h": edges["h"].tolist(),
        "i": edges["iid"].tolist(),
        "pl": edges["pl"].astype(float).tolist(),
        "ty": edges["ty"].astype(float).tolist(),
        "model": edges["model"].tolist(),
        "prun": edges["prun"].tolist(),
    }
    arrays = {
        "h": edges["h"].to_numpy(dtype=object),
        "i": edges["iid"].to_numpy(dtype=object),
        "pl": edges["pl"].to_numpy(dtype=float),
        "ty": edges["ty"].to_numpy(dtype=float),
        "model": edges["model"].map(none_if_missing).to_numpy(dtype=object),
        "prun": edges["prun"].map(none_if_missing).to_numpy(dtype=object),
    }
    bounds_arr = np.asarray(bounds, dtype=np.int64)
    pairs_arr, fr_arr = np.asarray(pairs_col, dtype=object), np.asarray(fr_col, dtype=np.int64)
    for (hl, rel), grp in edges.groupby(["hl", "relation"], sort=True):
        e0, n = int(grp.index[0]), len(grp)
        build = _knowledge_rows(cols, bounds, pairs_col, fr_col, e0)
        columns = {k: v[e0 : e0 + n] for k, v in arrays.items()}
        columns.update(bounds=bounds_arr[e0 : e0 + n + 1], pairs=pairs_arr, fr=fr_arr)
        step_rows = LazyRows(n, build)
        yield WriteStep(
            "knowledge", knowledge_query(str(hl), str(rel)), step_rows, str(hl), str(rel), columns
        )


class ProductKnowledge:
    """The products and intentions joined by the Product-headed knowledge edges of a plan,
    gathered as its steps pass (:meth:`seen`): what a load's derived refresh starts from,
    without scanning the graph's edges for the run's mark."""

    def __init__(self) -> None:
        self.products: set[str] = set()
        self.intentions: set[str] = set()

    def seen(self, steps: Iterator[WriteStep]) -> Iterator[WriteStep]:
        for st in steps:
            if st.kind == "knowledge" and st.head_label == "Product" and st.columns is not None:
                self.products.update(st.columns["h"].tolist())
                self.intentions.update(st.columns["i"].tolist())
            yield st


def intention_ids(good: pd.DataFrame) -> pd.DataFrame:
    """The triples' ``iid``, ``tail`` and ``tail_type`` (the intention each one points at)."""
    return _with_intention_ids(good[["intention_id", "tail", "tail_type"]].copy())


def iter_plan(good: pd.DataFrame, matching: Matching | None = None) -> Iterator[WriteStep]:
    """Turn validated triples into (query, rows) steps, aggregated and deterministically ordered.

    A generator: the loader sends the first steps while the later ones are being planned.
    ``matching`` sends tails matched to existing Intentions there (:mod:`cosmo.kg.intentions`).
    """
    g, sb = _prepared(good)
    yield _products(g, sb)
    if sb.any():
        yield _queries(g, sb)
    g = _with_intention_ids(g)
    if matching is not None and matching.remap:
        g["iid"] = g["iid"].map(matching.remap).fillna(g["iid"])
    yield _intentions(g, matching.texts if matching else None)
    yield from _behaviour_edges(g, sb)
    yield from _knowledge(g, sb)


def plan_writes(good: pd.DataFrame) -> list[WriteStep]:
    """All steps of :func:`iter_plan` at once."""
    return list(iter_plan(good))
