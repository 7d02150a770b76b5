"""Benchmark: loading the knowledge graph into FalkorDB and Neo4j, side by side in one run.

    python bench/kg_load.py [--sizes 100000 1000000] [--batch-size 5000]
                            [--backends falkordb neo4j] [--neo4j-lib-dir DIR]

For each size (relationships written), on synthetic triples over the real schema.

FalkorDB, six ways:

1. raw ``UNWIND … MERGE``, minimal: through the client, one property per edge (context)
2. raw ``UNWIND … MERGE``, same graph: the loader's own queries (same nodes, edges,
   properties and MERGE/SET semantics) through the plain ``falkordb`` client, parameter rows
   built in memory before the timer starts, same batch size; no run checkpoints
3. ``cosmo kg load`` incremental from Parquet (read, validate, plan, write, checkpoints)
4. ``falkordb-bulk-loader`` on minimal CSVs (ids and one property; context)
5. ``falkordb-bulk-loader`` on the same graph's CSVs (the ones the loader's CSV writer
   makes, written before the timer starts)
6. ``cosmo kg load`` first build from Parquet (an empty graph takes the bulk path)

Neo4j 5 (Community, the server cosmo starts from its Maven jars), five ways:

7. raw ``UNWIND … MERGE``, same graph: the loader's plan (each ``WriteStep``'s query and
   rows, built before the timer) through the plain ``neo4j`` driver (``execute_query``, one
   transaction per batch of the same size), after the same constraints and indexes
8. the same, rows as lists: the plan as the Neo4j store sends it (rows as lists, the query
   reading ``row[i]``; ``Neo4jStore.prepare``), built before the timer (context: 9's
   overhead over exactly what it sends)
9. ``cosmo kg load`` incremental into a ``Neo4jStore`` (as 3)
10. the import step alone: ``neo4j-admin database import full`` (through
    ``Neo4jServer.admin``, the arguments ``cosmo kg neo4j-import`` passes) on the CSVs that
    ``write_import_csvs`` writes before the timer; the server is stopped before the timer
11. ``cosmo kg neo4j-import`` end to end (``neo4j_first_build(server, path, overwrite=True)``):
    read, validate, plan, CSVs, stop, import, swap, start, wait for Bolt, indexes

Before the timed rows, each backend loads a small graph by the loader and by the raw path
(warm-up: query plans cached, the JVM's JIT warm), and each row starts from an empty graph.

Prints relationships per second and the ratios: cosmo's overhead over the database doing the
same work (2 → 3, 5 → 6, 7 → 9 and 10 → 11, the issue's targets), and over the minimal rows
(context). Starts its own FalkorDB and Neo4j on free ports in a temporary folder (Neo4j's jars
are resolved with Maven into ``--neo4j-lib-dir`` when missing; default the repository's
``.cosmo/neo4j/lib``); the Neo4j password is generated at run time.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from cosmo.core.schema import RELATIONS, intention_id
from cosmo.core.settings import Settings
from cosmo.kg.bulk import bulk_load_if_empty, write_bulk_csvs
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.loader import load_triples_file
from cosmo.kg.neo4j_import import (
    ARRAY_DELIMITER,
    STAGING,
    neo4j_first_build,
    write_import_csvs,
)
from cosmo.kg.neo4j_server import Neo4jServer
from cosmo.kg.neo4j_store import Neo4jStore, positional
from cosmo.kg.planner import WriteStep, plan_writes
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.store import GraphStore
from cosmo.kg.validate import read_triples
from cosmo.kg.versions import graph_stats

REPO = Path(__file__).resolve().parent.parent


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
    """The loader's plan for a file (its queries and parameter rows)."""
    return plan_writes(read_triples(path).frame)


Plan = list[tuple[str, list[dict[str, Any]]]]
RAW_PARAMS = {"run": "run-raw", "seq": 1, "now": "2026-01-01T00:00:00+00:00"}


def materialise(steps: list[WriteStep]) -> Plan:
    """Every step's rows built in memory (knowledge rows are lazy in the loader), before timing."""
    return [(st.cypher, list(st.rows)) for st in steps]


