"""First builds through the databases' bulk paths.

* **FalkorDB**: ``GRAPH.BULK`` commands written directly in its binary format
  (:mod:`cosmo.kg.bulk_binary`; no CSV files, no per-cell parsing). It only builds a graph
  that does not exist yet, so :func:`bulk_load_if_empty` takes it when the graph has no
  nodes, and otherwise returns ``None`` (the caller then loads incrementally with ``MERGE``).
  :func:`write_bulk_csvs` writes the same graph as ``falkordb-bulk-loader`` CSVs (the
  benchmark's baseline, and for users who prefer that tool).
* **Neo4j**: :mod:`cosmo.kg.neo4j_import` (``neo4j-admin database import full``).

Both write the same nodes, edges and properties as the incremental loader, and both write
the load run before the edges that name it (FalkorDB: the first node of the first
``GRAPH.BULK`` command, status ``running`` until the build finished; Neo4j: a node of the
same import), so no edge can point at a run that does not exist.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cosmo.core.errors import CosmoError, GraphStoreError, InputError
from cosmo.kg.bulk_binary import (
    BulkWriter,
    Ragged,
    col_arrays,
    col_const,
    col_doubles,
    col_ints,
    col_values,
)
from cosmo.kg.derived import refresh_after_load
from cosmo.kg.loader import LoadReport
from cosmo.kg.planner import WriteStep, plan_writes
from cosmo.kg.store import WriteSummary
from cosmo.kg.validate import read_triples, refuse_if_too_many
from cosmo.kg.versions import finish_run, new_run

if TYPE_CHECKING:
    import pandas as pd

    from cosmo.core.settings import Settings
    from cosmo.kg.falkordb_store import FalkorDBStore

__all__ = [
    "await_log_rewrite",
    "bulk_load_if_empty",
    "edge_tables",
    "write_bulk_csvs",
    "write_graph_bulk",
]

_NODE_COLS: dict[str, list[tuple[str, str]]] = {
    "products": [("id", "STRING"), ("title", "STRING"), ("type", "STRING"), ("domain", "STRING")],
    "queries": [("key", "STRING"), ("text", "STRING")],
    "intentions": [
        ("id", "STRING"),
        ("text", "STRING"),
        ("tail_type", "STRING"),
        ("aliases", "ARRAY"),
    ],
}
_LABEL = {"products": "Product", "queries": "Query", "intentions": "Intention"}
_EDGE_PROPS = [
    ("created_run", "STRING"),
    ("created_seq", "INT"),
    ("created_at", "STRING"),
    ("updated_run", "STRING"),
    ("sources", "ARRAY"),
    ("frequency", "INT"),
    ("plausibility", "DOUBLE"),
    ("typicality", "DOUBLE"),
    ("model", "STRING"),
    ("pipeline_run", "STRING"),
]


def _edge_props(rel: str) -> list[tuple[str, str]]:
    return (
        [("count", "INT"), ("created_run", "STRING")]
        if rel in ("SEARCH_BUY", "CO_BUY")
        else _EDGE_PROPS
    )


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return json.dumps([str(x) for x in v], ensure_ascii=False)
    return str(v)


def edge_tables(
    steps: list[WriteStep], run: str, seq: int, now: str
) -> Iterable[tuple[str, str, str, list[list[Any]]]]:
    """(start label, type, end label, rows of [start, end, *props]) for every edge step."""
    for st in steps:
        if st.kind == "search_buy":
            yield (
                "Query",
                "SEARCH_BUY",
                "Product",
                [[r["q"], r["p"], r["count"], run] for r in st.rows],
            )
        elif st.kind == "co_buy":
            yield (
                "Product",
                "CO_BUY",
                "Product",
                [[r["a"], r["b"], r["count"], run] for r in st.rows],
            )
        elif st.kind == "knowledge":
            rows = []
            for r in st.rows:
                sources = [p[0] for p in r["pairs"]]
                freq = sum(int(p[1]) for p in r["pairs"])
                rows.append(
                    [
                        r["h"],
                        r["i"],
                        run,
                        seq,
                        now,
                        run,
                        sources,
                        freq,
                        r["pl"],
                        r["ty"],
                        r["model"],
                        r["prun"],
                    ]
                )
            yield str(st.head_label), str(st.relation), "Intention", rows


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([_cell(v) for v in r])


def write_bulk_csvs(
    steps: list[WriteStep], out: Path, run: str, seq: int, now: str
) -> tuple[list[str], int]:
    """Write ``falkordb-bulk-loader`` CSVs for a plan; return its arguments and the edge count.

    The arguments (schema flags, then ``--nodes-with-label``/``--relations-with-type`` per
    file) follow the graph name and server URL on the loader's command line.
    """
    args = ["--enforce-schema", "--escapechar", "none"]
    for st in steps:
        if st.kind in _NODE_COLS:
            cols = _NODE_COLS[st.kind]
            lbl = _LABEL[st.kind]
            header = _node_header(st.kind, lambda t: t, ["created_run:STRING"])
            p = out / f"{st.kind}.csv"
            _write_csv(p, header, ([r.get(n) for n, _ in cols] + [run] for r in st.rows))
            args += ["--nodes-with-label", lbl, str(p)]
    n_edges = 0
    for i, (start, rel, end, rows) in enumerate(edge_tables(steps, run, seq, now)):
        header = [f":START_ID({start})", f":END_ID({end})"]
        header += [f"{n}:{t}" for n, t in _edge_props(rel)]
        p = out / f"edges_{i}.csv"
        _write_csv(p, header, rows)
        n_edges += len(rows)
        args += ["--relations-with-type", rel, str(p)]
    return args, n_edges


def _node_header(kind: str, type_name: Callable[[str], str], extra: list[str]) -> list[str]:
    """CSV header of a node file: the id column, typed properties, then ``extra`` columns."""
    cols = _NODE_COLS[kind]
    head = [f"{cols[0][0]}:ID({_LABEL[kind]})"]
    return head + [f"{n}:{type_name(t)}" for n, t in cols[1:]] + extra


def _graph_is_empty(store: FalkorDBStore) -> bool:
    if not store.exists():
        return True
    return int(store.query("MATCH (n) RETURN count(n) AS n")[0]["n"]) == 0


def bulk_load_if_empty(
    store: FalkorDBStore, path: Path, *, settings: Settings, max_rejected: float = 0.5
) -> LoadReport | None:
    """Build an empty graph from a triples file with ``GRAPH.BULK``; ``None`` if not empty."""
    if not _graph_is_empty(store):
        return None
    t0 = time.perf_counter()
    checked = read_triples(path)
    refuse_if_too_many(checked, path, max_rejected=max_rejected)
    t_read = time.perf_counter() - t0
    report = bulk_build(store, checked.frame, settings=settings, source=str(path))
    report.rows, report.errors = checked.total, checked.errors
    report.seconds = time.perf_counter() - t0
    report.phases = {"read+validate": t_read, **report.phases}
    return report


def _knowledge_columns(st: WriteStep, run: str, seq: int, now: str) -> dict[str, Ragged]:
    c = st.columns
    assert c is not None, "knowledge steps carry their columns"
    n, bounds = len(c["h"]), c["bounds"]
    lo, hi = int(bounds[0]), int(bounds[-1])
    rel = bounds - lo
    return {
        "sources": col_arrays(col_values(c["pairs"][lo:hi]), rel),
        "frequency": col_ints(np.add.reduceat(c["fr"][lo:hi], rel[:-1]) if n else []),
        "plausibility": col_doubles(c["pl"]),
        "typicality": col_doubles(c["ty"]),
        "model": col_values(c["model"]),
        "pipeline_run": col_values(c["prun"]),
        "created_run": col_const(run, n),
        "created_seq": col_const(seq, n),
        "created_at": col_const(now, n),
        "updated_run": col_const(run, n),
    }


def write_graph_bulk(
    store: FalkorDBStore,
    steps: list[WriteStep],
    run: str,
    seq: int,
    now: str,
    *,
    run_node: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Send a plan as ``GRAPH.BULK`` commands (binary, no CSV); return nodes and edges created.

    The same nodes, edges and properties as :func:`write_bulk_csvs` and as the incremental
    ``MERGE`` queries write for a first load. Values are encoded column by column.
    ``run_node`` (the load run's properties) is the first node sent, so the run the edges
    name exists before any of them; it is not counted in the nodes returned.
    """
    writer = BulkWriter(lambda args: store.raw_command("GRAPH.BULK", store.graph_name, *args))
    if run_node is not None:
        props = {k: col_const(v, 1) for k, v in run_node.items()}
        writer.add_nodes("LoadRun", [run_node["id"]], props)
    for st in steps:
        if st.kind in _NODE_COLS:
            names = [n for n, _ in _NODE_COLS[st.kind]]
            rows = list(st.rows)
            props = {n: col_values([r.get(n) for r in rows]) for n in names}
            props["created_run"] = col_const(run, len(rows))
            writer.add_nodes(_LABEL[st.kind], [r[names[0]] for r in rows], props)
    for st in steps:
        if st.kind in ("search_buy", "co_buy"):
            a, b = ("q", "p") if st.kind == "search_buy" else ("a", "b")
            start = "Query" if st.kind == "search_buy" else "Product"
            rows = list(st.rows)
            writer.add_edges(
                st.kind.upper(),
                (start, [r[a] for r in rows]),
                ("Product", [r[b] for r in rows]),
                {
                    "count": col_ints([r["count"] for r in rows]),
                    "created_run": col_const(run, len(rows)),
                },
            )
        elif st.kind == "knowledge" and st.columns is not None:
            writer.add_edges(
                str(st.relation),
                (str(st.head_label), st.columns["h"]),
                ("Intention", st.columns["i"]),
                _knowledge_columns(st, run, seq, now),
            )
    writer.finish()
    return writer.nodes_created - (run_node is not None), writer.edges_created


