"""Benchmark: loading the knowledge graph into FalkorDB, six ways, in one run.

    python bench/kg_load.py [--sizes 100000 1000000] [--batch-size 5000]

For each size (relationships written), on synthetic triples over the real schema:

1. raw ``UNWIND … MERGE``, minimal: through the client, one property per edge (context)
2. raw ``UNWIND … MERGE``, same graph: the loader's own queries (same nodes, edges,
   properties and MERGE/SET semantics) through the plain ``falkordb`` client, parameters
   built in memory before the timer starts, same batch size; no run checkpoints
3. ``cosmo kg load`` incremental from Parquet (read, validate, plan, write, checkpoints)
4. ``falkordb-bulk-loader`` on minimal CSVs (ids and one property; context)
5. ``falkordb-bulk-loader`` on the same graph's CSVs (the ones the loader's CSV writer
   makes, written before the timer starts)
6. ``cosmo kg load`` first build from Parquet (an empty graph takes the bulk path)

Prints relationships per second and the ratios: cosmo's overhead over the database doing the
same work (2 → 3 and 5 → 6, the issue's targets), and over the minimal rows (context).
Starts its own FalkorDB on a free port in a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import socket
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from cosmo.core.schema import RELATIONS, intention_id
from cosmo.core.settings import Settings
from cosmo.kg.bulk import bulk_load_if_empty, write_bulk_csvs
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.loader import load_triples_file
from cosmo.kg.planner import WriteStep, plan_writes
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.validate import read_triples
from cosmo.kg.versions import graph_stats


def synthetic(n_rels: int, seed: int = 0) -> pd.DataFrame:
    """Co-buy triples; each gives 2 knowledge edges and 1 CO_BUY edge (about 3 relationships)."""
    rng = np.random.default_rng(seed)
    n = n_rels // 3
    n_products = max(1000, n_rels // 5)
    n_int = max(500, n_rels // 10)
    a = rng.integers(0, n_products, n)
    b = (a + 1 + rng.integers(0, n_products - 1, n)) % n_products
    rel = rng.integers(0, len(RELATIONS), n)
    tail = rng.integers(0, n_int, n)
    return pd.DataFrame(
        {
            "behaviour": "co_buy",
            "source": [f"P{x:07d}" for x in a],
            "target": [f"P{x:07d}" for x in b],
            "relation": [RELATIONS[r] for r in rel],
            "tail": [f"intention number {t}" for t in tail],
            "plausibility": rng.uniform(0.5, 1.0, n).round(3),
            "typicality": rng.uniform(0.0, 1.0, n).round(3),
        }
    )


def _client_batches(store: FalkorDBStore, cypher: str, rows: list, batch: int) -> None:
    """Plain client calls (its own parameter serialiser), as a user of falkordb would write."""
    graph = store.client.select_graph(store.graph_name)
    for i in range(0, len(rows), batch):
        graph.query(cypher, {"rows": rows[i : i + batch]})


def raw_merge(store: FalkorDBStore, df: pd.DataFrame, batch: int) -> None:
    prods = sorted(set(df["source"]) | set(df["target"]))
    store.execute("CREATE INDEX FOR (p:Product) ON (p.id)")
    store.execute("CREATE INDEX FOR (i:Intention) ON (i.id)")
    _client_batches(store, "UNWIND $rows AS id MERGE (:Product {id: id})", prods, batch)
    ints = df[["relation", "tail"]].drop_duplicates("tail")
    rows = [{"id": intention_id(t, "x"), "text": t} for t in ints["tail"]]
    _client_batches(
        store, "UNWIND $rows AS r MERGE (i:Intention {id: r.id}) SET i.text = r.text", rows, batch
    )
    iid = {t: intention_id(t, "x") for t in ints["tail"]}
    pairs = pd.DataFrame(
        {"a": df[["source", "target"]].min(axis=1), "b": df[["source", "target"]].max(axis=1)}
    ).drop_duplicates()
    q = "UNWIND $rows AS r MATCH (a:Product {id: r.a}) MATCH (b:Product {id: r.b}) MERGE (a)-[:CO_BUY]->(b)"
    _client_batches(store, q, pairs.to_dict("records"), batch)
    for rel, g in df.groupby("relation"):
        heads = pd.concat(
            [
                g[["source", "tail"]].rename(columns={"source": "h"}),
                g[["target", "tail"]].rename(columns={"target": "h"}),
            ]
        )
        heads = heads.drop_duplicates()
        rows = [
            {"h": h, "i": iid[t], "p": 0.9} for h, t in zip(heads["h"], heads["tail"], strict=True)
        ]
        q = f"UNWIND $rows AS r MATCH (h:Product {{id: r.h}}) MATCH (i:Intention {{id: r.i}}) MERGE (h)-[e:{rel}]->(i) SET e.plausibility = r.p"
        _client_batches(store, q, rows, batch)


def same_plan(path: Path) -> list[WriteStep]:
    """The loader's plan for a file (its queries and parameter rows), built before timing."""
    return plan_writes(read_triples(path).frame)


