"""Load refined triples (and behaviour) into the graph: batched, idempotent, resumable.

The writes are ``MERGE`` queries (:mod:`cosmo.kg.queries`) in ``UNWIND $rows`` batches,
planned by :mod:`cosmo.kg.planner`, so loading the same file twice gives the same graph.
This module drives them: each load is a :LoadRun node (see :mod:`cosmo.kg.versions`) that
records a checkpoint after every batch, so after a crash the same command resumes from
there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.manifest import file_digest
from cosmo.core.schema import query_key
from cosmo.core.text import control_rows
from cosmo.kg.batches import Planned, run_batches
from cosmo.kg.derived import DerivedCounts, refresh_after_load
from cosmo.kg.intentions import IntentionMatcher, Matching
from cosmo.kg.planner import ProductKnowledge, intention_ids, iter_plan, none_if_missing
from cosmo.kg.queries import Q_CO_BUY, Q_PRODUCTS, Q_QUERIES, Q_SEARCH_BUY
from cosmo.kg.store import GraphStore, WriteSummary
from cosmo.kg.validate import RowError, read_triples, refuse_if_too_many
from cosmo.kg.versions import begin_run, checkpoint, finish_run, record_aliases

__all__ = ["LoadReport", "load_behaviour", "load_triples", "load_triples_file"]

Progress = Callable[[int], None]


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
    aliases_added: int = 0  # tails matched to existing Intentions (kg.intentions)
    derived: DerivedCounts = field(default_factory=DerivedCounts)  # derived query edges

    @property
    def rejected(self) -> int:
        return len(self.errors)


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
    matcher: IntentionMatcher | None = None,
) -> LoadReport:
    """Write validated triples (from :func:`~cosmo.kg.validate.validate_triples`).

    With a ``matcher``, tails that paraphrase an Intention of an earlier load join it
    (:mod:`cosmo.kg.intentions`); the run records the aliases that adds.
    """
    t0 = time.perf_counter()
    run_params = {"batch_size": batch_size, "file": source, "rows": len(good)}
    if matcher is not None:
        run_params["intention_threshold"] = matcher.threshold
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
    matching = (
        _match(store, good, run.id, matcher, report.phases) if matcher and len(good) else None
    )
    report.aliases_added = len(matching.additions) if matching else 0
    touched = ProductKnowledge()
    plan = touched.seen(iter_plan(good, matching))
    steps = ((st.cypher, st.rows) for st in plan) if len(good) else iter(())
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
    # derived query → intention edges and intention product counts of what this load wrote
    t1 = time.perf_counter()
    report.derived = refresh_after_load(
        store, run.id, run.seq, params["now"], touched=(touched.products, touched.intentions)
    )
    report.seconds = time.perf_counter() - t0
    report.phases.update({"plan+writes": t1 - t0, "derived": report.seconds - (t1 - t0)})
    finish_run(store, run.id, report.written, rejected=report.rejected, loaded=report.loaded_rows)
    return report


def _match(
    store: GraphStore,
    good: pd.DataFrame,
    run_id: str,
    matcher: IntentionMatcher,
    phases: dict[str, float],
) -> Matching:
    """Match the load's new tails to earlier Intentions and record the aliases on the run."""
    t0 = time.perf_counter()
    matcher.ensure_index(store)
    matcher.embed_missing(store, but_run=run_id)  # earlier Intentions without a vector yet
    t1 = time.perf_counter()
    matching = matcher.match(store, intention_ids(good), run_id)
    record_aliases(store, run_id, matching.records())
    phases.update({"earlier intention vectors": t1 - t0, "matching": time.perf_counter() - t1})
    return matching


def load_triples_file(
    store: GraphStore,
    path: Path,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    max_rejected: float = 1.0,
    matcher: IntentionMatcher | None = None,
) -> LoadReport:
    """Validate a triples file, then load its good rows. Bad rows are reported, not loaded.

    Raises :class:`InputError` before writing anything when the file cannot be read or lacks a
    required column, and :class:`~cosmo.kg.validate.RejectedFile` (with every bad row) when no
    row is good or more than ``max_rejected`` (a fraction) of its rows are bad.
    """
    path = Path(path)
    checked = read_triples(path)
    refuse_if_too_many(checked, path, max_rejected=max_rejected)
    key: dict[str, object] = {"file": file_digest(path), "batch": batch_size}
    if matcher is not None:  # matching changes the plan, so a resume must match alike
        key["intention_threshold"] = matcher.threshold
    digest = json.dumps(key)
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
        matcher=matcher,
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
    count; ``co_buy``: product_a, product_b, count. A value holding a control character
    (:mod:`cosmo.core.text`) is refused before anything is written, naming frame, row and column.
    """
    for name, frame in (("products", products), ("search_buy", search_buy), ("co_buy", co_buy)):
        bad = control_rows(frame) if frame is not None else {}
        if bad:
            row = min(bad)
            col, found = bad[row]
            raise InputError(f"row {row + 1}: {found.message}", file=name, field=col)
    total = WriteSummary()
    run = {"run": "behaviour"}
    if products is not None and len(products):
        rows = [
            {
                "id": str(r["product_id"]),
                "title": none_if_missing(r.get("title")),
                "type": none_if_missing(r.get("product_type")),
                "domain": none_if_missing(r.get("domain")),
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
