"""Benchmark: live navigation's database side on FalkorDB and Neo4j, read by read.

    python bench/nav_db.py [--queries 20] [--reps 10] [--warmup 2] [--backends falkordb neo4j]

Builds ``bench/api.py``'s graph (``build_graph``: 6,000 products, 2,000 queries, 2,000
intentions, ~111,000 edges) on a FalkorDB server and a Neo4j server of its own, then, for a
fixed seeded set of queries with no precomputed entry (none is precomputed here), with no
intention selected and with one selected, times each read of the live navigation path:
the candidates read, the facet read of the top ``facet_products`` candidates, and the whole
service call (``candidates`` then ``facets``, as the ``navigate`` resolver runs them). The
reads are timed as the query text ``main`` had before this benchmark (``before``) and as
``api/services/navigation.py`` has it now (``now``), interleaved call by call, one call at a
time, so the two are compared in the same run under the same load. Prints p50/p99 ms per
read, backend and variant with the load average, then each read's profile on one input:
FalkorDB ``GRAPH.PROFILE`` (records and ms per operation) and Neo4j ``PROFILE`` (rows and
db hits per operator). The machine may be shared: compare rows of one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from kg_load import add_backend_args, backend_server, start_console
from rich.console import Console
from rich.table import Table

from api import N_QUERIES, build_graph
from cosmo.api.services.graph import GraphReader
from cosmo.api.services.navigation import (
    FACET_CYPHER,
    candidates,
    candidates_cypher,
    facet_row_limit,
    facets,
)
from cosmo.api.settings import ApiSettings
from cosmo.core.settings import Settings
from cosmo.kg.factory import open_async_store, open_store

PER_FACET = 5  # bench/api.py's navigate asks facets(size: 5)


# -- the candidates read as main had it before (its text lives in the test that compares) ---
def _earlier() -> Callable[[bool], str]:
    path = Path(__file__).resolve().parent.parent / "tests" / "api" / "test_nav_reads.py"
    spec = importlib.util.spec_from_file_location("test_nav_reads", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.candidates_before  # type: ignore[no-any-return]


candidates_before = _earlier()
VARIANTS = {
    "before": (candidates_before, FACET_CYPHER),
    "now": (candidates_cypher, FACET_CYPHER),
}


# -- inputs -------------------------------------------------------------------------------
async def inputs(reader: GraphReader, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` seeded queries, each without and with one selected intention (its best facet
    value, so the selection keeps products): the parameters of every read."""
    api = ApiSettings()
    out = []
    for q in random.Random(seed).sample(range(N_QUERIES), n):
        key = f"query {q}"
        for sel in ([], None):
            if sel is None:
                first = await facets(reader, out[-1]["ids"], [], PER_FACET)
                sel = [first[0].values[0].intention["id"]] if first else []
            c = await candidates(reader, key, key, sel, api.max_candidates)
            ids = [p["id"] for p in c.products[: api.facet_products]]
            cp = {"key": key, "sel": sel, "nsel": len(sel), "cap": api.max_candidates}
            fp = {"ids": ids, "top": facet_row_limit(PER_FACET)}
            out.append({"variant": "selected" if sel else "plain", "c": cp, "f": fp, "ids": ids})
    return out


def reads(reader: GraphReader, x: dict[str, Any]) -> dict[str, Callable[[], Awaitable[Any]]]:
    """Every timed call of one input, by (read, variant) name."""
    sel = bool(x["c"]["sel"])
    out: dict[str, Callable[[], Awaitable[Any]]] = {}
    for name, (cand, facet) in VARIANTS.items():
        text = cand(sel)
        out[f"candidates {name}"] = lambda t=text: reader.rows(t, x["c"])
        out[f"facet_rows {name}"] = lambda t=facet: reader.rows(t, x["f"])

    async def navigate() -> Any:
        c = x["c"]
        got = await candidates(reader, c["key"], c["key"], c["sel"], c["cap"])
        ids = [p["id"] for p in got.products[: ApiSettings().facet_products]]
        return await facets(reader, ids, c["sel"], PER_FACET)

    out["navigate now"] = navigate
    return out


async def measure(settings: Settings, n: int, reps: int, warmup: int) -> dict[str, Any]:
    """Time every read of every input ``reps`` times after ``warmup`` rounds, interleaved."""
    store = open_async_store(settings)
    reader = GraphReader(store)
    try:
        xs = await inputs(reader, n, seed=17)
        ms: dict[tuple[str, str], list[float]] = {}
        load = os.getloadavg()[0]
        for rep in range(warmup + reps):
            for x in xs:
                for name, call in reads(reader, x).items():
                    t = time.perf_counter()
                    await call()
                    if rep >= warmup:
                        ms.setdefault((x["variant"], name), []).append(
                            (time.perf_counter() - t) * 1000
                        )
        load = (load + os.getloadavg()[0]) / 2
        return {"ms": ms, "load": load, "inputs": xs}
    finally:
        await store.close()


