"""Load refined triples (and behaviour) into the graph: batched, idempotent, resumable.

Every write is a ``MERGE`` inside ``UNWIND $rows`` batches, so loading the same file
twice gives the same graph. Knowledge edges remember which behaviour pairs they came
from (``sources``); a pair already recorded on an edge adds nothing to its frequency the
second time. Each load is a :LoadRun node (see :mod:`cosmo.kg.versions`) that records a
checkpoint after every batch: after a crash, the same command resumes from there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.manifest import file_digest
from cosmo.core.schema import label, query_key, relation_type
from cosmo.kg.batches import LazyRows, Planned, run_batches
from cosmo.kg.store import GraphStore, WriteSummary
from cosmo.kg.validate import RowError, read_triples
from cosmo.kg.versions import begin_run, checkpoint, finish_run

__all__ = [
    "LoadReport",
    "WriteStep",
    "load_behaviour",
    "load_triples",
    "load_triples_file",
    "plan_writes",
]

Progress = Callable[[int], None]

_KEY = {"Product": "id", "Query": "key"}

Q_PRODUCTS = """UNWIND $rows AS row
MERGE (p:Product {id: row.id})
ON CREATE SET p.created_run = $run
SET p.title = coalesce(row.title, p.title), p.type = coalesce(row.type, p.type),
    p.domain = coalesce(row.domain, p.domain)"""
Q_QUERIES = """UNWIND $rows AS row
MERGE (q:Query {key: row.key})
ON CREATE SET q.text = row.text, q.created_run = $run"""
Q_INTENTIONS = """UNWIND $rows AS row
MERGE (i:Intention {id: row.id})
ON CREATE SET i.text = row.text, i.tail_type = row.tail_type, i.aliases = [], i.created_run = $run
SET i.aliases = i.aliases + [a IN row.aliases WHERE NOT a IN i.aliases AND a <> i.text]"""
Q_SEARCH_BUY = """UNWIND $rows AS row
MATCH (q:Query {key: row.q})
MATCH (p:Product {id: row.p})
MERGE (q)-[r:SEARCH_BUY]->(p)
ON CREATE SET r.count = row.count, r.created_run = $run
SET r.count = CASE WHEN row.exact THEN row.count ELSE r.count END"""
Q_CO_BUY = """UNWIND $rows AS row
MATCH (a:Product {id: row.a})
MATCH (b:Product {id: row.b})
MERGE (a)-[r:CO_BUY]->(b)
ON CREATE SET r.count = row.count, r.created_run = $run
SET r.count = CASE WHEN row.exact THEN row.count ELSE r.count END"""


def knowledge_query(head_label: str, relation: str) -> str:
    """The MERGE for one (head label, relation); both are checked against the schema first."""
    lbl, rel = label(head_label), relation_type(relation)
    if lbl not in _KEY:
        raise InputError(f"knowledge edges start at Product or Query, not {lbl}")
    return f"""UNWIND $rows AS row
MATCH (h:{lbl} {{{_KEY[lbl]}: row.h}})
MATCH (i:Intention {{id: row.i}})
MERGE (h)-[r:{rel}]->(i)
ON CREATE SET r.created_run = $run, r.created_seq = $seq, r.created_at = $now,
    r.sources = [], r.frequency = 0, r.plausibility = row.pl, r.typicality = row.ty
