"""Benchmark: traversal and navigation latency on FalkorDB and Neo4j, side by side.

    python bench/kg_traverse.py [--sizes 100000 1000000] [--backends falkordb neo4j]
                                [--queries 1000] [--warmup 200] [--out DIR]

For each size (relationships), one synthetic graph shaped like the demo graph (below) is
written as a triples file and built on each backend with cosmo's first build: FalkorDB with
``bulk_load_if_empty`` (``GRAPH.BULK``), Neo4j with ``neo4j_first_build`` (``neo4j-admin``);
both then wait until their indexes are online. Then, one call at a time (concurrency 1),
``--warmup`` calls and then ``--queries`` timed calls of each query, each from a random
start node drawn uniformly (the same seeded draws on both backends):

* ``2-hop``: product → intention → other products (the products sharing an intention of
  the same relation with a product, ranked by how many; the pattern of the recommender's
  shared-intention half and of ``cypher/cobuy_explained.cypher``), 20 rows;
* ``cobuy_explained``: the saved query ``cypher/cobuy_explained.cypher`` (co-bought
  products and the intentions both share), its example's limit;
* ``navigate``: the API's live navigation for a query text (no cache, no precomputed entry):
  ``candidates`` (products bought after the query, plus products sharing the query's
  intentions) then ``facets`` over the top ``facet_products`` candidates, exactly as the
  ``navigate`` resolver calls them, through ``GraphReader`` over the ``AsyncGraphStore``
  the API opens, with the API's default settings (``max_candidates``, ``facet_products``,
  facet size 8). ``navigate`` is the sum of both round trips; each is also shown.

Latencies are wall-clock on the client, driver and result conversion included, without
the API's query timeout (so a slow call is measured, not cut off).

The graph (:func:`demo_like`): refined triples as the pipeline makes them, 75% co-buy and
25% search-buy pairs. Popularity is heavy-tailed, as in shopping data: products, queries
and intentions are drawn from Zipf–Mandelbrot laws (p(k) ∝ 1/(k + q)^s; products s = 1.0,
q = 50; queries s = 1.0, q = 10; intentions s = 1.0, q = 20), over N/8 products, N/40
queries and N/25 intentions (each with one relation, its tail type the relation's default).
Property sizes follow IntentionQA's real Amazon pairs: titles 80 characters on average
(sd 30, 15 to 230), intention texts about 40, query texts two words and a number;
plausibility 0.5–1, typicality 0–1. The number of triples is set so that the graph holds
about N relationships (co-buy, search-buy and knowledge edges). The bench prints the degree
statistics it got.

Results go to ``--out`` (default ``.cosmo/bench/kg_traverse`` in the repository), one JSON
per size and backend; a rerun skips those that exist (``--force`` redoes them), so a long
run can be resumed. Starts its own FalkorDB and Neo4j on free ports in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kg_load import REPO, add_backend_args, free_port, neo4j_settings, start_console

from cosmo.api.services.graph import GraphReader
from cosmo.api.services.navigation import candidates, facets
from cosmo.api.settings import ApiSettings
from cosmo.core.schema import RELATION_TAIL_TYPES, RELATIONS, query_key
from cosmo.core.settings import Settings
from cosmo.cypher import saved_queries
from cosmo.kg.bulk import bulk_load_if_empty
from cosmo.kg.factory import open_async_store, open_store
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.neo4j_import import neo4j_first_build
from cosmo.kg.neo4j_server import Neo4jServer
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.store import AsyncGraphStore
from cosmo.kg.versions import graph_stats

TWO_HOP = """MATCH (a:Product {id: $id})-[r]->(i:Intention)<-[r2]-(b:Product)
WHERE b <> a AND type(r) = type(r2)
WITH b, count(DISTINCT i) AS shared
RETURN b.id AS id, b.title AS title, shared
ORDER BY shared DESC, id
LIMIT 20"""
QUERIES = ("2-hop", "cobuy_explained", "navigate", "  candidates", "  facets")
SYLLABLES = (
    "ka", "lo", "mi", "ne", "ra", "su", "ti", "vo", "ze", "ba", "co", "du", "fe", "gi",
    "ho", "ju", "le", "ma", "no", "pi", "qu", "re", "sa", "to", "vu", "wi", "xa", "yo",
)  # fmt: skip

# -- the graph ---------------------------------------------------------------------------------


def zipf_mandelbrot(rng: np.random.Generator, n: int, size: int, s: float, q: float) -> np.ndarray:
    """``size`` draws from 0..n-1 with p(k) ∝ 1/(k + 1 + q)^s, ranks shuffled over the ids."""
    w = 1.0 / (np.arange(1, n + 1) + q) ** s
    ranks = rng.choice(n, size=size, p=w / w.sum())
    return rng.permutation(n)[ranks]


def _words(rng: np.random.Generator, n: int, lengths: np.ndarray) -> list[str]:
    """``n`` pseudo-word texts of about the given character lengths."""
    syl = np.array(SYLLABLES, dtype=object)
    out = []
    for k in range(n):
        m = max(2, int(lengths[k]) // 6)  # a word of 2-3 syllables and a space is ~6 chars
        parts = syl[rng.integers(0, len(syl), 2 * m)]
        out.append(" ".join(a + b for a, b in zip(parts[::2], parts[1::2], strict=True)))
    return out


def _triples(n_triples: int, n_rels: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_p, n_q, n_i = max(500, n_rels // 8), max(100, n_rels // 40), max(200, n_rels // 25)
    titles = _words(rng, n_p, np.clip(rng.normal(80, 30, n_p), 15, 230))
    tails = [f"{t} {k}" for k, t in enumerate(_words(rng, n_i, rng.normal(36, 8, n_i)))]
    rel_of = rng.integers(0, len(RELATIONS), n_i)
    queries = [f"{t} {k}" for k, t in enumerate(_words(rng, n_q, np.full(n_q, 12)))]
    sb = rng.random(n_triples) < 0.25
    a = zipf_mandelbrot(rng, n_p, n_triples, 1.0, 50)
    b = zipf_mandelbrot(rng, n_p, n_triples, 1.0, 50)
    b = np.where(a == b, (b + 1) % n_p, b)
    q = zipf_mandelbrot(rng, n_q, n_triples, 1.0, 10)
    i = zipf_mandelbrot(rng, n_i, n_triples, 1.0, 20)
    pid = np.array([f"P{k:07d}" for k in range(n_p)], dtype=object)
    title = np.array(titles, dtype=object)
    rel = np.array(RELATIONS, dtype=object)[rel_of[i]]
    return pd.DataFrame(
        {
            "behaviour": np.where(sb, "search_buy", "co_buy"),
            "source": np.where(sb, np.array(queries, dtype=object)[q], pid[a]),
            "target": pid[b],
            "relation": rel,
            "tail": np.array(tails, dtype=object)[i],
            "tail_type": [RELATION_TAIL_TYPES[r] for r in rel],
            "plausibility": rng.uniform(0.5, 1.0, n_triples).round(3),
            "typicality": rng.uniform(0.0, 1.0, n_triples).round(3),
            "source_title": np.where(sb, None, title[a]),
            "target_title": title[b],
            "target_type": [f"type {k % 500}" for k in b],
            "target_domain": [f"domain {k % 20}" for k in b],
        }
    )


def relationship_count(df: pd.DataFrame) -> int:
    """Relationships the loader makes of these triples (behaviour and knowledge edges)."""
    sb = df["behaviour"] == "search_buy"
    lo = df[["source", "target"]].min(axis=1)
    hi = df[["source", "target"]].max(axis=1)
    pairs = pd.DataFrame({"a": lo, "b": hi})[~sb].drop_duplicates()
    sbe = df.loc[sb, ["source", "target"]].drop_duplicates()
    return len(pairs) + len(sbe) + len(_knowledge(df))


def _knowledge(df: pd.DataFrame) -> pd.DataFrame:
    """Knowledge edges as (head, tail): queries by their text, products as ``p:<id>``.

    An intention has one relation here, so (head, tail) names an edge."""
    sb = df["behaviour"] == "search_buy"
    return pd.concat(
        [
            pd.DataFrame({"h": df["source"].where(sb, "p:" + df["source"]), "t": df["tail"]}),
            pd.DataFrame({"h": "p:" + df["target"], "t": df["tail"]}),
        ]
    ).drop_duplicates()


def demo_like(n_rels: int, seed: int = 0) -> pd.DataFrame:
    """Triples whose graph holds about ``n_rels`` relationships (see the module docstring)."""
    n = max(1000, n_rels // 2)
    got = relationship_count(_triples(n, n_rels, seed))
    return _triples(max(1000, round(n * n_rels / got)), n_rels, seed)


def degree_stats(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Degree distributions of the triples' graph (knowledge and behaviour edges)."""
    sb = df["behaviour"] == "search_buy"
    knowledge = _knowledge(df)
    is_p = knowledge["h"].str.startswith("p:")
    cobuy = pd.concat([df.loc[~sb, "source"], df.loc[~sb, "target"]])
    series = {
        "product intentions": knowledge[is_p].groupby("h").size(),
        "intention products": knowledge[is_p].groupby("t").size(),
        "query intentions": knowledge[~is_p].groupby("h").size(),
        "product co-buys (pairs)": cobuy.value_counts(),
        "query purchases (pairs)": df.loc[sb, "source"].value_counts(),
    }
    return {
        k: {
            "n": len(v),
            "mean": round(float(v.mean()), 1),
            "p50": float(v.quantile(0.5)),
            "p99": float(v.quantile(0.99)),
            "max": int(v.max()),
        }
        for k, v in series.items()
    }


