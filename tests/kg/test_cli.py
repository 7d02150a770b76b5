"""``cosmo kg`` and ``cosmo db`` as a user runs them, including kill -9 in the middle of a load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.versions import graph_stats, list_runs
from tests.kg.conftest import assert_resumed_to


def _env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update(
        COSMO_STATE_DIR=str(settings.state_dir),
        COSMO_FALKORDB_PORT=str(settings.falkordb_port),
        COSMO_GRAPH=settings.graph,
    )
    return env


def _cosmo(settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "cosmo.cli", *args],
        env=_env(settings),
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


def test_load_stats_versions_export(graph_settings, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.csv"
    iqa_triples.head(200).to_csv(path, index=False)
    out = _cosmo(graph_settings, "kg", "load", str(path), "--no-bulk", "--batch-size", "64")
    assert "rows loaded" not in out.stderr and "200 of 200 rows" in out.stdout
    stats = _cosmo(graph_settings, "kg", "stats").stdout
    assert "USED_FOR_FUNC" in stats and "Intention" in stats
    assert "done" in _cosmo(graph_settings, "kg", "versions").stdout
    _cosmo(graph_settings, "kg", "export", str(tmp_path / "exp"))
    assert (tmp_path / "exp" / "knowledge.parquet").exists()
    FalkorDBStore.from_settings(graph_settings).clear()


def test_bad_file_is_one_clear_line(graph_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_bytes(b"behaviour,source\nco_buy,A\n")
    out = _cosmo(graph_settings, "kg", "load", str(p), check=False)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "missing column" in out.stderr and str(p) in out.stderr.replace("\n", "")


def test_kill_9_mid_load_then_rerun_gives_exact_counts(
    graph_settings, iqa_triples, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.parquet"
    iqa_triples.to_parquet(path)
    # reference: a clean load into a graph of its own
    ref_settings = graph_settings.model_copy(update={"graph": graph_settings.graph + "_ref"})
    _cosmo(ref_settings, "kg", "load", str(path), "--no-bulk")
    ref_store = FalkorDBStore.from_settings(ref_settings)
    expected = graph_stats(ref_store)
    ref_store.clear()

    store = FalkorDBStore.from_settings(graph_settings)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cosmo.cli",
            "kg",
            "load",
            str(path),
            "--no-bulk",
            "--batch-size",
            "20",
        ],
        env=_env(graph_settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    killed_at = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            runs = list_runs(store)
        except Exception:
            runs = []
        if runs and runs[0].done_batches >= 10:
            proc.send_signal(signal.SIGKILL)
            killed_at = runs[0].done_batches
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed_at >= 10, "the load finished before it could be killed; make the file larger"
    partial = graph_stats(store)
    assert partial != expected
    assert list_runs(store)[0].status == "running"

    out = _cosmo(graph_settings, "kg", "load", str(path), "--no-bulk", "--batch-size", "20")
    assert "resumed at batch" in out.stdout
    assert_resumed_to(store, expected)
    store.clear()


def test_db_start_status_stop(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cosmo.core.settings import Settings
    from tests.conftest import free_port

    s = Settings(state_dir=tmp_path / "state", falkordb_port=free_port())
    assert _cosmo(s, "db", "status", check=False).returncode == 1
    assert "FalkorDB is up" in _cosmo(s, "db", "start").stdout
    assert "running" in _cosmo(s, "db", "status").stdout
    assert (tmp_path / "state" / "db" / "falkordb.pid").exists()
    conf = (tmp_path / "state" / "db" / "falkordb.conf").read_text()
    assert "appendonly yes" in conf and "bind 127.0.0.1" in conf
    assert "stopped" in _cosmo(s, "db", "stop").stdout
    assert _cosmo(s, "db", "status", check=False).returncode == 1


def test_db_password_from_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pydantic import SecretStr

    from cosmo.core.settings import Settings
    from cosmo.kg.server import EmbeddedServer
    from tests.conftest import free_port

    s = Settings(
        state_dir=tmp_path / "state",
        falkordb_port=free_port(),
        falkordb_password=SecretStr("s3cret pass"),
    )
    server = EmbeddedServer(s)
    try:
        server.start()
        conf = tmp_path / "state" / "db" / "falkordb.conf"
        assert oct(conf.stat().st_mode & 0o777) == "0o600"
        assert FalkorDBStore.from_settings(s).health().ok
        assert (
            not FalkorDBStore.from_settings(s.model_copy(update={"falkordb_password": None}))
            .health()
            .ok
        )
    finally:
        server.stop()


def test_main_module_runs() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cosmo.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "kg" in out.stdout and "db" in out.stdout
    _ = pd, Path
