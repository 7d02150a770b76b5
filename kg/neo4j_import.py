"""The first build of a Neo4j database: CSVs for ``neo4j-admin database import full``.

``cosmo kg neo4j-import TRIPLES`` validates the triples, plans them exactly as the incremental
loader does, writes one CSV per node kind and edge table, and runs the admin tool from the
resolved jars (``org.neo4j.cli.AdminTool``) into the data directory of the server cosmo
starts, which it stops for the import and starts again afterwards. The load run is one of the
imported nodes, so the version exists exactly when its edges do.

All or nothing: a failed import leaves its store unusable, so the tool builds a staging
database, and only once that succeeded are its store and transaction folders swapped in for
the served database's. A failure leaves the old database as it was, and the server running.

Arrays (``sources``, ``aliases``) are joined with U+001F, a control character that input
validation refuses in every value, so it can never split one.

Time (``bench/kg_load.py``): the server starts (or is found running) and counts its nodes on
a thread while the triples are planned; the CSVs are written whole columns at a time by
Arrow's CSV writer (the knowledge edges straight from the plan's numpy columns), about five
times faster than cell by cell. What remains beside the import itself is planning, the
server's restart and the indexes; see ``kg/README.md``.
"""

from __future__ import annotations

import csv
import itertools
import json
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from cosmo.core.errors import InputError, ServerError
from cosmo.core.text import CONTROL_CHARACTERS, refuse_control
from cosmo.kg.bulk import _LABEL, _NODE_COLS, _edge_props
from cosmo.kg.derived import refresh_after_load
from cosmo.kg.loader import LoadReport
from cosmo.kg.planner import WriteStep, plan_writes
from cosmo.kg.store import WriteSummary
from cosmo.kg.validate import read_triples, refuse_if_too_many

if TYPE_CHECKING:
    from cosmo.kg.neo4j_server import Neo4jServer

__all__ = ["ARRAY_DELIMITER", "neo4j_first_build", "write_import_csvs"]

ARRAY_DELIMITER = "\x1f"
STAGING = "cosmoimport"  # the database the admin tool builds before it is swapped in
_CONTROL_BYTES = CONTROL_CHARACTERS.encode()
_TYPE = {"STRING": "string", "INT": "long", "DOUBLE": "double", "ARRAY": "string[]"}
_RUN_COLS = [
    ("id", "string"), ("seq", "long"), ("status", "string"), ("digest", "string"),
    ("params", "string"), ("started_at", "string"), ("finished_at", "string"),
    ("done_batches", "long"), ("total_batches", "long"), ("counts", "string"),
    ("loaded", "long"), ("rejected", "long"),
]  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ARRAY_DELIMITER.join(str(v) for v in value)
    return str(value)


def _write(path: Path, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            values = list(r)
            _refuse_controls(values)
            w.writerow([_cell(v) for v in values])


def _text(v: Any) -> str | None:
    if type(v) is str:
        return v
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    return str(v)


def _controls(arr: pa.Array) -> int:
    """How many control characters (:mod:`cosmo.core.text`) a string column holds."""
    buf = arr.buffers()[2]
    data = b"" if buf is None else buf.to_pybytes()
    return len(data) - len(data.translate(None, _CONTROL_BYTES))


def _refuse_controls(values: list[Any]) -> None:
    """Name the first value (or array element) holding a control character."""
    for i, v in enumerate(values):
        refuse_control(v, field=f"import CSV value {i + 1} ({str(v)[:40]!r})")


def _strings(values: Iterable[Any]) -> pa.Array:
    """A string column; a missing value (None, NaN, NA) is an empty cell (no property)."""
    texts = [v if type(v) is str else _text(v) for v in values]
    arr = pa.array(texts, pa.string())
    if _controls(arr):
        _refuse_controls(texts)
    return arr


def _arrays(values: Iterable[Any]) -> pa.Array:
    """An array column, elements joined; an empty array is an empty cell (see the docstring).

    The delimiter is a control character, so an element holding one is refused: the joined
    cell holds exactly one delimiter fewer than elements, and nothing else below U+0020.
    """
    lists = [[str(x) for x in v] if v else None for v in values]
    arr = pa.array([ARRAY_DELIMITER.join(v) if v else None for v in lists], pa.string())
    if _controls(arr) != sum(len(v) - 1 for v in lists if v):
        _refuse_controls(lists)
    return arr


def _const(value: Any, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value), n)


def _write_columns(path: Path, header: list[str], columns: list[pa.Array]) -> None:
    """One CSV from whole columns (Arrow's C++ writer: strings quoted, null cells empty)."""
    from pyarrow import csv as pa_csv

    table = pa.Table.from_arrays(columns, names=[str(k) for k in range(len(columns))])
    with open(path, "wb") as f:
        f.write((",".join(header) + "\n").encode())
        pa_csv.write_csv(table, f, pa_csv.WriteOptions(include_header=False))