# -- building ----------------------------------------------------------------------------------


def build(
    backend: str,
    settings: Settings,
    server: Any,
    path: Path,
    phases: dict[str, float] | None = None,
) -> float:
    """Build the graph of ``path`` with the backend's first build, indexes online (both
    builds end with ``setup``, which waits for them); seconds taken (and, into ``phases``,
    the build's own phase split)."""
    t = time.perf_counter()
    if backend == "neo4j":
        report = neo4j_first_build(server, path, overwrite=True, say=lambda _: None)
    else:
        fstore = FalkorDBStore.from_settings(settings)
        try:
            fstore.clear()
            if (got := bulk_load_if_empty(fstore, path, settings=settings)) is None:
                raise RuntimeError("the FalkorDB graph was not empty")
            report = got
        finally:
            fstore.close()
    if phases is not None:
        phases.update({k: round(v, 1) for k, v in report.phases.items()})
    return time.perf_counter() - t


# -- measuring ---------------------------------------------------------------------------------


async def _timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = await fn()
    return (time.perf_counter() - t) * 1000, out


async def one_round(
    reader: GraphReader, api: ApiSettings, product: str, query: str, cobuy: str
) -> dict[str, tuple[float, int]]:
    """One call of each query: (milliseconds, rows)."""
    out: dict[str, tuple[float, int]] = {}
    ms, rows = await _timed(lambda: reader.rows(TWO_HOP, {"id": product}))
    out["2-hop"] = (ms, len(rows))
    ms, rows = await _timed(lambda: reader.rows(cobuy, {"product_id": product, "limit": 20}))
    out["cobuy_explained"] = (ms, len(rows))
    key = query_key(query)
    ms_c, c = await _timed(lambda: candidates(reader, key, query, [], api.max_candidates))
    ids = [p["id"] for p in c.products[: api.facet_products]]
    ms_f, f = await _timed(lambda: facets(reader, ids, [], 8))
    out["navigate"] = (ms_c + ms_f, len(c.products))
    out["  candidates"] = (ms_c, len(c.products))
    out["  facets"] = (ms_f, sum(len(x.values) for x in f))
    return out