# -- profiles -----------------------------------------------------------------------------
def profile_falkordb(settings: Settings, cypher: str, params: dict[str, Any]) -> list[str]:
    from falkordb import FalkorDB

    g = FalkorDB(host=settings.falkordb_host, port=settings.falkordb_port).select_graph(
        settings.graph
    )
    return [line.strip() for line in g.profile(cypher, params).plan]


def profile_neo4j(settings: Settings, cypher: str, params: dict[str, Any]) -> list[str]:
    from neo4j import GraphDatabase

    pw = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    auth = (settings.neo4j_user, pw)
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as d, d.session() as s:
        plan = s.run("PROFILE " + cypher, params).consume().profile
    lines: list[str] = []

    def walk(op: dict[str, Any], depth: int) -> None:
        lines.append(
            f"{'  ' * depth}{op['operatorType']} | rows {op.get('rows', 0)}, "
            f"db hits {op.get('dbHits', 0)}"
        )
        for child in op.get("children", []):
            walk(child, depth + 1)

    walk(plan, 0)
    return lines


def profile_total(lines: list[str]) -> float:
    """A profile's total: FalkorDB's ms summed over operations, Neo4j's db hits."""
    pat = r"Execution time: ([\d.]+) ms" if "Execution time" in "".join(lines) else r"db hits (\d+)"
    return sum(float(m) for line in lines for m in re.findall(pat, line))


def profiles(
    console: Console, backend: str, settings: Settings, xs: list[dict[str, Any]]
) -> dict[tuple[str, str], list[float]]:
    """Print every read's profile on the first two inputs (one plain, one with a selection);
    return each (input, read variant)'s profile totals over all inputs (the least of three
    profiles each: the machine is shared)."""
    prof = profile_neo4j if backend == "neo4j" else profile_falkordb
    totals: dict[tuple[str, str], list[float]] = {}
    for k, x in enumerate(xs):
        sel = bool(x["c"]["sel"])
        for name, (cand, facet) in VARIANTS.items():
            for read, text, p in (("candidates", cand(sel), x["c"]), ("facet_rows", facet, x["f"])):
                lines = prof(settings, text, p)
                again = [profile_total(prof(settings, text, p)) for _ in range(2)]
                best = min([profile_total(lines), *again])
                totals.setdefault((x["variant"], f"{read} {name}"), []).append(best)
                if k < 2:
                    console.print(
                        f"\n[bold]{backend} {x['variant']} {read} {name}[/] ({x['c']['key']})"
                    )
                    console.print("\n".join(lines), highlight=False)
    return totals


# -- servers and table --------------------------------------------------------------------
def run_backend(backend: str, tmp: Path, args: Any, console: Console) -> dict[str, Any]:
    settings, server = backend_server(backend, tmp, args, "nav")
    server.start()
    try:
        store = open_store(settings)
        try:
            store.setup()
            t = time.perf_counter()
            edges = build_graph(store)
            console.print(f"{backend}: {edges:,} edges built in {time.perf_counter() - t:.1f} s")
        finally:
            store.close()
        res = asyncio.run(measure(settings, args.queries, args.reps, args.warmup))
        if args.profile:
            res["profile"] = profiles(console, backend, settings, res["inputs"])
        return res
    finally:
        server.stop()
        shutil.rmtree(settings.state_dir, ignore_errors=True)


def show(console: Console, results: dict[str, dict[str, Any]], n: int) -> None:
    table = Table(
        title=f"Live navigation, database side: ms per call ({n} calls a row); profile: the "
        "median over inputs of the least of 3 runs of FalkorDB's GRAPH.PROFILE ms summed over operations, or of "
        "Neo4j's PROFILE db hits"
    )
    cols = ("backend", "input", "read", "variant", "p50 ms", "p99 ms", "profile", "load avg")
    for c in cols:
        table.add_column(c, justify="left" if c in ("backend", "input", "read") else "right")
    for backend, res in results.items():
        for (inp, name), vals in sorted(res["ms"].items()):
            read, variant = name.split(" ")
            a = np.array(vals)
            prof = res.get("profile", {}).get((inp, name))
            unit = "hits" if backend == "neo4j" else "ms"
            table.add_row(
                backend, inp, read, variant,
                f"{np.percentile(a, 50):.2f}", f"{np.percentile(a, 99):.2f}",
                f"{np.median(prof):.{0 if unit == 'hits' else 2}f} {unit}" if prof else "",
                f"{res['load']:.1f}",
            )  # fmt: skip
    console.print(table)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--queries", type=int, default=20, help="seeded live queries")
    ap.add_argument("--reps", type=int, default=10, help="timed calls of each read and input")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-profile", dest="profile", action="store_false")
    add_backend_args(ap)
    args = ap.parse_args()
    console = start_console()
    results = {}
    with tempfile.TemporaryDirectory(prefix="cosmo-bench-") as tmpd:
        for backend in args.backends:
            results[backend] = run_backend(backend, Path(tmpd), args, console)
    show(console, results, args.queries * args.reps)


if __name__ == "__main__":
    main()
