"""Benchmark: what the graph costs as it grows, on FalkorDB and Neo4j (resumable per size).

    nice -n 10 python bench/scale.py [--sizes 1000000 3000000 10000000]
                                     [--full-upto 3000000] [--backends falkordb neo4j]
                                     [--queries 300] [--warmup 50] [--sample 20000]
    python bench/scale.py --report docs      # table + PNG plots from the results only

For each size (relationships) and backend, a fresh server of the benchmark's own (free
ports, a temporary folder) builds the synthetic graph of ``bench/kg_traverse.py``
(:func:`kg_traverse.demo_like`, shaped like the demo graph: Zipf–Mandelbrot product, query
and intention popularity, titles ~80 characters, intention texts ~40; its docstring has the
laws and the degree table is printed per size) with cosmo's first build (FalkorDB
``GRAPH.BULK``, Neo4j ``neo4j-admin import``), and records:

* ``build_s``: the first build, indexes online (``build_phases_s``: its phases, the
  derived-edge refresh among them);
* ``rss_mb``: the server's resident memory (``/proc/<pid>/status`` VmRSS; the JVM's for Neo4j,
  whose heap and page cache are capped by ``--neo4j-heap``/``--neo4j-pagecache``) after the
  build and, for full sizes, again after the queries; ``disk_mb``: its data folder;
* for sizes up to ``--full-upto``: 2-hop, ``cobuy_explained`` and navigation p50/p99
  (:func:`kg_traverse.measure`, one call at a time), then the incremental load rate:
  ``--sample`` new triples of the same shape (other draws over the same products, queries and
  intentions) loaded with ``load_triples_file`` (``UNWIND … MERGE`` batches) on top of the
  built graph.

Before the builds of a size, a fresh Python process reads, validates and plans its file (what
both backends' first builds do before they write): ``{size}-plan.json`` records its seconds and
its peak resident memory (``VmHWM``), the memory the machine that runs a first build needs
besides the server's.

Each (size, backend) result is one JSON in ``--out`` (default ``.cosmo/bench/scale``); a rerun
skips those that exist, so a long run resumes where it stopped. The load average is recorded
with each. ``--report DIR`` prints the table and writes ``DIR/scaling-time.png`` and
``DIR/scaling-memory.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kg_load import REPO, add_backend_args, backend_server, start_console
from kg_traverse import _triples, build, degree_stats, demo_like, measure, start_nodes, stats_table
from rich.console import Console
from rich.table import Table

from cosmo.core.settings import Settings
from cosmo.kg.bulk import await_log_rewrite
from cosmo.kg.factory import open_async_store, open_store
from cosmo.kg.falkordb_store import AsyncFalkorDBStore, FalkorDBStore
from cosmo.kg.loader import load_triples_file
from cosmo.kg.store import AsyncGraphStore
from cosmo.kg.versions import graph_stats

QUERIES = ("2-hop", "cobuy_explained", "navigate")


def rss_mb(pid: int | str | None, field: str = "VmRSS") -> float | None:
    """Resident memory of process ``pid`` (``"self"``: this one) in MiB, or another
    ``/proc/<pid>/status`` field such as ``VmHWM``, its peak; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        return None
    return None


def disk_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def probe_plan(path: Path) -> dict[str, Any]:
    """Read, validate and plan ``path`` as a first build does; seconds and memory (MiB).

    Run by :func:`plan_memory` in a process of its own, so that the peak is the plan's and not
    the benchmark's (which generated the file). ``baseline_mb`` is the process before reading.
    """
    from cosmo.kg.planner import plan_writes
    from cosmo.kg.validate import read_triples, refuse_if_too_many

    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
    out: dict[str, Any] = {"baseline_mb": rss_mb("self")}
    t = time.perf_counter()
    checked = read_triples(path)
    refuse_if_too_many(checked, path, max_rejected=0.5)
    out["read_validate_s"] = round(time.perf_counter() - t, 1)
    out["after_read_mb"] = rss_mb("self", "VmHWM")
    t = time.perf_counter()
    steps = plan_writes(checked.frame)
    out["plan_s"] = round(time.perf_counter() - t, 1)
    out["peak_mb"] = rss_mb("self", "VmHWM")
    out["triples"], out["steps"] = len(checked.frame), len(steps)
    return out