def _node_columns(st: WriteStep, run_id: str) -> list[pa.Array]:
    n = len(st.rows)
    cols = [
        _arrays([r.get(name) for r in st.rows])
        if kind == "ARRAY"
        else _strings([r.get(name) for r in st.rows])
        for name, kind in _NODE_COLS[st.kind]
    ]
    return [*cols, _const(run_id, n), _const(_LABEL[st.kind], n)]


def _edge_columns(
    st: WriteStep, run: str, seq: int, now: str
) -> tuple[str, str, str, list[pa.Array]]:
    """(start label, type, end label, columns: start, end, properties as ``_edge_props``, type)."""
    n = len(st.rows)
    if st.kind in ("search_buy", "co_buy"):
        (a, b), start, rel = (
            (("q", "p"), "Query", "SEARCH_BUY")
            if st.kind == "search_buy"
            else (("a", "b"), "Product", "CO_BUY")
        )
        rows = st.rows
        cols = [_strings(r[a] for r in rows), _strings(r[b] for r in rows)]
        cols += [pa.array([r["count"] for r in rows], pa.int64()), _const(run, n)]
        return start, rel, "Product", [*cols, _const(rel, n)]
    c = st.columns
    assert c is not None, "knowledge steps carry their columns"
    bounds = c["bounds"]
    lo, hi = int(bounds[0]), int(bounds[-1])
    pairs, rel_bounds = c["pairs"][lo:hi].tolist(), (bounds - lo).tolist()
    sources = [pairs[x:y] for x, y in itertools.pairwise(rel_bounds)]
    frequency = np.add.reduceat(c["fr"][lo:hi], rel_bounds[:-1]) if n else np.zeros(0, int)
    cols = [
        _strings(c["h"]), _strings(c["i"]),
        _const(run, n), _const(seq, n), _const(now, n), _const(run, n),
        _arrays(sources), pa.array(frequency, pa.int64()),
        pa.array(c["pl"], pa.float64(), from_pandas=True),
        pa.array(c["ty"], pa.float64(), from_pandas=True),
        _strings(c["model"]), _strings(c["prun"]),
    ]  # fmt: skip
    rel = str(st.relation)
    return str(st.head_label), rel, "Intention", [*cols, _const(rel, n)]


def write_import_csvs(
    steps: list[WriteStep], out: Path, run: dict[str, Any], now: str
) -> tuple[list[str], WriteSummary]:
    """Write the node and edge CSVs of a plan, then the load run's node with their counts.

    Returns the admin tool's ``--nodes``/``--relationships`` arguments and the counts (nodes
    without the load run, edges). Columns are built whole (the knowledge steps' from their
    numpy columns) and written by Arrow, not cell by cell.
    """
    out.mkdir(parents=True, exist_ok=True)
    args, n_nodes, n_edges = [], 0, 0
    for st in (s for s in steps if s.kind in _NODE_COLS):
        cols = _NODE_COLS[st.kind]
        header = [f"{cols[0][0]}:ID({_LABEL[st.kind]})"]
        header += [f"{n}:{_TYPE[t]}" for n, t in cols[1:]] + ["created_run:string", ":LABEL"]
        path = out / f"{st.kind}.csv"
        _write_columns(path, header, _node_columns(st, run["id"]))
        args.append(f"--nodes={path}")
        n_nodes += len(st.rows)
    edge_steps = [s for s in steps if s.kind in ("search_buy", "co_buy", "knowledge")]
    for i, st in enumerate(edge_steps):
        start, rel, end, columns = _edge_columns(st, run["id"], run["seq"], now)
        header = [f":START_ID({start})", f":END_ID({end})"]
        header += [f"{n}:{_TYPE[t]}" for n, t in _edge_props(rel)] + [":TYPE"]
        path = out / f"edges_{i}.csv"
        _write_columns(path, header, columns)
        args.append(f"--relationships={path}")
        n_edges += len(st.rows)
    counts = WriteSummary(nodes_created=n_nodes, relationships_created=n_edges)
    run = {**run, "counts": json.dumps({k: v for k, v in vars(counts).items() if k != "rows"})}
    run_path = out / "load_run.csv"
    header = [f"{n}:{t}" if n != "id" else "id:ID(LoadRun)" for n, t in _RUN_COLS] + [":LABEL"]
    _write(run_path, header, [[run.get(n) for n, _ in _RUN_COLS] + ["LoadRun"]])
    args.append(f"--nodes={run_path}")
    return args, counts


def _count_nodes(server: Neo4jServer) -> int:
    from cosmo.kg.neo4j_store import Neo4jStore

    store = Neo4jStore.from_settings(server.settings)
    try:
        return int(store.query("MATCH (n) RETURN count(n) AS n")[0]["n"])
    finally:
        store.close()


def _start_and_count(server: Neo4jServer, say: Callable[[str], None]) -> int:
    server.start(say=say)
    return _count_nodes(server)