def raw_merge_same(store: FalkorDBStore, plan: Plan, batch: int) -> float:
    """The loader's queries and rows through the plain client; returns the server's own ms."""
    graph = store.client.select_graph(store.graph_name)
    server_ms = 0.0
    for cypher, rows in plan:
        for i in range(0, len(rows), batch):
            res = graph.query(cypher, {**RAW_PARAMS, "rows": rows[i : i + batch]})
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


def machine() -> str:
    """Cores and load average: the figures depend on what else the machine runs."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load} (1, 5, 15 min)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- Neo4j ---------------------------------------------------------------------------------


def neo4j_settings(state: Path, lib_dir: Path, heap: str, pagecache: str) -> Settings:
    """A Neo4j server of the benchmark's own: free ports, a password made now."""
    return Settings(
        backend="neo4j",
        state_dir=state,
        neo4j_uri=f"bolt://127.0.0.1:{free_port()}",
        neo4j_http_port=free_port(),
        neo4j_password=SecretStr(secrets.token_urlsafe(16)),
        neo4j_lib_dir=lib_dir,
        neo4j_heap=heap,
        neo4j_pagecache=pagecache,
    )


def backend_server(backend: str, tmp: Path, args: Any, graph: str) -> tuple[Settings, Any]:
    """Settings and a not yet started server of the benchmark's own for ``backend``, its
    state under ``tmp`` (``args``: the options of :func:`add_backend_args`)."""
    if backend == "neo4j":
        settings = neo4j_settings(
            tmp / "neo4j", args.neo4j_lib_dir, args.neo4j_heap, args.neo4j_pagecache
        )
        return settings, Neo4jServer(settings)
    settings = Settings(state_dir=tmp / "falkordb", falkordb_port=free_port(), graph=graph)
    return settings, EmbeddedServer(settings)


def as_lists(plan: Plan) -> Plan:
    """The plan as the Neo4j store sends it: rows as lists, queries reading ``row[i]``."""
    out: Plan = []
    for cypher, rows in plan:
        pos = positional(cypher)
        if pos is None:
            out.append((cypher, rows))
        else:
            out.append((pos[0], [[r.get(k) for k in pos[1]] for r in rows]))
    return out


def neo4j_raw_merge(settings: Settings, plan: Plan, batch: int) -> float:
    """The loader's queries and rows through the plain driver; returns the server's own ms.

    ``execute_query`` (the driver's recommended call; one managed transaction, retried on
    transient errors) per batch, as a user of the driver would write it.
    """
    from neo4j import GraphDatabase, RoutingControl

    pw = settings.neo4j_password
    assert pw is not None
    auth = (settings.neo4j_user, pw.get_secret_value())
    server_ms = 0.0
    with GraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    ) as driver:
        for cypher, rows in plan:
            for i in range(0, len(rows), batch):
                _, summary, _ = driver.execute_query(
                    cypher,
                    {**RAW_PARAMS, "rows": rows[i : i + batch]},
                    database_=settings.neo4j_database,
                    routing_=RoutingControl.WRITE,
                )
                server_ms += (summary.result_available_after or 0) + (
                    summary.result_consumed_after or 0
                )
    return server_ms


def import_csvs(steps: list[WriteStep], out: Path) -> tuple[list[str], int]:
    """The CSVs ``cosmo kg neo4j-import`` writes for this plan; returns its file arguments."""
    now = datetime.now(UTC)
    run = {
        "id": "run-bench-import", "seq": 1, "status": "done", "digest": "{}", "params": "{}",
        "started_at": now.isoformat(), "finished_at": now.isoformat(), "done_batches": 0,
        "total_batches": 0, "loaded": 0, "rejected": 0,
    }  # fmt: skip
    files, counts = write_import_csvs(steps, out, run, now.isoformat())
    return files, counts.relationships_created


def _staging_dirs(server: Neo4jServer) -> list[Path]:
    return [server.data_dir / d / STAGING for d in ("databases", "transactions")]


