from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from cosmo.gnn.session.cli import register
from cosmo.gnn.session.data import SessionCases


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_train_and_eval_commands(
    train_slice: list[list[int]], test_slice: SessionCases, tmp_path: Path
) -> None:
    sessions = tmp_path / "train.txt"
    sessions.write_text("\n".join(" ".join(map(str, s)) for s in train_slice[-400:]) + "\n")
    cases = tmp_path / "test.tsv"
    cases.write_text(
        "".join(
            f"{' '.join(map(str, p))}\t{t}\n"
            for p, t in zip(test_slice.prefixes[:100], test_slice.targets[:100], strict=True)
        )
    )
    ckpt = tmp_path / "m.pt"
    runner = CliRunner()
    r = runner.invoke(
        _app(),
        ["train-session", "--sessions", str(sessions), "--out", str(ckpt), "--epochs", "1",
         "--negatives", "256", "--hidden", "16", "--batch-size", "128", "--num-items", "43097"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert ckpt.is_file() and "saved" in r.output
    r = runner.invoke(
        _app(),
        ["eval-session", "--sessions", str(sessions), "--cases", str(cases),
         "--model-path", str(ckpt), "--weight", "0.5"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "V-SKNN" in r.output and "SRGNN" in r.output and "hybrid" in r.output
    assert "V-STAN" in r.output
    # a second seed, then both as one ensemble
    ckpt2 = tmp_path / "m2.pt"
    r = runner.invoke(
        _app(),
        ["train-session", "--sessions", str(sessions), "--out", str(ckpt2), "--epochs", "1",
         "--negatives", "256", "--hidden", "16", "--batch-size", "128", "--num-items", "43097",
         "--seed", "1", "--positions"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(
        _app(),
        ["eval-session", "--sessions", str(sessions), "--cases", str(cases),
         "--model-path", str(ckpt), "--model-path", str(ckpt2), "--weight", "0.5"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "SessionEnsemble of 2" in r.output and "hybrid" in r.output
    from cosmo.gnn.session.train import load_session_model

    assert type(load_session_model(ckpt2)).__name__ == "PosSRGNN"


def test_bad_sessions_file_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n3 oops\n")
    r = CliRunner().invoke(
        _app(), ["train-session", "--sessions", str(bad), "--out", str(tmp_path / "m.pt")]
    )
    assert r.exit_code != 0
    assert "line 2" in str(r.exception)