log = logging.getLogger(__name__)

_HELD = {"auto-aof-rewrite-percentage": "0", "save": ""}


@contextmanager
def background_saves_held(store: FalkorDBStore) -> Iterator[None]:
    """No automatic AOF rewrite or RDB snapshot while a first build writes; one rewrite after.

    A rewrite forks, and FalkorDB prepares the fork by waiting for the graph's writer: with
    ``GRAPH.BULK`` commands arriving back to back on a 10M-edge build, the server was seen
    to stop answering every client, itself included (a client postponed for good behind a
    module "busy" flag). Growth-triggered rewrites also re-encode the whole graph at every
    50% of growth. So they are switched off for the build, the previous settings are put
    back, and the append-only log is rewritten once when the graph is built. A server that
    refuses ``CONFIG`` (a managed one) is left as it is.
    """
    old: dict[str, str] = {}
    try:
        aof = _config_value(store.raw_command("CONFIG", "GET", "appendonly"))
        for k, v in _HELD.items():
            old[k] = _config_value(store.raw_command("CONFIG", "GET", k))
            store.raw_command("CONFIG", "SET", k, v)
    except CosmoError as e:
        log.warning("background saves not held during the first build: %s", e)
        aof = ""
    try:
        yield
    finally:
        try:
            for k, v in old.items():
                store.raw_command("CONFIG", "SET", k, v)
            if old and aof == "yes":
                store.raw_command("BGREWRITEAOF")
        except CosmoError as e:  # a server gone (the build says why) or a rewrite running
            log.warning("after the first build: %s", e)