def raw_merge_same(store: FalkorDBStore, steps: list[WriteStep], batch: int) -> float:
    """The loader's queries and rows through the plain client; returns the server's own ms."""
    graph = store.client.select_graph(store.graph_name)
    params = {"run": "run-raw", "seq": 1, "now": "2026-01-01T00:00:00+00:00"}
    server_ms = 0.0
    for st in steps:
        for i in range(0, len(st.rows), batch):
            res = graph.query(st.cypher, {**params, "rows": st.rows[i : i + batch]})
            server_ms += float(res.run_time_ms)
    return server_ms


def bulk_same_args(steps: list[WriteStep], out: Path) -> list[str]:
    """CSVs with the loader's nodes, edges and properties (written before timing)."""
    out.mkdir(parents=True, exist_ok=True)
    files, _ = write_bulk_csvs(steps, out, "run-raw", 1, "2026-01-01T00:00:00+00:00")
    return files


def run_bulk_loader(settings: Settings, store: FalkorDBStore, files: list[str]) -> None:
    from falkordb_bulk_loader.bulk_insert import bulk_insert

    args = [store.graph_name, "--server-url", settings.falkordb_url, *files]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        bulk_insert.main(args=args, standalone_mode=False)


def raw_bulk(settings: Settings, store: FalkorDBStore, df: pd.DataFrame, tmp: Path) -> None:
    from falkordb_bulk_loader.bulk_insert import bulk_insert

    prods = pd.DataFrame({"id": sorted(set(df["source"]) | set(df["target"]))})
    prods.to_csv(tmp / "p.csv", index=False, header=["id:ID(Product)"])
    ints = pd.DataFrame({"id": sorted(set(df["tail"]))})
    ints.to_csv(tmp / "i.csv", index=False, header=["text:ID(Intention)"])
    pairs = pd.DataFrame(
        {"a": df[["source", "target"]].min(axis=1), "b": df[["source", "target"]].max(axis=1)}
    ).drop_duplicates()
    pairs.to_csv(tmp / "cb.csv", index=False, header=[":START_ID(Product)", ":END_ID(Product)"])
    args = [
        store.graph_name,
        "--server-url",
        settings.falkordb_url,
        "--enforce-schema",
        "-N",
        "Product",
        str(tmp / "p.csv"),
        "-N",
        "Intention",
        str(tmp / "i.csv"),
        "-R",
        "CO_BUY",
        str(tmp / "cb.csv"),
    ]
    for rel, g in df.groupby("relation"):
        heads = pd.concat(
            [
                g[["source", "tail"]].rename(columns={"source": "h"}),
                g[["target", "tail"]].rename(columns={"target": "h"}),
            ]
        ).drop_duplicates()
        heads = heads.assign(p=0.9)
        heads.to_csv(
            tmp / f"{rel}.csv",
            index=False,
            header=[":START_ID(Product)", ":END_ID(Intention)", "plausibility:DOUBLE"],
        )
        args += ["-R", str(rel), str(tmp / f"{rel}.csv")]
    with contextlib.redirect_stdout(io.StringIO()):
        bulk_insert.main(args=args, standalone_mode=False)