async def measure(
    store: AsyncGraphStore, starts: list[tuple[str, str]], warmup: int
) -> dict[str, dict[str, float]]:
    api = ApiSettings()
    reader = GraphReader(store)  # the API's reader, without its query timeout
    cobuy = saved_queries()["cobuy_explained"].text
    samples: dict[str, list[tuple[float, int]]] = {k: [] for k in QUERIES}
    try:
        for k, (product, query) in enumerate(starts):
            got = await one_round(reader, api, product, query, cobuy)
            if k >= warmup:
                for name, v in got.items():
                    samples[name].append(v)
    finally:
        await store.close()
    out = {}
    for name, vals in samples.items():
        ms = np.array([v[0] for v in vals])
        rows = np.array([v[1] for v in vals])
        out[name] = {
            "n": len(vals),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2),
            "max_ms": round(float(ms.max()), 2),
            "rows_mean": round(float(rows.mean()), 1),
        }
    return out


def start_nodes(df: pd.DataFrame, n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (product id, query text) pairs drawn uniformly from the graph's nodes."""
    products = sorted(set(df["target"]) | set(df.loc[df["behaviour"] == "co_buy", "source"]))
    queries = sorted(set(df.loc[df["behaviour"] == "search_buy", "source"]))
    r = random.Random(seed)
    return [(r.choice(products), r.choice(queries)) for _ in range(n)]


# -- one size on one backend, resumable --------------------------------------------------------


def run_one(
    backend: str,
    settings: Settings,
    server: Any,
    size: int,
    df: pd.DataFrame,
    path: Path,
    args: Any,
) -> dict[str, Any]:
    build_s = build(backend, settings, server, path)
    store = open_store(settings)
    try:
        rels = sum(graph_stats(store)["relationships"].values())
    finally:
        store.close()
    starts = start_nodes(df, args.warmup + args.queries, seed=size)
    t = time.perf_counter()
    results = asyncio.run(measure(open_async_store(settings), starts, args.warmup))
    return {
        "size": size,
        "backend": backend,
        "relationships": rels,
        "triples": len(df),
        "build_s": round(build_s, 1),
        "measure_s": round(time.perf_counter() - t, 1),
        "queries": results,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def show(console: Console, results: list[dict[str, Any]], backends: list[str]) -> None:
    by = {(r["size"], r["backend"]): r for r in results}
    table = Table(title="Traversal latency, ms (one call at a time, random start nodes)")
    table.add_column("relationships", justify="right")
    table.add_column("query")
    for b in backends:
        for c in ("p50", "p99", "mean", "rows"):
            table.add_column(f"{b} {c}", justify="right")
    for size in sorted({r["size"] for r in results}):
        rels = next(by[(size, b)]["relationships"] for b in backends if (size, b) in by)
        for q in QUERIES:
            cells = []
            for b in backends:
                got = by.get((size, b), {}).get("queries", {}).get(q)
                cells += (
                    [f"{got['p50_ms']:.1f}", f"{got['p99_ms']:.1f}", f"{got['mean_ms']:.1f}",
                     f"{got['rows_mean']:.0f}"]
                    if got else ["", "", "", ""]
                )  # fmt: skip
            table.add_row(f"{rels:,}" if q == QUERIES[0] else "", q, *cells)
    console.print(table)


def stats_table(console: Console, size: int, stats: dict[str, dict[str, float]]) -> None:
    table = Table(title=f"Synthetic graph, {size:,} relationships: degrees")
    for c in ("degree of", "nodes", "mean", "p50", "p99", "max"):
        table.add_column(c, justify="left" if c == "degree of" else "right")
    for k, v in stats.items():
        table.add_row(k, f"{v['n']:,}", f"{v['mean']}", f"{v['p50']:.0f}", f"{v['p99']:.0f}",
                      f"{v['max']:,}")  # fmt: skip
    console.print(table)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=1000, help="timed calls of each query")
    ap.add_argument("--warmup", type=int, default=200, help="untimed calls first")
    ap.add_argument("--out", type=Path, default=REPO / ".cosmo" / "bench" / "kg_traverse")
    ap.add_argument("--force", action="store_true", help="redo sizes whose results exist")
    add_backend_args(ap)
    args = ap.parse_args()
    console = start_console()
    args.out.mkdir(parents=True, exist_ok=True)
    todo = [
        (size, b)
        for size in args.sizes
        for b in args.backends
        if args.force or not (args.out / f"{size}-{b}.json").exists()
    ]
    with tempfile.TemporaryDirectory(prefix="cosmo-bench-") as tmpd:
        tmp = Path(tmpd)
        servers: dict[str, Any] = {}
        settings: dict[str, Settings] = {}
        if any(b == "falkordb" for _, b in todo):
            settings["falkordb"] = Settings(
                state_dir=tmp / "state", falkordb_port=free_port(), graph="traverse"
            )
            servers["falkordb"] = EmbeddedServer(settings["falkordb"])
        if any(b == "neo4j" for _, b in todo):
            settings["neo4j"] = neo4j_settings(
                tmp / "neo4j-state", args.neo4j_lib_dir, args.neo4j_heap, args.neo4j_pagecache
            )
            servers["neo4j"] = Neo4jServer(settings["neo4j"])
        try:
            for server in servers.values():
                server.start()
            for size in args.sizes:
                if not any(s == size for s, _ in todo):
                    continue
                df = demo_like(size)
                path = tmp / f"t{size}.parquet"
                df.to_parquet(path)
                stats = degree_stats(df)
                stats_table(console, size, stats)
                for b in [b for s, b in todo if s == size]:
                    console.print(f"  {size:>9,}  {b}: building and measuring ...", highlight=False)
                    res = run_one(b, settings[b], servers[b], size, df, path, args)
                    res["degrees"] = stats
                    (args.out / f"{size}-{b}.json").write_text(json.dumps(res, indent=1))
                    console.print(
                        f"  {size:>9,}  {b}: {res['relationships']:,} relationships, built in "
                        f"{res['build_s']} s, measured in {res['measure_s']} s",
                        highlight=False,
                    )
                    if b == "falkordb":
                        store = open_store(settings[b])
                        store.clear()  # free the server's memory for the next backend
                        store.close()
        finally:
            for server in servers.values():
                server.stop()
    results = [
        json.loads(p.read_text())
        for size in args.sizes
        for b in args.backends
        if (p := args.out / f"{size}-{b}.json").exists()
    ]
    show(console, results, args.backends)
    console.print(
        "Each cell: --queries calls after --warmup, one at a time, on a machine shared with other\n"
        "jobs (load averages are in the JSON); compare backends within one size.",
        highlight=False,
    )


if __name__ == "__main__":
    sys.exit(main())