def plan_memory(path: Path, size: int) -> dict[str, Any]:
    """:func:`probe_plan` of ``path`` in a fresh Python process (this script, ``--probe-plan``)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--probe-plan", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"planning {path} failed:\n{done.stderr[-4000:]}")
    res = json.loads(done.stdout.strip().splitlines()[-1])
    res["size"] = size
    res["load_average"] = [round(x, 2) for x in os.getloadavg()]
    res["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    return res


def incremental(settings: Settings, size: int, n: int, tmp: Path) -> dict[str, Any]:
    """Load ``n`` new triples of the graph's shape on top of it; rows/s and edges created/s."""
    path = tmp / f"sample{size}.parquet"
    _triples(n, size, seed=size + 1).to_parquet(path)
    store = open_store(settings)
    try:
        t = time.perf_counter()
        report = load_triples_file(store, path)
        s = time.perf_counter() - t
    finally:
        store.close()
    made = report.written.relationships_created
    return {
        "rows": n,
        "seconds": round(s, 1),
        "rows_per_s": round(n / s),
        "rels_created": made,
        "rels_per_s": round(made / s),
        "phases_s": {k: round(v, 1) for k, v in report.phases.items()},
    }


def settled(store: Any) -> float:
    """Seconds waited until a FalkorDB server rewrites its append-only file no more (a first
    build ends by asking for one): until then the old log and the new one are both on disk,
    at 10M edges 1.4 GiB instead of 0.5. Other stores: 0."""
    if not isinstance(store, FalkorDBStore):
        return 0.0
    t = time.perf_counter()
    await_log_rewrite(store)
    return round(time.perf_counter() - t, 1)


def patient_store(settings: Settings) -> AsyncGraphStore:
    """The API's async store, but a FalkorDB socket that waits for slow calls (the API's
    pool gives up reading after a few seconds, which a hub query on a loaded 2-core machine
    exceeded at 3M): a slow call is measured, not cut off."""
    if settings.backend != "falkordb":
        return open_async_store(settings)

    def connect() -> Any:
        from falkordb.asyncio import FalkorDB

        return FalkorDB(
            host=settings.falkordb_host, port=settings.falkordb_port, socket_timeout=600
        )

    return AsyncFalkorDBStore(connect, settings.graph)