def await_log_rewrite(store: FalkorDBStore, *, timeout_s: float = 1800.0) -> dict[str, Any]:
    """Wait until the server rewrites its append-only file no more (none running or
    scheduled; a first build ends by asking for one); its ``INFO persistence`` then."""
    deadline = time.monotonic() + timeout_s
    while True:
        info: dict[str, Any] = store.raw_command("INFO", "persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return info
        if time.monotonic() > deadline:
            raise GraphStoreError(f"the AOF rewrite still runs after {timeout_s:.0f} s")
        time.sleep(0.1)


def _config_value(reply: Any) -> str:
    """The value of a one-key ``CONFIG GET`` reply (a list or a dict, str or bytes)."""
    value = next(iter(reply.values())) if isinstance(reply, dict) else reply[1]
    return value.decode() if isinstance(value, bytes) else str(value)


def bulk_build(
    store: FalkorDBStore, good: pd.DataFrame, *, settings: Settings, source: str = "inline"
) -> LoadReport:
    """Plan, then build the graph (which must not exist yet) with ``GRAPH.BULK`` commands.

    ``settings`` is kept for callers; the commands go through the store's own connection.
    """
    t0 = time.perf_counter()
    steps = plan_writes(good)
    t1 = time.perf_counter()
    started = datetime.now(UTC)
    seq, run_id, now = 1, f"run-{started:%Y%m%d-%H%M%S}-bulk", started.isoformat()
    run_node = new_run(
        run_id,
        seq,
        digest=json.dumps({"bulk": source}),
        params={"bulk": True, "file": source},
        total_batches=0,
        now=started,
    )
    if store.exists():
        store.clear()  # an empty graph (indexes only) is rebuilt
    with background_saves_held(store):
        try:
            n_nodes, n_edges = write_graph_bulk(store, steps, run_id, seq, now, run_node=run_node)
        except InputError:
            if store.exists():  # a value refused after the first command: no half graph
                store.clear()
            raise
        t2 = time.perf_counter()
        store.setup(embedding_dim=384)
        t3 = time.perf_counter()
        counts = WriteSummary(nodes_created=n_nodes, relationships_created=n_edges)
        derived = refresh_after_load(store, run_id, seq, now, first_build=True)
        t4 = time.perf_counter()
    finish_run(store, run_id, counts, rejected=0, loaded=len(good))
    report = LoadReport(run_id, seq, source, len(good), len(good), [], counts, batches=0)
    report.derived = derived
    report.phases = {"plan": t1 - t0, "encode+GRAPH.BULK": t2 - t1, "indexes": t3 - t2,
                     "derived": t4 - t3}  # fmt: skip
    return report
