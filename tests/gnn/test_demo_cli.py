"""The ``cosmo gnn`` commands and the demo stage, end to end on real FalkorDB and MiniLM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from cosmo.gnn import similar


def test_gnn_help_lists_the_commands() -> None:
    from cosmo.cli import app

    res = CliRunner().invoke(app, ["gnn", "--help"])
    assert res.exit_code == 0, res.output
    for cmd in ("export", "train", "embed", "similar"):
        assert cmd in res.output


@pytest.mark.slow
def test_export_then_train_from_an_export_folder(tmp_path: Path, tiny_tables) -> None:  # type: ignore[no-untyped-def]
    from cosmo.cli import app
    from cosmo.core.manifest import read_manifest

    tiny_tables.write_parquet(tmp_path / "kg")
    runner = CliRunner()
    out = tmp_path / "gnn"
    res = runner.invoke(
        app,
        [
            "--state-dir",
            str(tmp_path / "state"),
            "gnn",
            "export",
            "--from-export",
            str(tmp_path / "kg"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (out / "graph.pt").exists() and (out / "graph.pt.ids.json").exists()
    res = runner.invoke(
        app,
        [
            "--state-dir",
            str(tmp_path / "state"),
            "gnn",
            "train",
            "--out",
            str(out),
            "--epochs",
            "3",
            "--dim",
            "8",
        ],
    )
    assert res.exit_code == 0, res.output
    emb = pd.read_parquet(out / "embeddings.parquet")
    assert sorted(emb["node_type"].unique()) == ["intention", "product", "query"]
    assert len(emb.loc[0, "embedding"]) == 8
    assert read_manifest(out / "sage.pt")["parameters"]["epochs"] == 3


def test_missing_export_folder_is_one_clear_error(tmp_path: Path) -> None:
    from cosmo.cli import app

    res = CliRunner().invoke(app, ["gnn", "export", "--from-export", str(tmp_path / "none")])
    assert res.exit_code != 0
    assert "not a folder" in str(res.exception)


@pytest.mark.slow
def test_demo_stage_writes_embeddings_into_the_graph(
    store, load_tables, iqa_slice, db_settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from cosmo.core.demo import DemoContext
    from cosmo.evaluation.intentionqa import kg_from_questions
    from cosmo.gnn.demo import run

    t1, _ = iqa_slice
    load_tables(store, kg_from_questions(t1[:40]))
    ctx = DemoContext(
        settings=db_settings,
        store=store,
        workdir=tmp_path,
        console=Console(),
        shared_data=None,
        serve=False,
    )
    run(ctx)
    emb = pd.read_parquet(ctx.artifacts["embeddings"])
    pid = t1[0].item_a_id
    assert pid in set(emb["id"])
    got = similar(store, pid, k=5)
    assert len(got) == 5 and all(-1.0 <= r["score"] <= 1.0001 for r in got)
    assert pid not in {r["id"] for r in got}