def _admin_import(server: Neo4jServer, files: list[str], say: Callable[[str], None]) -> None:
    """Build the staging database with the admin tool (the server is stopped)."""
    proc = server.admin(
        "database", "import", "full", STAGING, "--overwrite-destination",
        f"--array-delimiter={ARRAY_DELIMITER}", "--multiline-fields=true",
        f"--report-file={server.logs_dir / 'import.report'}", *files,
    )  # fmt: skip
    lines = (proc.stdout + proc.stderr).splitlines()
    if proc.returncode != 0:
        _drop_staging(server)
        raise ServerError(
            f"neo4j-admin database import failed (exit {proc.returncode}); the database is "
            "unchanged:\n" + "\n".join(lines[-15:])
        )
    done = [ln.strip() for ln in lines if ln.strip().startswith(("IMPORT DONE", "Imported"))]
    say(" ".join(done) or "import done")


def _store_dirs(server: Neo4jServer, name: str) -> list[Path]:
    return [server.data_dir / "databases" / name, server.data_dir / "transactions" / name]


def _drop_staging(server: Neo4jServer) -> None:
    for d in _store_dirs(server, STAGING):
        shutil.rmtree(d, ignore_errors=True)


def _swap_in(server: Neo4jServer) -> None:
    """Replace the served database's folders by the staging database's (server stopped)."""
    database = server.settings.neo4j_database
    trash = server.home / f".replaced-{uuid.uuid4().hex[:8]}"
    trash.mkdir()
    for i, (new, old) in enumerate(
        zip(_store_dirs(server, STAGING), _store_dirs(server, database), strict=True)
    ):
        if old.exists():
            old.rename(trash / str(i))
        new.rename(old)
    shutil.rmtree(trash, ignore_errors=True)


def neo4j_first_build(
    server: Neo4jServer,
    path: Path,
    *,
    overwrite: bool = False,
    max_rejected: float = 0.5,
    say: Callable[[str], None] = print,
) -> LoadReport:
    """Build the server's database from a triples file with ``neo4j-admin``; start it again.

    Refuses a database that holds nodes unless ``overwrite``: the import replaces it whole.
    """
    t0 = time.perf_counter()
    checked = read_triples(path)
    refuse_if_too_many(checked, path, max_rejected=max_rejected, verb="imported")
    # the server starts (or is found running) and counts its nodes while the triples are
    # planned: a socket wait beside pandas work, so the two overlap
    with ThreadPoolExecutor(1, thread_name_prefix="cosmo-neo4j-start") as pool:
        counting = pool.submit(_start_and_count, server, say)
        steps = plan_writes(checked.frame)
        held = counting.result()
    if held and not overwrite:
        raise InputError(
            f"the Neo4j database holds {held} nodes and neo4j-import replaces it whole; add to it "
            "with `cosmo kg load`, or pass --overwrite",
            file=str(path),
        )
    now = datetime.now(UTC)
    run: dict[str, Any] = {
        "id": f"run-{now:%Y%m%d-%H%M%S}-import", "seq": 1, "status": "done",
        "digest": json.dumps({"import": str(path)}),
        "params": json.dumps({"neo4j_import": True, "file": str(path)}),
        "started_at": now.isoformat(), "done_batches": 0, "total_batches": 0,
        "loaded": len(checked.frame), "rejected": len(checked.errors),
    }  # fmt: skip
    csv_dir = server.home / "import" / run["id"]
    t1 = time.perf_counter()
    run["finished_at"] = datetime.now(UTC).isoformat()
    files, counts = write_import_csvs(steps, csv_dir, run, now.isoformat())
    t2 = time.perf_counter()
    server.stop()
    try:
        _admin_import(server, files, say)
        _swap_in(server)
    finally:
        shutil.rmtree(csv_dir, ignore_errors=True)
        server.start(say=say)
    t3 = time.perf_counter()
    from cosmo.kg.neo4j_store import Neo4jStore

    store = Neo4jStore.from_settings(server.settings)
    try:
        # CSV has no empty array; the incremental loader gives an intention without aliases []
        store.execute("MATCH (i:Intention) WHERE i.aliases IS NULL SET i.aliases = []")
        store.setup(embedding_dim=384)
        t4 = time.perf_counter()
        derived = refresh_after_load(store, run["id"], 1, run["started_at"], first_build=True)
    finally:
        store.close()
    t5 = time.perf_counter()
    report = LoadReport(run["id"], 1, str(path), checked.total, len(checked.frame),
                        checked.errors, counts, batches=0)  # fmt: skip
    report.derived = derived
    report.phases = {"read+validate+plan": t1 - t0, "csv": t2 - t1, "import": t3 - t2,
                     "start+indexes": t4 - t3, "derived": t5 - t4}  # fmt: skip
    report.seconds = t5 - t0
    return report
