"""Benchmark: loading the knowledge graph into FalkorDB, four ways, in one run.

    python bench/kg_load.py [--sizes 100000 1000000] [--batch-size 5000]

For each size (relationships written), on synthetic triples over the real schema:

1. raw ``UNWIND … MERGE`` through the client (the plain minimum: nodes, then edges)
2. ``cosmo kg load`` incremental from Parquet (validation, provenance, run checkpoints)
3. FalkorDB's own bulk path: ``falkordb-bulk-loader`` on ready-made CSVs
4. ``cosmo kg load`` first build from Parquet (takes the bulk path: validate, plan, CSV, GRAPH.BULK)

Prints rows/s (relationships per second) and the ratios the issue asks for. Starts its
own FalkorDB on a free port in a temporary folder.
"""

from __future__ import annotations

import argparse
import contextlib
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

from cosmo.kg.bulk import bulk_load_if_empty
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.loader import load_triples_file
from cosmo.kg.schema import RELATIONS, intention_id
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.versions import graph_stats
from cosmo.settings import Settings


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
        settings.redis_url,
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


def rels(store: FalkorDBStore) -> int:
    return sum(graph_stats(store)["relationships"].values())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--batch-size", type=int, default=5000)
    args = ap.parse_args()
    console = Console()
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
        for c in ("relationships", "method", "seconds", "rels/s", "ratio"):
            table.add_column(c, justify="right" if c != "method" else "left")
        try:
            for size in args.sizes:
                df = synthetic(size)
                path = tmp / f"t{size}.parquet"
                df.to_parquet(path)
                results = {}
                for name, fn in (
                    ("raw UNWIND MERGE", lambda st, df=df: raw_merge(st, df, args.batch_size)),
                    (
                        "cosmo kg load (incremental)",
                        lambda st, path=path: load_triples_file(
                            st, path, batch_size=args.batch_size
                        ),
                    ),
                    (
                        "falkordb-bulk-loader (raw CSV)",
                        lambda st, df=df: raw_bulk(settings, st, df, tmp),
                    ),
                    (
                        "cosmo kg load (first build, bulk)",
                        lambda st, path=path: bulk_load_if_empty(st, path, settings=settings),
                    ),
                ):
                    st = FalkorDBStore.from_settings(
                        settings.model_copy(update={"graph": f"b{size}"})
                    )
                    st.clear()
                    if "incremental" in name:
                        st.setup()
                    t = time.perf_counter()
                    fn(st)
                    dt = time.perf_counter() - t
                    n = rels(st)
                    results[name] = (n, dt)
                    st.clear()
                    console.print(
                        f"  {size:>9,}  {name:<36} {dt:7.1f} s  {n / dt:>10,.0f} rels/s",
                        highlight=False,
                    )
                raw, inc = results["raw UNWIND MERGE"], results["cosmo kg load (incremental)"]
                rb, cb = (
                    results["falkordb-bulk-loader (raw CSV)"],
                    results["cosmo kg load (first build, bulk)"],
                )
                for name, (n, dt) in results.items():
                    base = {
                        "cosmo kg load (incremental)": raw,
                        "cosmo kg load (first build, bulk)": rb,
                    }.get(name)
                    ratio = f"{(n / dt) / (base[0] / base[1]):.2f}x" if base else ""
                    if name == "falkordb-bulk-loader (raw CSV)":
                        ratio = f"{(n / dt) / (raw[0] / raw[1]):.1f}x vs raw MERGE"
                    table.add_row(f"{n:,}", name, f"{dt:.1f}", f"{n / dt:,.0f}", ratio)
                _ = inc, cb
        finally:
            server.stop()
        console.print(table)
        console.print("machine: 2 cores, 24 GiB, shared; figures are noisy, ratios are the result.")


if __name__ == "__main__":
    sys.exit(main())
