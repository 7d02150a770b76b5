"""COSMO-LM tuning checkpoints and time budget, and option scoring, on the real Gemma 3 270M."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosmo.core.manifest import read_manifest
from cosmo.refine.instruct import InstructExample, TuneConfig, answer_logprobs, load_tuned, tune

pytestmark = pytest.mark.slow


def _examples() -> list[InstructExample]:
    ctx = 'A customer bought "a tent" and "a sleeping bag" together.'
    return [
        InstructExample(
            f"e{i}",
            "plausibility",
            0,
            f"{ctx}\nExplanation: {t}\nPlausible?\nAnswer:",
            a,
            "train",
            "cb:a|b",
        )
        for i, (t, a) in enumerate((("to go camping", "yes"), ("to bake bread", "no")))
    ]


def test_checkpoints_and_time_budget_leave_a_loadable_adapter(gemma_dir: Path, tmp_path: Path):
    cfg = TuneConfig(max_steps=2, batch_size=2, max_length=64, device="cpu", checkpoint_every=1)
    res = tune(_examples(), str(gemma_dir), tmp_path / "a", cfg, progress=False)
    info = json.loads((tmp_path / "a" / "cosmo-instruct.json").read_text())
    assert res.steps == info["steps"] == 2 and len(info["losses"]) == 2
    assert read_manifest(tmp_path / "a" / "adapter_model.safetensors")["counts"]["steps"] == 2
    # a budget already spent: stops before the first step, still saves an adapter
    cfg = TuneConfig(max_steps=5, batch_size=2, max_length=64, device="cpu", time_budget_s=0.0)
    res = tune(_examples(), str(gemma_dir), tmp_path / "b", cfg, progress=False)
    assert res.steps == 0 and (tmp_path / "b" / "adapter_model.safetensors").exists()
    tok, model = load_tuned(tmp_path / "a", device="cpu")
    prompts = ['A customer bought "a tent".\nWhy?\nAnswer:'] * 2
    lp = answer_logprobs(tok, model, prompts, ["to go camping", "camping to go the of"])
    assert [n for _, n in lp] == [
        len(tok(" " + a, add_special_tokens=False)["input_ids"])
        for a in ("to go camping", "camping to go the of")
    ]
    assert lp[0][0] / lp[0][1] > lp[1][0] / lp[1][1]  # fluent beats word salad
    # batching and padding do not change an answer's log-probability
    alone = answer_logprobs(tok, model, prompts[:1], ["to go camping"])
    assert abs(alone[0][0] - lp[0][0]) < 1e-3
