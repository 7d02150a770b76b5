"""LoRA tuning on the real Gemma 3 270M (CPU smoke run), serving the adapter, evaluation, CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cosmo.core.errors import PipelineError
from cosmo.core.manifest import read_manifest
from cosmo.generation.base import GenerationParams, TextGenerator
from cosmo.refine.instruct import (
    LoRATransformersGenerator,
    TuneConfig,
    TuneResult,
    adapter_base_model,
    evaluate_adapter,
    load_tuned,
    tune,
    yes_no_scores,
)
from cosmo.refine.instruct.cli import register

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tuned(examples, gemma_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> TuneResult:
    """Three steps on one fixed batch of two short examples, with a high learning rate,
    so the loss must fall."""
    train = [e for e in examples if e.split == "train" and e.task == "search_rel"][:2]
    cfg = TuneConfig(max_steps=3, batch_size=2, lr=1e-3, max_length=96, device="cpu")
    return tune(train, str(gemma_dir), tmp_path_factory.mktemp("adapter"), cfg, progress=False)


def test_tune_saves_a_loadable_adapter(tuned: TuneResult, gemma_dir: Path):
    d = tuned.adapter_dir
    assert (d / "adapter_config.json").exists() and (d / "adapter_model.safetensors").exists()
    info = json.loads((d / "cosmo-instruct.json").read_text())
    assert info["base_model"] == str(gemma_dir) and info["train_examples"] == 2
    assert adapter_base_model(d) == str(gemma_dir)
    assert read_manifest(d / "adapter_model.safetensors")["counts"]["steps"] == 3
    assert len(tuned.losses) == 3
    assert tuned.losses[-1] < tuned.losses[0], tuned.losses


def test_a_stopped_run_resumes_where_it_stopped(
    tuned: TuneResult, examples, gemma_dir: Path, tmp_path: Path
):
    """The 3-step run, resumed to 4 steps: its curve and optimiser state carry on."""
    import shutil

    d = tmp_path / "adapter"
    shutil.copytree(tuned.adapter_dir, d)
    assert (d / "optimizer.pt").exists()
    train = [e for e in examples if e.split == "train" and e.task == "search_rel"][:2]
    cfg = TuneConfig(max_steps=4, batch_size=2, lr=1e-3, max_length=96, device="cpu")
    res = tune(train, str(gemma_dir), d, cfg, progress=False, resume=True)
    assert res.steps == 4 and res.losses[:3] == tuned.losses
    # the fourth step starts from the tuned weights: its loss is below the first step's
    assert res.losses[3] < tuned.losses[0]
    assert json.loads((d / "cosmo-instruct.json").read_text())["steps"] == 4
    with pytest.raises(PipelineError, match="cannot resume"):
        tune(train, "some-other-model", d, cfg, progress=False, resume=True)


@pytest.fixture(scope="module")
def held(examples):  # type: ignore[no-untyped-def]
    return [e for e in examples if e.split == "heldout" and e.task == "search_rel"][:4]


@pytest.fixture(scope="module")
def scores(tuned: TuneResult, held) -> dict[str, list[float]]:  # type: ignore[no-untyped-def]
    """Yes/no scores of the held-out examples without and with the adapter."""
    tok, model = load_tuned(tuned.adapter_dir, device="cpu")
    with model.disable_adapter():
        base = yes_no_scores(tok, model, held)
    return {"base": base, "tuned": yes_no_scores(tok, model, held)}


def test_adapter_changes_yes_no_scores(scores):
    assert len(scores["base"]) == len(scores["tuned"]) == 4
    diff = max(abs(a - b) for a, b in zip(scores["base"], scores["tuned"], strict=True))
    assert diff > 1e-3


def test_eval_compares_tuned_and_untuned(tuned: TuneResult, examples):
    res = evaluate_adapter(
        examples,
        tuned.adapter_dir,
        tasks=("plausibility", "search_rel"),
        limit_per_task=4,
        device="cpu",
    )
    assert [r.task for r in res] == ["plausibility", "search_rel"]
    for r in res:
        assert r.n == 4 and 0 <= r.base_accuracy <= 1 and 0 <= r.tuned_accuracy <= 1


def test_transformers_backend_serves_the_adapter(tuned: TuneResult, held, scores):
    gen = LoRATransformersGenerator(tuned.adapter_dir)
    assert isinstance(gen, TextGenerator) and gen._model is None  # lazy
    out = gen.generate(
        [held[0].prompt, held[0].prompt], GenerationParams(max_new_tokens=4, temperature=0)
    )
    assert len(out) == 2 and out[0] == out[1]
    assert out[0].prompt_tokens > 10 and out[0].finish_reason in ("stop", "length")
    # the served model is the tuned one (adapter merged), not the base model
    served = yes_no_scores(gen._tok, gen._model, held)
    assert served == pytest.approx(scores["tuned"], abs=2e-3)
    assert max(abs(a - b) for a, b in zip(served, scores["base"], strict=True)) > 1e-3


def test_cli_build_tune_eval(tmp_path: Path, shared_data: Path, gemma_dir: Path):
    app, run = typer.Typer(), CliRunner()

    @app.callback()
    def _root() -> None:
        """test root"""

    register(app)
    data = tmp_path / "inst.jsonl"
    r = run.invoke(
        app,
        [
            "instruct",
            "build",
            str(data),
            "--db",
            str(tmp_path / "none.sqlite"),
            "--intentionqa",
            str(shared_data / "intentionqa" / "task1.jsonl"),
            "--limit",
            "60",
            "--heldout",
            "0.5",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "plausibility/heldout" in " ".join(r.stdout.split()) and data.exists()
    adapter = tmp_path / "adapter"
    r = run.invoke(
        app,
        [
            "instruct",
            "tune",
            str(data),
            str(adapter),
            "--base-model",
            str(gemma_dir),
            "--max-steps",
            "1",
            "--batch-size",
            "1",
            "--device",
            "cpu",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (
        "1 steps on" in " ".join(r.stdout.split())
        and (adapter / "adapter_model.safetensors").exists()
    )
    r = run.invoke(
        app,
        ["instruct", "eval", str(data), str(adapter), "--limit", "4", "--json", "--device", "cpu"],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert {"plausibility", "typicality"} <= {x["task"] for x in res}
    assert all(x["n"] <= 4 for x in res)


def test_config_is_immutable_and_copyable():
    cfg = TuneConfig()
    assert replace(cfg, max_steps=5).max_steps == 5 and cfg.max_steps == 2
