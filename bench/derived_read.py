"""Benchmark: the derived refresh's read of its queries' edges, before and after aggregation.

    nice -n 10 python bench/derived_read.py [--sizes 1000000 3000000] [--backends falkordb neo4j]
                                            [--rounds 5]

An incremental load's refresh (``kg/derived.py``) reads, for every query that bought a
product the load wrote knowledge for, whether the query has knowledge of its own and its
derived edges. It used to read every edge of those queries, one row each (``ROW_PER_EDGE``
below, kept here as the baseline); it now gets one row per query, aggregated on the server
(``kg.derived.query_edges``). For each size and backend this builds the demo-like graph of
``bench/kg_traverse.py`` with cosmo's first build, loads the 20,000 triples
``bench/scale.py`` loads, and times both reads over the keys that load's refresh read, in
rounds of 1,000 keys as the refresh does, alternating the two ``--rounds`` times on the same
graph: the ratio is from one run, on one machine state. Both reads must give the refresh
the same direct queries and the same derived edges (checked).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kg_load import add_backend_args, backend_server, start_console
from kg_traverse import _triples, build, demo_like
from rich.table import Table

from cosmo.kg.derived import _BUYERS, DERIVED_BATCH, query_edges
from cosmo.kg.factory import open_store
from cosmo.kg.loader import load_triples_file
from cosmo.kg.planner import ProductKnowledge, iter_plan
from cosmo.kg.store import GraphStore
from cosmo.kg.validate import read_triples

ROW_PER_EDGE = (
    "UNWIND $keys AS k MATCH (q:Query {key: k})-[r]->(i:Intention) "
    "RETURN k, type(r) AS rel, i.id AS i, r.derived_from AS df, size(r.sources) AS n"
)


def row_per_edge(store: GraphStore, keys: list[str]) -> tuple[set[str], set[Any]]:
    """The baseline: every edge back, then direct queries and the edges a refresh may change."""
    rows = store.query(ROW_PER_EDGE, {"keys": keys})
    direct = {r["k"] for r in rows if int(r["n"] or 0) > 0}
    kept = {(r["k"], r["rel"], r["i"]) for r in rows if not int(r["n"] or 0) or r["df"] is not None}
    return direct, kept


def aggregated(store: GraphStore, keys: list[str]) -> tuple[set[str], set[Any]]:
    """cosmo's read (one row per query): :func:`cosmo.kg.derived.query_edges`."""
    direct, have = query_edges(store, keys)
    return direct, set(have)


def timed_read(store: GraphStore, read: Any, keys: list[str]) -> tuple[float, Any]:
    """Seconds to read every key, ``DERIVED_BATCH`` at a time; what the reads gave."""
    direct: set[str] = set()
    kept: set[Any] = set()
    t = time.perf_counter()
    for lo in range(0, len(keys), DERIVED_BATCH):
        d, k = read(store, keys[lo : lo + DERIVED_BATCH])
        direct |= d
        kept |= k
    return time.perf_counter() - t, (direct, kept)


def run_one(backend: str, size: int, rounds: int, tmp: Path, args: Any) -> dict[str, Any]:
    settings, server = backend_server(backend, tmp / backend, args, "derived")
    server.start()
    try:
        demo_like(size).to_parquet(tmp / "t.parquet")
        build(backend, settings, server, tmp / "t.parquet")
        _triples(20_000, size, seed=size + 1).to_parquet(tmp / "s.parquet")
        touched = ProductKnowledge()
        for _ in touched.seen(iter_plan(read_triples(tmp / "s.parquet").frame)):
            pass
        store = open_store(settings)
        try:
            load_triples_file(store, tmp / "s.parquet")
            buyers = store.query(_BUYERS, {"ids": sorted(touched.products)})
            keys = sorted({r["key"] for r in buyers})
            times: dict[str, list[float]] = {"row per edge": [], "aggregated": []}
            got = {}
            for _ in range(rounds):
                for name, read in (("row per edge", row_per_edge), ("aggregated", aggregated)):
                    s, got[name] = timed_read(store, read, keys)
                    times[name].append(s)
            assert got["row per edge"] == got["aggregated"], "the two reads disagree"
        finally:
            store.close()
        med = {k: statistics.median(v) for k, v in times.items()}
        return {"backend": backend, "size": size, "keys": len(keys), **med}
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000])
    ap.add_argument("--rounds", type=int, default=5)
    add_backend_args(ap)
    args = ap.parse_args()
    console = start_console()
    table = Table(title="The refresh's read of its queries' edges (median s over the rounds)")
    for c in ("backend", "rels", "queries read", "row per edge s", "aggregated s", "ratio"):
        table.add_column(c, justify="left" if c == "backend" else "right")
    for size in args.sizes:
        for backend in args.backends:
            with tempfile.TemporaryDirectory(prefix="cosmo-derived-") as tmpd:
                r = run_one(backend, size, args.rounds, Path(tmpd), args)
            ratio = r["row per edge"] / r["aggregated"]
            table.add_row(
                backend, f"{size:,}", f"{r['keys']:,}", f"{r['row per edge']:.2f}",
                f"{r['aggregated']:.2f}", f"{ratio:.1f}×",
            )  # fmt: skip
            console.print(r, highlight=False)
    console.print(table)


if __name__ == "__main__":
    main()