RAW_MIN = "raw UNWIND MERGE, minimal (1 prop/edge)"
RAW_SAME = "raw UNWIND MERGE, same graph (client)"
INC = "cosmo kg load, incremental"
BULK_MIN = "falkordb-bulk-loader, minimal CSV"
BULK_SAME = "falkordb-bulk-loader, same graph CSV"
FIRST = "cosmo kg load, first build (bulk path)"
SAME_BASE = {INC: RAW_SAME, FIRST: BULK_SAME, BULK_SAME: RAW_SAME}
MIN_BASE = {INC: RAW_MIN, FIRST: BULK_MIN, BULK_MIN: RAW_MIN, RAW_SAME: RAW_MIN}


def _ratio(results: dict[str, tuple[int, float]], name: str, bases: dict[str, str]) -> str:
    base = bases.get(name)
    if base is None or base not in results:
        return ""
    (n, dt), (bn, bdt) = results[name], results[base]
    return f"{(n / dt) / (bn / bdt):.2f}x {'bulk' if 'bulk' in base else 'raw'}"


def rels(store: FalkorDBStore) -> int:
    return sum(graph_stats(store)["relationships"].values())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()
    console = Console(width=150)
    with tempfile.TemporaryDirectory(prefix="cosmo-bench-") as tmpd:
        tmp = Path(tmpd)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        settings = Settings(state_dir=tmp / "state", falkordb_port=port)
        server = EmbeddedServer(settings)
        server.start()
        table = Table(
            title=f"KG load into FalkorDB (batch {args.batch_size}); relationships per second"
        )
        for c in (
            "relationships",
            "method",
            "seconds",
            "rels/s",
            "vs same work",
            "vs minimal",
            "note",
        ):
            table.add_column(c, justify="left" if c in ("method", "note") else "right")
        try:
            for size in args.sizes:
                df = synthetic(size)
                path = tmp / f"t{size}.parquet"
                df.to_parquet(path)
                steps = same_plan(path)  # pre-built parameters for the same-graph baselines
                csvs = bulk_same_args(steps, tmp / f"same{size}")
                results: dict[str, tuple[int, float]] = {}
                notes: dict[str, str] = {}
                for name, fn in (
                    (RAW_MIN, lambda st, df=df: raw_merge(st, df, args.batch_size)),
                    (RAW_SAME, lambda st, steps=steps: raw_merge_same(st, steps, args.batch_size)),
                    (
                        INC,
                        lambda st, path=path: load_triples_file(
                            st, path, batch_size=args.batch_size
                        ),
                    ),
                    (BULK_MIN, lambda st, df=df: raw_bulk(settings, st, df, tmp)),
                    (BULK_SAME, lambda st, csvs=csvs: run_bulk_loader(settings, st, csvs)),
                    (FIRST, lambda st, path=path: bulk_load_if_empty(st, path, settings=settings)),
                ):
                    st = FalkorDBStore.from_settings(
                        settings.model_copy(update={"graph": f"b{size}"})
                    )
                    st.clear()
                    if name in (RAW_SAME, INC):
                        st.setup()  # the same indexes, created before the timer
                    t = time.perf_counter()
                    out = fn(st)
                    dt = time.perf_counter() - t
                    if name == RAW_SAME:
                        notes[name] = f"server {out / 1000:.1f} s"
                    elif name == FIRST and out is not None:
                        notes[name] = ", ".join(f"{k} {v:.1f} s" for k, v in out.phases.items())
                    n = rels(st)
                    results[name] = (n, dt)
                    st.clear()
                    console.print(
                        f"  {size:>9,}  {name:<44} {dt:7.1f} s  {n / dt:>10,.0f} rels/s",
                        highlight=False,
                    )
                    del st
                    gc.collect()
                for name, (n, dt) in results.items():
                    table.add_row(
                        f"{n:,}",
                        name,
                        f"{dt:.1f}",
                        f"{n / dt:,.0f}",
                        _ratio(results, name, SAME_BASE),
                        _ratio(results, name, MIN_BASE),
                        notes.get(name, ""),
                    )
        finally:
            server.stop()
        console.print(table)
        console.print(
            "ratios: 'vs same work' divides by the database doing the same graph (raw MERGE for\n"
            "the incremental load, the bulk loader on same-graph CSVs for the first build); 'vs\n"
            "minimal' by the one-property rows. Machine: 2 cores, 24 GiB, shared; figures are\n"
            "noisy, ratios from one run are the result."
        )


if __name__ == "__main__":
    sys.exit(main())
