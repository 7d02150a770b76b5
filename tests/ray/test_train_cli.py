"""``cosmo gnn train --workers 2`` and ``cosmo gnn train-session --workers 2`` end to end through the
CLI, on tiny slices of real data, on the test run's Ray cluster (the commands use a running one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosmo.cli import app
from cosmo.gnn.data import save_graph
from cosmo.gnn.embed import load_model

pytestmark = pytest.mark.slow


def _cosmo(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--state-dir", str(tmp_path / "state"), *args])


def test_gnn_train_with_workers(ray_cluster, iqa_graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, maps = iqa_graph
    out = tmp_path / "gnn"
    save_graph(data, maps, out / "graph.pt")
    res = _cosmo(tmp_path, "gnn", "train", "--out", str(out), "--epochs", "2", "--dim", "8",
                 "--workers", "2")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "2 DDP workers on Ray Train" in " ".join(res.output.split())
    assert load_model(out / "sage.pt").skips[-1]["product"].out_features == 8
    assert (out / "embeddings.parquet").exists()
    assert ray_cluster.is_initialized()  # the command left the running cluster alone


def test_gnn_train_session_with_workers(ray_cluster, shared_data: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cosmo.gnn.session.train import load_session_model

    lines = (shared_data / "diginetica" / "train_sessions.txt").read_text().splitlines()
    sessions = tmp_path / "sessions.txt"
    sessions.write_text("\n".join(lines[-120:]) + "\n")
    model = tmp_path / "srgnn.pt"
    res = _cosmo(tmp_path, "gnn", "train-session", "--sessions", str(sessions), "--out",
                 str(model), "--epochs", "2", "--batch-size", "64", "--negatives", "64",
                 "--hidden", "8", "--workers", "2")  # fmt: skip
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # rich wraps long lines
    assert "2 DDP workers on Ray Train" in said and "epoch 2: loss" in said
    assert load_session_model(model).num_items > 0
    assert ray_cluster.is_initialized()
