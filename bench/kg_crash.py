"""Crash recovery at scale: kill -9 the loader mid-load, rerun, compare with a clean build;
and how long the server takes to come back after kill -9, against graph size.

    python bench/kg_crash.py [--rels 1000000] [--kill-at 0.5]
    python bench/kg_crash.py --recovery-sizes 10000 100000 1000000

Builds the reference graph with the bulk path (the tests show it equals an incremental load),
then loads the same Parquet incrementally with ``cosmo kg load --no-bulk`` in a subprocess,
sends SIGKILL when the run's checkpoint passes ``--kill-at`` of its batches, runs the same
command again, and checks: identical node and relationship counts, no duplicate edges, one
finished run.

``--recovery-sizes``: for each size, a fresh server, an incremental load of that many
relationships (``cosmo kg load --no-bulk``'s path, in process), then kill -9 of the *server*
and the time until it answers again (replaying its RDB preamble and append-only tail), then
a clean stop and start; the graph's counts must equal those before the kill.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kg_load import synthetic

from cosmo.core.settings import Settings
from cosmo.kg.bulk import bulk_load_if_empty
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.loader import load_triples_file
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.versions import graph_stats, list_runs


def _fresh_server(tmp: Path) -> tuple[Settings, EmbeddedServer]:
    """An embedded server of its own, started, on a free port with its state under ``tmp``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(state_dir=tmp / "state", falkordb_port=port, graph="crash")
    server = EmbeddedServer(settings)
    server.start()
    return settings, server


def _aof_mb(state: Path) -> float:
    return sum(p.stat().st_size for p in (state / "db" / "appendonlydir").glob("*")) / 1e6


def _timed_start(server: EmbeddedServer) -> float:
    t0 = time.perf_counter()
    server.start(timeout=600)
    return time.perf_counter() - t0


def recovery(sizes: list[int], batch_size: int, console: Console) -> None:
    """Restart time of the embedded server after kill -9, per graph size (see the docstring)."""
    t = Table(title="FalkorDB restart after kill -9, against graph size")
    for c in ("relationships", "load", "AOF dir", "restart after kill -9", "after stop", "equal"):
        t.add_column(c, justify="right")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="cosmo-recovery-") as tmpd:
            tmp = Path(tmpd)
            settings, server = _fresh_server(tmp)
            store = FalkorDBStore.from_settings(settings)
            try:
                path = tmp / "t.parquet"
                synthetic(n).to_parquet(path)
                store.setup(embedding_dim=384)
                t0 = time.perf_counter()
                load_triples_file(store, path, batch_size=batch_size)
                t_load = time.perf_counter() - t0
                before = graph_stats(store)
                time.sleep(1.5)  # the append-only file is flushed every second
                aof = _aof_mb(settings.state_dir)
                os.kill(server.status().pid or 0, signal.SIGKILL)
                while server.status().running:
                    time.sleep(0.05)
                t_kill = _timed_start(server)
                equal = graph_stats(store) == before
                server.stop()
                t_stop = _timed_start(server)
                equal = equal and graph_stats(store) == before
                rels = sum(before["relationships"].values())
                t.add_row(
                    f"{rels:,}",
                    f"{t_load:.0f} s",
                    f"{aof:.0f} MB",
                    f"{t_kill:.1f} s",
                    f"{t_stop:.1f} s",
                    "yes" if equal else "NO",
                )
                console.print(f"{rels:,} relationships: restart {t_kill:.1f} s after kill -9")
            finally:
                store.close()
                server.stop()
    console.print(t)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rels", type=int, default=1_000_000)
    ap.add_argument("--kill-at", type=float, default=0.5)
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--recovery-sizes", type=int, nargs="*", default=None)
    args = ap.parse_args()
    console = Console()
    if args.recovery_sizes:
        recovery(args.recovery_sizes, args.batch_size, console)
        return
    with tempfile.TemporaryDirectory(prefix="cosmo-crash-") as tmpd:
        tmp = Path(tmpd)
        settings, server = _fresh_server(tmp)
        port = settings.falkordb_port
        try:
            path = tmp / "t.parquet"
            synthetic(args.rels).to_parquet(path)
            ref = FalkorDBStore.from_settings(settings.model_copy(update={"graph": "reference"}))
            ref.clear()
            bulk_load_if_empty(ref, path, settings=settings)
            expected = graph_stats(ref)
            ref.clear()

            store = FalkorDBStore.from_settings(settings)
            store.clear()
            env = {
                **os.environ,
                "COSMO_STATE_DIR": str(settings.state_dir),
                "COSMO_FALKORDB_PORT": str(port),
                "COSMO_GRAPH": "crash",
            }
            cmd = [
                sys.executable,
                "-m",
                "cosmo.cli",
                "kg",
                "load",
                str(path),
                "--no-bulk",
                "--batch-size",
                str(args.batch_size),
            ]
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            killed_at = total = 0
            while proc.poll() is None:
                runs = list_runs(store) if store.exists() else []
                if (
                    runs
                    and runs[0].total_batches
                    and runs[0].done_batches >= args.kill_at * runs[0].total_batches
                ):
                    proc.send_signal(signal.SIGKILL)
                    killed_at, total = runs[0].done_batches, runs[0].total_batches
                    break
                time.sleep(0.2)
            proc.wait()
            t_first = time.perf_counter() - t0
            partial = graph_stats(store)
            t1 = time.perf_counter()
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            t_second = time.perf_counter() - t1
            got = graph_stats(store)
            dup = store.query(
                "MATCH (h)-[r]->(i:Intention) WITH h, type(r) AS t, i, count(r) AS n WHERE n > 1 RETURN count(*) AS d"
            )[0]["d"]
            runs = list_runs(store)
            same_rels = got["relationships"] == expected["relationships"]
            same_nodes = {k: v for k, v in got["nodes"].items() if k != "LoadRun"} == {
                k: v for k, v in expected["nodes"].items() if k != "LoadRun"
            }
            t = Table(
                title=f"kill -9 during `cosmo kg load` ({args.rels:,} relationships requested)"
            )
            t.add_column("what")
            t.add_column("value", justify="right")
            t.add_row("relationships (clean build)", f"{sum(expected['relationships'].values()):,}")
            t.add_row("killed after batch", f"{killed_at} of {total} ({t_first:.0f} s)")
            t.add_row("relationships when killed", f"{sum(partial['relationships'].values()):,}")
            t.add_row(
                "rerun",
                f"{t_second:.0f} s, {'resumed' if 'resumed at batch' in out.stdout else 'NOT resumed'}",
            )
            t.add_row("relationships after rerun", f"{sum(got['relationships'].values()):,}")
            t.add_row("counts equal the clean build", "yes" if same_rels and same_nodes else "NO")
            t.add_row("duplicate edges", str(dup))
            t.add_row("runs", ", ".join(f"{r.id}:{r.status}" for r in runs))
            console.print(t)
            store.clear()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