def neo4j_import_step(server: Neo4jServer, files: list[str]) -> None:
    """``neo4j-admin database import full`` with the arguments ``cosmo kg neo4j-import`` uses."""
    proc = server.admin(
        "database", "import", "full", STAGING, "--overwrite-destination",
        f"--array-delimiter={ARRAY_DELIMITER}", "--multiline-fields=true",
        f"--report-file={server.logs_dir / 'import.report'}", *files,
    )  # fmt: skip
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise RuntimeError(f"neo4j-admin import failed (exit {proc.returncode}):\n{tail}")


# -- one size on one backend -----------------------------------------------------------------

Results = dict[str, tuple[int, float]]


class Runner:
    """Times one method at a time on a fresh graph and prints each line as it finishes."""

    def __init__(self, console: Console, size: int, backend: str) -> None:
        self.console, self.size, self.backend = console, size, backend
        self.results: Results = {}
        self.notes: dict[str, str] = {}

    def timed(self, name: str, fn: Callable[[], Any], count: Callable[[Any], int]) -> Any:
        # what exists before the timer (pre-built rows above all) is kept out of the cyclic
        # garbage collector's passes, which would otherwise charge a row for its baseline's data
        gc.collect()
        gc.freeze()
        try:
            t = time.perf_counter()
            out = fn()
            dt = time.perf_counter() - t
        finally:
            gc.unfreeze()
        n = count(out)
        self.results[name] = (n, dt)
        self.console.print(
            f"  {self.size:>9,}  {self.backend:<8} {name:<44} {dt:7.1f} s  {n / dt:>10,.0f} rels/s",
            highlight=False,
        )
        gc.collect()
        return out


WARM_RELS = 30_000


def warm_up(store: GraphStore, path: Path, batch: int, raw: Callable[[Plan], Any]) -> None:
    """A small load first, by the loader and by the raw baseline (whose query texts differ on
    Neo4j), so no timed row pays for the server's warm-up (query planning, the JVM's JIT)."""
    try:
        store.clear()
        store.setup()
        load_triples_file(store, path, batch_size=batch)
        store.clear()
        store.setup()
        raw(materialise(same_plan(path)))
        store.clear()
    finally:
        store.close()


def rels(store: GraphStore) -> int:
    return sum(graph_stats(store)["relationships"].values())


def falkordb_size(
    run: Runner, settings: Settings, df: pd.DataFrame, path: Path, tmp: Path, batch: int
) -> None:
    steps = same_plan(path)
    csvs = bulk_same_args(steps, tmp / f"same{run.size}")
    for name in (RAW_MIN, RAW_SAME, INC, BULK_MIN, BULK_SAME, FIRST):
        st = FalkorDBStore.from_settings(settings.model_copy(update={"graph": f"b{run.size}"}))
        st.clear()
        if name in (RAW_SAME, INC):
            st.setup()  # the same indexes, created before the timer
        plan = materialise(steps) if name == RAW_SAME else []
        fns: dict[str, Callable[[], Any]] = {
            RAW_MIN: lambda st=st: raw_merge(st, df, batch),
            RAW_SAME: lambda st=st, plan=plan: raw_merge_same(st, plan, batch),
            INC: lambda st=st: load_triples_file(st, path, batch_size=batch),
            BULK_MIN: lambda st=st: raw_bulk(settings, st, df, tmp),
            BULK_SAME: lambda st=st: run_bulk_loader(settings, st, csvs),
            FIRST: lambda st=st: bulk_load_if_empty(st, path, settings=settings),
        }
        out = run.timed(name, fns[name], lambda _, st=st: rels(st))
        del plan
        if name == RAW_SAME:
            run.notes[name] = f"server {out / 1000:.1f} s"
        elif name == FIRST and out is not None:
            run.notes[name] = ", ".join(f"{k} {v:.1f} s" for k, v in out.phases.items())
        st.clear()
        st.close()
        del st