WITH r, row, [p IN row.pairs WHERE NOT p[0] IN r.sources] AS fresh
SET r.sources = r.sources + [p IN fresh | p[0]],
    r.frequency = r.frequency + reduce(acc = 0, p IN fresh | acc + p[1]),
    r.plausibility = CASE WHEN row.pl > r.plausibility THEN row.pl ELSE r.plausibility END,
    r.typicality = CASE WHEN row.ty IS NULL THEN r.typicality
                        WHEN r.typicality IS NULL OR row.ty > r.typicality THEN row.ty
                        ELSE r.typicality END,
    r.model = coalesce(r.model, row.model), r.pipeline_run = coalesce(r.pipeline_run, row.prun),
    r.updated_run = $run"""


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


@dataclass
class LoadReport:
    """What a load did."""

    run_id: str
    seq: int
    file: str | None
    rows: int
    loaded_rows: int
    errors: list[RowError] = field(default_factory=list)
    written: WriteSummary = field(default_factory=WriteSummary)
    batches: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, where measured

    @property
    def rejected(self) -> int:
        return len(self.errors)


def _none(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v


def _aliases(v: Any) -> list[str]:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return []
    if isinstance(v, str):
        return [a.strip() for a in v.split("|") if a.strip()]
    return [str(a) for a in v]


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
                "model": _none(model[j]),
                "prun": _none(prun[j]),
            }
            for j in range(first + a, first + b)
        ]

    return build


def iter_plan(good: pd.DataFrame) -> Iterator[WriteStep]:
    """Turn validated triples into (query, rows) steps, aggregated and deterministically ordered.

    A generator: the loader sends the first steps while the later ones are being planned.
    """
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
    g = g.assign(qkey=qkey, pair=pair)
    # products: targets always, sources of co-buys
    prod = pd.concat(
        [
            pd.DataFrame(
                {
                    "id": g["target"],
                    "title": g["target_title"],
                    "type": g["target_type"],
                    "domain": g["target_domain"],
                }
            ),
            pd.DataFrame(
                {
                    "id": g.loc[~sb, "source"],
                    "title": g.loc[~sb, "source_title"],
                    "type": pd.NA,
                    "domain": pd.NA,
                }
            ),
        ]
    )
    prod = (
        prod.sort_values(["id", "title"], na_position="last")
        .drop_duplicates("id")
        .sort_values("id")
    )
    pcols = [prod[c].astype(object) for c in ("id", "title", "type", "domain")]
    pcols = [c.where(c.notna(), None) for c in pcols]
    yield WriteStep(
        "products",
        Q_PRODUCTS,
        [
            {"id": i, "title": t, "type": ty, "domain": d}
            for i, t, ty, d in zip(*(c.tolist() for c in pcols), strict=True)
        ],
    )
    if sb.any():
        qs = g.loc[sb, ["qkey", "source"]].drop_duplicates("qkey").sort_values("qkey")
        yield WriteStep(
            "queries",
            Q_QUERIES,
            [{"key": k, "text": t} for k, t in zip(qs["qkey"], qs["source"], strict=True)],
        )
    g["iid"] = g["intention_id"].fillna(pd.Series([None] * len(g), index=g.index, dtype="object"))
    from cosmo.core.schema import intention_id

    missing = g["iid"].isna()
    if missing.any():
        cache: dict[tuple[str, str], str] = {}
        tails, types = g.loc[missing, "tail"].tolist(), g.loc[missing, "tail_type"].tolist()
        g.loc[missing, "iid"] = [
            cache.get((t, tt)) or cache.setdefault((t, tt), intention_id(t, tt))
            for t, tt in zip(tails, types, strict=True)
        ]

    ints = g[["iid", "tail", "tail_type", "aliases"]].sort_values(["iid", "tail"], kind="stable")
    first = ints.drop_duplicates("iid")
    forms = ints.drop_duplicates(["iid", "tail"])
    # aliases: the other spellings of an intention, and any given; most intentions have none
    several = forms["iid"].duplicated(keep=False)
    extra: dict[str, set[str]] = {}
    for iid, tail in zip(forms.loc[several, "iid"], forms.loc[several, "tail"], strict=True):
        extra.setdefault(iid, set()).add(tail)
    given = ints["aliases"].notna()
    if given.any():
        for iid, v in zip(ints.loc[given, "iid"], ints.loc[given, "aliases"], strict=True):
            extra.setdefault(iid, set()).update(_aliases(v))
    rows_i = [
        {
            "id": iid,
            "text": t,
            "tail_type": tt,
            "aliases": sorted(extra[iid] - {t}) if iid in extra else [],
        }
        for iid, t, tt in zip(first["iid"], first["tail"], first["tail_type"], strict=True)
    ]
    yield WriteStep("intentions", Q_INTENTIONS, rows_i)
    # behaviour edges implied by the triples (count 1 unless behaviour files say more)
    if sb.any():
        e = g.loc[sb, ["qkey", "target"]].drop_duplicates().sort_values(["qkey", "target"])
        yield WriteStep(
            "search_buy",
            Q_SEARCH_BUY,
            [
                {"q": q, "p": p, "count": 1, "exact": False}
                for q, p in zip(e["qkey"], e["target"], strict=True)
            ],
        )
    if (~sb).any():
        ab = g.loc[~sb, ["source", "target"]]
        lo = ab.min(axis=1)
        hi = ab.max(axis=1)
        e = pd.DataFrame({"a": lo, "b": hi}).drop_duplicates().sort_values(["a", "b"])
        yield WriteStep(
            "co_buy",
            Q_CO_BUY,
            [
                {"a": a, "b": b, "count": 1, "exact": False}
                for a, b in zip(e["a"], e["b"], strict=True)
            ],
        )
    # knowledge edges: both members of each pair point at the intention
    heads = pd.concat(
        [
            g.assign(hl=sb.map({True: "Query", False: "Product"}), h=g["qkey"]),
            g.assign(hl="Product", h=g["target"]),
        ]
    )
    per_pair = (
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
        "model": edges["model"].map(_none).to_numpy(dtype=object),
        "prun": edges["prun"].map(_none).to_numpy(dtype=object),
    }
    bounds_arr = np.asarray(bounds, dtype=np.int64)
    pairs_arr, fr_arr = np.asarray(pairs_col, dtype=object), np.asarray(fr_col, dtype=np.int64)
    for (hl, rel), grp in edges.groupby(["hl", "relation"], sort=True):
        e0, n = int(grp.index[0]), len(grp)
        build = _knowledge_rows(cols, bounds, pairs_col, fr_col, e0)
        columns = {k: v[e0 : e0 + n] for k, v in arrays.items()}
        columns.update(bounds=bounds_arr[e0 : e0 + n + 1], pairs=pairs_arr, fr=fr_arr)
        yield WriteStep(
            "knowledge",
            knowledge_query(str(hl), str(rel)),
            LazyRows(n, build),
            str(hl),
            str(rel),
            columns,
        )


def plan_writes(good: pd.DataFrame) -> list[WriteStep]:
    """All steps of :func:`iter_plan` at once."""
    return list(iter_plan(good))


def load_triples(
    store: GraphStore,
    good: pd.DataFrame,
    *,
    batch_size: int = 5000,
    source: str | None = None,
    digest: str | None = None,
    errors: list[RowError] | None = None,
    total_rows: int | None = None,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
) -> LoadReport:
    """Write validated triples (from :func:`~cosmo.kg.validate.validate_triples`)."""
    import time

    t0 = time.perf_counter()
    run_params = {"batch_size": batch_size, "file": source, "rows": len(good)}
    # the number of batches is known once planning (on the batch thread) is done
    run = begin_run(store, digest=digest or "inline", params=run_params, total_batches=0)
    report = LoadReport(
        run.id,
        run.seq,
        source,
        total_rows or len(good),
        len(good),
        errors or [],
        batches=run.total_batches,
        resumed_from=run.done_batches,
    )
    report.written += run.counts
    params = {"run": run.id, "seq": run.seq, "now": datetime.now(UTC).isoformat()}
    steps = ((st.cypher, st.rows) for st in iter_plan(good)) if len(good) else iter(())
    total: int | None = None
    done = run.done_batches
    for event in run_batches(
        store, steps, batch_size=batch_size, params=params, skip_batches=run.done_batches
    ):
        if isinstance(event, Planned):
            total = report.batches = event.batches
            if on_total:
                on_total(event.rows)
            continue
        batch, s = event
        if s is not None:
            report.written += s
            report.written.rows.clear()
            done = batch.number
            checkpoint(store, run.id, done, report.written, total_batches=total)
            total = None  # recorded
        if progress:
            progress(batch.size)
    if total is not None:  # no batch was written after planning finished
        checkpoint(store, run.id, done, report.written, total_batches=total)
    report.seconds = time.perf_counter() - t0
    finish_run(store, run.id, report.written, rejected=report.rejected, loaded=report.loaded_rows)
    return report


def load_triples_file(
    store: GraphStore,
    path: Path,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    max_rejected: float = 1.0,
) -> LoadReport:
    """Validate a triples file, then load its good rows. Bad rows are reported, not loaded.

    Raises :class:`InputError` before writing anything when the file cannot be read, lacks a
    required column, or more than ``max_rejected`` (a fraction) of its rows are bad.
    """
    path = Path(path)
    checked = read_triples(path)
    if checked.total and len(checked.errors) / checked.total > max_rejected:
        raise InputError(
            f"{len(checked.errors)} of {checked.total} rows are invalid (first: {checked.errors[0]}); nothing was loaded",
            file=str(path),
        )
    if checked.frame.empty:
        first = checked.errors[0] if checked.errors else "no rows"
        raise InputError(
            f"no valid rows (first problem: {first}); nothing was loaded", file=str(path)
        )
    digest = json.dumps({"file": file_digest(path), "batch": batch_size})
    return load_triples(
        store,
        checked.frame,
        batch_size=batch_size,
        source=str(path),
        digest=digest,
        errors=checked.errors,
        total_rows=checked.total,
        progress=progress,
        on_total=on_total,
    )


def load_behaviour(
    store: GraphStore,
    *,
    products: pd.DataFrame | None = None,
    search_buy: pd.DataFrame | None = None,
    co_buy: pd.DataFrame | None = None,
    batch_size: int = 5000,
) -> WriteSummary:
    """Load a catalogue and behaviour counts (ingest's normalised frames); counts are set, not added.

    ``products``: product_id, title, product_type, domain; ``search_buy``: query, product_id,
    count; ``co_buy``: product_a, product_b, count.
    """
    total = WriteSummary()
    run = {"run": "behaviour"}
    if products is not None and len(products):
        rows = [
            {
                "id": str(r["product_id"]),
                "title": _none(r.get("title")),
                "type": _none(r.get("product_type")),
                "domain": _none(r.get("domain")),
            }
            for r in products.to_dict("records")
        ]
        for s in store.write_batches(Q_PRODUCTS, rows, batch_size=batch_size, extra=run):
            total += s
    if search_buy is not None and len(search_buy):
        sbq = search_buy.assign(key=search_buy["query"].map(query_key))
        qrows = [
            {"key": k, "text": t}
            for k, t in sbq[["key", "query"]].drop_duplicates("key").itertuples(index=False)
        ]
        for s in store.write_batches(Q_QUERIES, qrows, batch_size=batch_size, extra=run):
            total += s
        agg = sbq.groupby(["key", "product_id"], sort=True)["count"].sum().reset_index()
        erows = [
            {"q": k, "p": str(p), "count": int(c), "exact": True}
            for k, p, c in agg.itertuples(index=False)
        ]
        for s in store.write_batches(Q_SEARCH_BUY, erows, batch_size=batch_size, extra=run):
            total += s
    if co_buy is not None and len(co_buy):
        a = co_buy["product_a"].astype(str)
        b = co_buy["product_b"].astype(str)
        cb = pd.DataFrame(
            {"a": a.where(a < b, b), "b": b.where(a < b, a), "count": co_buy["count"]}
        )
        agg = cb.groupby(["a", "b"], sort=True)["count"].sum().reset_index()
        rows = [
            {"a": x, "b": y, "count": int(c), "exact": True}
            for x, y, c in agg.itertuples(index=False)
        ]
        for s in store.write_batches(Q_CO_BUY, rows, batch_size=batch_size, extra=run):
            total += s
    total.rows.clear()
    return total