def run_one(
    backend: str, size: int, n_triples: int, starts: Any, path: Path, tmp: Path, args: Any
) -> dict[str, Any]:
    """Build, weigh and (for full sizes, given their ``starts``) query and grow one graph."""
    settings, server = backend_server(backend, tmp, args, "scale")
    server.start()
    try:
        res: dict[str, Any] = {"size": size, "backend": backend, "triples": n_triples}
        res["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
        res["build_phases_s"] = {}
        res["build_s"] = round(build(backend, settings, server, path, res["build_phases_s"]), 1)
        store = open_store(settings)
        try:
            res["relationships"] = sum(graph_stats(store)["relationships"].values())
            res["nodes"] = sum(graph_stats(store)["nodes"].values())
            res["rewrite_wait_s"] = settled(store)
        finally:
            store.close()
        time.sleep(2)
        res["rss_mb"] = rss_mb(server.status().pid)
        res["disk_mb"] = disk_mb(settings.state_dir)
        if starts is not None:
            res["queries"] = asyncio.run(measure(patient_store(settings), starts, args.warmup))
            res["rss_after_queries_mb"] = rss_mb(server.status().pid)
            res["incremental"] = incremental(settings, size, args.sample, tmp)
        res["load_average"] = [round(x, 2) for x in os.getloadavg()]
        res["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        if backend == "neo4j":
            res["neo4j_heap"], res["neo4j_pagecache"] = args.neo4j_heap, args.neo4j_pagecache
        return res
    finally:
        server.stop()
        shutil.rmtree(settings.state_dir, ignore_errors=True)


def results(out: Path) -> list[dict[str, Any]]:
    """The builds' results (``{size}-{backend}.json``), by size then backend."""
    rows = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    return sorted((r for r in rows if "backend" in r), key=lambda r: (r["size"], r["backend"]))


def plans(out: Path) -> list[dict[str, Any]]:
    """The plans' results (``{size}-plan.json``), by size."""
    return sorted(
        (json.loads(p.read_text()) for p in out.glob("*-plan.json")), key=lambda r: r["size"]
    )


def plan_cells(r: dict[str, Any]) -> list[str]:
    """One plan result as its table's cells; B/triple is the peak over the baseline."""
    per = (r["peak_mb"] - r["baseline_mb"]) * 2**20 / r["triples"]
    return [
        f"{r['size']:,}", f"{r['triples']:,}", f"{r['read_validate_s']:.1f}", f"{r['plan_s']:.1f}",
        f"{r['baseline_mb']:,.0f}", f"{r['peak_mb']:,.0f}", f"{per:,.0f}",
    ]  # fmt: skip


PLAN_COLUMNS = (
    *("size", "triples", "read+validate s", "plan s"),
    *("baseline MiB", "peak MiB", "B/triple"),
)


def cells(r: dict[str, Any]) -> list[str]:
    """One result as the table's cells (empty where a size measured build and RSS only)."""
    q, inc = r.get("queries", {}), r.get("incremental", {})
    per_edge = r["rss_mb"] * 2**20 / r["relationships"] if r.get("rss_mb") else None
    return [
        r["backend"], f"{r['relationships']:,}", f"{r['nodes']:,}", f"{r['build_s']:.1f}",
        f"{r['build_phases_s']['derived']:.1f}" if "derived" in r.get("build_phases_s", {}) else "",
        f"{r['rss_mb']:,.0f}" if r.get("rss_mb") else "",
        f"{r['rss_after_queries_mb']:,.0f}" if r.get("rss_after_queries_mb") else "",
        f"{r['disk_mb']:,.0f}", f"{per_edge:.0f}" if per_edge else "",
        *(f"{q[n][p]:.1f}" if n in q else "" for n in QUERIES for p in ("p50_ms", "p99_ms")),
        f"{inc['rows_per_s']:,}" if inc else "", f"{inc['rels_per_s']:,}" if inc else "",
        f"{r['load_average'][0]:.1f}",
    ]  # fmt: skip


COLUMNS = (
    *("backend", "rels", "nodes", "build s", "of which derived s", "RSS MiB"),
    *("RSS after queries", "disk MiB"),
    "B/edge (RSS)",
    *(f"{q} {p} ms" for q in QUERIES for p in ("p50", "p99")),
    *("incr. rows/s", "incr. rels/s", "load avg"),
)


def show(console: Console, title: str, columns: tuple[str, ...], rows: list[list[str]]) -> str:
    """Print a table of ``rows`` (cells); return it as Markdown too."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c, justify="left" if c == "backend" else "right")
    md = ["| " + " | ".join(columns) + " |", "|---" + "|---:" * (len(columns) - 1) + "|"]
    for r in rows:
        table.add_row(*r)
        md.append("| " + " | ".join(r) + " |")
    console.print(table)
    return "\n".join(md) + "\n"


def phases_md(rows: list[dict[str, Any]]) -> str:
    """Each backend's first-build phases against size, seconds (Markdown, one table each)."""
    out = []
    for backend in sorted({r["backend"] for r in rows}):
        mine = [r for r in rows if r["backend"] == backend and r.get("build_phases_s")]
        if not mine:
            continue
        names = list(mine[0]["build_phases_s"])
        out.append(f"| {backend} rels | " + " | ".join(names) + " | build s |")
        out.append("|---" + "|---:" * (len(names) + 1) + "|")
        for r in mine:
            cells = [f"{r['build_phases_s'].get(n, 0):.1f}" for n in names]
            out.append(
                f"| {r['relationships']:,} | " + " | ".join(cells) + f" | {r['build_s']:.1f} |"
            )
        out.append("")
    return "\n".join(out)


def _proportional(ax: Any, pts: list[tuple[int, float]]) -> None:
    """A dotted line proportional to size, from the first of ``pts`` to the last's size."""
    (x0, y0), x1 = pts[0], pts[-1][0]
    ax.plot([x0, x1], [y0, y0 * x1 / x0], ":", color="grey", linewidth=1)


def plot(
    rows: list[dict[str, Any]], folder: Path, planned: list[dict[str, Any]] | None = None
) -> list[Path]:
    """Build time and memory against relationships, one line per backend (log-log), with a
    dotted line proportional to size through the smallest point: a curve steeper than it
    grows faster than linearly. The memory plot adds each data folder on disk (dashed) and
    the peak of the process that plans the build (``planned``, dash-dotted, with its own
    dotted line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    for name, keys, label in (
        ("scaling-time.png", ("build_s",), "first build, s"),
        (
            "scaling-memory.png",
            ("rss_mb", "disk_mb"),
            "MiB: server RSS after the build, disk, plan peak",
        ),
    ):
        fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=100)
        for key in keys:
            for backend in sorted({r["backend"] for r in rows}):
                pts = sorted(
                    (r["relationships"], r[key])
                    for r in rows
                    if r["backend"] == backend and r.get(key)
                )
                if not pts:
                    continue
                what = "" if key == keys[0] else " (disk)"
                style = "-" if key == keys[0] else "--"
                colour = "C0" if backend == "falkordb" else "C1"
                ax.plot(
                    *zip(*pts, strict=True), style, color=colour, marker="o", label=backend + what
                )
                if key == keys[0]:
                    _proportional(ax, pts)
        rels = {r["size"]: r["relationships"] for r in rows}
        pts = sorted((rels[p["size"]], p["peak_mb"]) for p in planned or [] if p["size"] in rels)
        if name == "scaling-memory.png" and pts:
            ax.plot(
                *zip(*pts, strict=True),
                "-.",
                color="C2",
                marker="s",
                label="plan (build's process)",
            )
            _proportional(ax, pts)
        ax.plot([], [], ":", color="grey", label="∝ size (linear)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("relationships")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(folder / name)
        plt.close(fig)
        made.append(folder / name)
    return made


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--full-upto", type=int, default=3_000_000, help="larger: build + RSS only")
    ap.add_argument("--queries", type=int, default=300, help="timed calls of each query")
    ap.add_argument("--warmup", type=int, default=50, help="untimed calls first")
    ap.add_argument("--sample", type=int, default=20_000, help="triples of the incremental load")
    ap.add_argument("--out", type=Path, default=REPO / ".cosmo" / "bench" / "scale")
    ap.add_argument("--report", type=Path, help="only print the table and write plots here")
    ap.add_argument("--probe-plan", type=Path, help=argparse.SUPPRESS)  # see plan_memory
    add_backend_args(ap)
    args = ap.parse_args()
    if args.probe_plan is not None:
        print(json.dumps(probe_plan(args.probe_plan)))
        return
    console = start_console()
    console.width = 240
    args.out.mkdir(parents=True, exist_ok=True)
    if args.report is None:
        for size in args.sizes:
            todo = [b for b in args.backends if not (args.out / f"{size}-{b}.json").exists()]
            plan_json = args.out / f"{size}-plan.json"
            if not todo and plan_json.exists():
                continue
            with tempfile.TemporaryDirectory(prefix="cosmo-scale-") as tmpd:
                tmp = Path(tmpd)
                df = demo_like(size)
                path = tmp / f"t{size}.parquet"
                df.to_parquet(path)
                stats = degree_stats(df)
                stats_table(console, size, stats)
                n_triples, starts = len(df), None
                if size <= args.full_upto:
                    starts = start_nodes(df, args.warmup + args.queries, seed=size)
                # the build reads the file back: holding both frames took 20 GiB at 10M
                del df
                gc.collect()
                if not plan_json.exists():
                    console.print(f"  {size:>10,}  planning in a process of its own ...", highlight=False)  # fmt: skip
                    plan_res = plan_memory(path, size)
                    plan_json.write_text(json.dumps(plan_res, indent=1))
                    console.print(f"  {size:>10,}  plan: {json.dumps(plan_res)}", highlight=False)
                for b in todo:
                    console.print(f"  {size:>10,}  {b}: building ...", highlight=False)
                    res = run_one(b, size, n_triples, starts, path, tmp, args)
                    res["degrees"] = stats
                    (args.out / f"{size}-{b}.json").write_text(json.dumps(res, indent=1))
                    console.print(f"  {size:>10,}  {b}: {json.dumps({k: v for k, v in res.items() if k not in ('queries', 'degrees')})}", highlight=False)  # fmt: skip
    rows, planned = results(args.out), plans(args.out)
    title = "Scaling: first build, memory, queries (ms), incremental load"
    md = show(console, title, COLUMNS, [cells(r) for r in rows])
    title = "The build's own process: reading, validating and planning the file"
    md_plans = (
        show(console, title, PLAN_COLUMNS, [plan_cells(p) for p in planned]) if planned else ""
    )
    if args.report is not None:
        args.report.mkdir(parents=True, exist_ok=True)
        (args.report / "scaling-table.md").write_text(
            md + "\n" + phases_md(rows) + ("\n" + md_plans if md_plans else "")
        )
        for p in plot(rows, args.report, planned):
            console.print(f"wrote {p}", highlight=False)


if __name__ == "__main__":
    main()