def neo4j_size(run: Runner, server: Neo4jServer, path: Path, tmp: Path, batch: int) -> None:
    settings = server.settings
    steps = same_plan(path)
    files, n_import = import_csvs(steps, tmp / f"neo{run.size}")
    store = Neo4jStore.from_settings(settings)
    try:
        for name, fn in (
            (N_RAW, lambda plan: neo4j_raw_merge(settings, plan, batch)),
            (N_RAW_LISTS, lambda plan: neo4j_raw_merge(settings, plan, batch)),
            (N_INC, lambda _: load_triples_file(store, path, batch_size=batch)),
        ):
            store.clear()
            store.setup()  # the same constraints and indexes, created before the timer
            plan = materialise(steps) if name != N_INC else []
            plan = as_lists(plan) if name == N_RAW_LISTS else plan
            out = run.timed(name, lambda fn=fn, plan=plan: fn(plan), lambda _: rels(store))
            del plan
            if name != N_INC:
                run.notes[name] = f"server {out / 1000:.1f} s"
        run.notes[N_RAW_LISTS] += ", " + _ratio(run.results, N_RAW_LISTS, {N_RAW_LISTS: N_RAW})
        run.notes[N_INC] = _ratio(run.results, N_INC, {N_INC: N_RAW_LISTS}) + " as lists"
        store.clear()
        server.stop()
        run.timed(N_IMPORT, lambda: neo4j_import_step(server, files), lambda _: n_import)
        for d in _staging_dirs(server):
            shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(tmp / f"neo{run.size}", ignore_errors=True)
        server.start(say=lambda _: None)
        store.close()
        # a driver's bookmarks name transactions of the database the import replaces
        store = Neo4jStore.from_settings(settings)
        report = run.timed(
            N_E2E,
            lambda: neo4j_first_build(server, path, overwrite=True, say=lambda _: None),
            lambda _: rels(store),
        )
        run.notes[N_E2E] = ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
        store.clear()
    finally:
        store.close()


# -- the table ---------------------------------------------------------------------------------

RAW_MIN = "raw UNWIND MERGE, minimal (1 prop/edge)"
RAW_SAME = "raw UNWIND MERGE, same graph (client)"
INC = "cosmo kg load, incremental"
BULK_MIN = "falkordb-bulk-loader, minimal CSV"
BULK_SAME = "falkordb-bulk-loader, same graph CSV"
FIRST = "cosmo kg load, first build (bulk path)"
N_RAW = "raw UNWIND MERGE, same graph (driver)"
N_RAW_LISTS = "raw UNWIND MERGE, rows as lists (driver)"
N_INC = "cosmo kg load, incremental "  # trailing space: a key of its own
N_IMPORT = "neo4j-admin import (the step alone)"
N_E2E = "cosmo kg neo4j-import, end to end"
SAME_BASE = {
    INC: RAW_SAME, FIRST: BULK_SAME, BULK_SAME: RAW_SAME, N_INC: N_RAW, N_E2E: N_IMPORT,
    N_IMPORT: N_RAW,
}  # fmt: skip
MIN_BASE = {INC: RAW_MIN, FIRST: BULK_MIN, BULK_MIN: RAW_MIN, RAW_SAME: RAW_MIN}


def _ratio(results: Results, name: str, bases: dict[str, str]) -> str:
    base = bases.get(name)
    if base is None or base not in results:
        return ""
    (n, dt), (bn, bdt) = results[name], results[base]
    kind = "import" if base == N_IMPORT else "bulk" if "bulk" in base else "raw"
    return f"{(n / dt) / (bn / bdt):.2f}x {kind}"


def new_table(batch: int) -> Table:
    table = Table(title=f"KG load (batch {batch}); relationships per second")
    for c in ("relationships", "backend", "method", "seconds", "rels/s", "vs same work",
              "vs minimal", "note"):  # fmt: skip
        table.add_column(c, justify="left" if c in ("method", "note", "backend") else "right")
    return table


def add_rows(table: Table, run: Runner) -> None:
    for name, (n, dt) in run.results.items():
        table.add_row(
            f"{n:,}",
            run.backend,
            name.strip(),
            f"{dt:.1f}",
            f"{n / dt:,.0f}",
            _ratio(run.results, name, SAME_BASE),
            _ratio(run.results, name, MIN_BASE),
            run.notes.get(name, ""),
        )


def summary(runs: list[Runner]) -> list[str]:
    """The issue's targets, one line per size and backend."""
    lines = []
    for run in runs:
        for name, target in ((INC, 0.9), (N_INC, 0.9), (N_E2E, 0.8)):
            r = _ratio(run.results, name, SAME_BASE)
            if r:
                what = {INC: "incremental / raw MERGE", N_INC: "incremental / raw MERGE",
                        N_E2E: "end to end / import step"}[name]  # fmt: skip
                ok = "met" if float(r.split("x")[0]) >= target else "NOT met"
                lines.append(
                    f"{run.size:>9,} {run.backend:<8} {what:<26} {r:<14} target {target} {ok}"
                )
    return lines


def add_backend_args(ap: argparse.ArgumentParser) -> None:
    """The options both graph benchmarks share: which backends, and the Neo4j server's."""
    ap.add_argument(
        "--backends", nargs="+", choices=["falkordb", "neo4j"], default=["falkordb", "neo4j"]
    )
    ap.add_argument("--neo4j-lib-dir", type=Path, default=REPO / ".cosmo" / "neo4j" / "lib")
    ap.add_argument("--neo4j-heap", default="2g")
    ap.add_argument("--neo4j-pagecache", default="2g")


def start_console() -> Console:
    """A wide console whose first line says when and on what the benchmark ran."""
    console = Console(width=160)
    console.print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", highlight=False)
    return console


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--batch-size", type=int, default=5000)
    add_backend_args(ap)
    args = ap.parse_args()
    console = start_console()
    with tempfile.TemporaryDirectory(prefix="cosmo-bench-") as tmpd:
        tmp = Path(tmpd)
        fsettings = Settings(state_dir=tmp / "state", falkordb_port=free_port())
        fserver = EmbeddedServer(fsettings) if "falkordb" in args.backends else None
        nserver = None
        if "neo4j" in args.backends:
            nsettings = neo4j_settings(
                tmp / "neo4j-state", args.neo4j_lib_dir, args.neo4j_heap, args.neo4j_pagecache
            )
            nserver = Neo4jServer(nsettings)
        table, runs = new_table(args.batch_size), []
        try:
            warm = tmp / "warm.parquet"
            synthetic(WARM_RELS, seed=1).to_parquet(warm)
            if fserver:
                fserver.start()
                fw = FalkorDBStore.from_settings(fsettings.model_copy(update={"graph": "w"}))
                warm_up(fw, warm, args.batch_size, lambda p: raw_merge_same(fw, p, args.batch_size))
            if nserver:
                nserver.start()
                nw = Neo4jStore.from_settings(nserver.settings)
                warm_up(
                    nw,
                    warm,
                    args.batch_size,
                    lambda p: neo4j_raw_merge(nsettings, p, args.batch_size),
                )
            for size in args.sizes:
                df = synthetic(size)
                path = tmp / f"t{size}.parquet"
                df.to_parquet(path)
                if fserver:
                    runs.append(Runner(console, size, "falkordb"))
                    falkordb_size(runs[-1], fsettings, df, path, tmp, args.batch_size)
                    add_rows(table, runs[-1])
                if nserver:
                    runs.append(Runner(console, size, "neo4j"))
                    neo4j_size(runs[-1], nserver, path, tmp, args.batch_size)
                    add_rows(table, runs[-1])
        finally:
            for server in (fserver, nserver):
                if server:
                    server.stop()
        console.print(table)
        console.print(f"at the end: {machine()}", highlight=False)
        console.print("\n".join(summary(runs)), highlight=False)
        console.print(
            "ratios: 'vs same work' divides by the database doing the same graph (raw MERGE for\n"
            "the incremental loads, the bulk loader on same-graph CSVs for FalkorDB's first build,\n"
            "the neo4j-admin import step alone for cosmo kg neo4j-import); 'vs minimal' by the\n"
            "one-property rows. Figures are noisy on a shared machine; ratios from one run are the\n"
            "result."
        )


if __name__ == "__main__":
    sys.exit(main())
