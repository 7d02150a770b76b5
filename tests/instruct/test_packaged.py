"""The COSMO-LM adapter that ships with cosmo: recorded against the cosmo alias (loads on
any machine, nothing downloaded), the API's default explainer on the packaged Gemma, and a
real adapter whose merged weights change the base model's answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosmo.api import ApiSettings
from cosmo.api.http.serve import chosen_adapter, open_generator
from cosmo.core.errors import ConfigError
from cosmo.core.manifest import read_manifest
from cosmo.core.settings import Settings
from cosmo.generation.settings import GenerationSettings
from cosmo.refine.instruct import (
    LoRATransformersGenerator,
    TuneConfig,
    adapter_base_model,
    load_tuned,
    packaged_adapter_dir,
    tune,
    yes_no_scores,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_packaged_adapter_is_recorded_against_the_alias() -> None:
    d = packaged_adapter_dir()
    assert adapter_base_model(d) == "gemma3-270m"
    config = json.loads((d / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "gemma3-270m" and config["peft_type"] == "LORA"
    info = json.loads((d / "cosmo-instruct.json").read_text())
    assert info["steps"] >= 1000 and len(info["losses"]) == info["steps"]
    m = read_manifest(d / "adapter_model.safetensors")
    assert m["counts"]["steps"] == info["steps"]
    for f in d.iterdir():  # nothing in it names the machine it was tuned on
        if f.suffix in (".json", ".md"):
            text = f.read_text()
            assert "/work/" not in text and "/tmp/" not in text and "/home/" not in text, f


def test_the_packaged_adapter_ships_in_the_wheel() -> None:
    import tomllib

    setup = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "cosmo.refine.instruct.cosmo_lm" in setup["packages"]
    assert setup["package-data"]["cosmo.refine.instruct.cosmo_lm"] == ["*"]


def test_which_adapter_the_explainer_runs(tmp_path: Path) -> None:
    api, packaged = ApiSettings(), packaged_adapter_dir()
    assert chosen_adapter(api, GenerationSettings()) == packaged  # the default
    assert chosen_adapter(api, GenerationSettings(adapter="cosmo-lm")) == packaged
    assert chosen_adapter(api, GenerationSettings(adapter="none")) is None
    assert chosen_adapter(api, GenerationSettings(adapter=tmp_path)) == tmp_path
    # another in-process model, or a served one: the packaged adapter does not apply
    assert chosen_adapter(ApiSettings(generator_model="gpt2"), GenerationSettings()) is None
    assert chosen_adapter(api, GenerationSettings(backend="openai")) is None
    with pytest.raises(ConfigError, match="serve it as a LoRA module"):
        chosen_adapter(api, GenerationSettings(backend="openai", adapter="cosmo-lm"))


def test_the_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSMO_GEN_ADAPTER", "none")
    assert chosen_adapter(ApiSettings(), GenerationSettings()) is None
    monkeypatch.setenv("COSMO_GEN_ADAPTER", "cosmo-lm")
    assert chosen_adapter(ApiSettings(), GenerationSettings()) == packaged_adapter_dir()


@pytest.mark.slow
def test_the_default_explainer_runs_the_packaged_adapter(
    examples, model_cache: Path, gemma_dir: Path
):
    """``open_generator`` with every setting at its default serves the packaged adapter,
    merged: it generates, and the adapter moves the base model's yes/no scores."""
    from cosmo.generation.base import GenerationParams

    core = Settings(state_dir=model_cache.parent)
    gen = open_generator(ApiSettings(), core)
    assert isinstance(gen, LoRATransformersGenerator)
    assert gen.model_name == "cosmo-lm:gemma3-270m-r8-1000"
    held = [e for e in examples if e.split == "heldout" and e.task == "plausibility"][:4]
    out = gen.generate([held[0].prompt], GenerationParams(max_new_tokens=4, temperature=0))
    assert len(out) == 1 and out[0].prompt_tokens > 10
    tok, model = load_tuned(packaged_adapter_dir(), device="cpu", cache_dir=model_cache)
    with model.disable_adapter():
        base = yes_no_scores(tok, model, held)
    tuned = yes_no_scores(tok, model, held)
    assert max(abs(a - b) for a, b in zip(base, tuned, strict=True)) > 1e-2


@pytest.mark.slow
def test_tune_records_the_alias_it_was_given(examples, model_cache: Path, tmp_path: Path):
    """Tuning from the alias records the alias (not this machine's model folder)."""
    train = [e for e in examples if e.split == "train" and e.task == "search_rel"][:1]
    cfg = TuneConfig(max_steps=1, batch_size=1, max_length=64, device="cpu")
    res = tune(train, "gemma3-270m", tmp_path / "a", cfg, progress=False, cache_dir=model_cache)
    assert adapter_base_model(res.adapter_dir) == "gemma3-270m"
    config = json.loads((res.adapter_dir / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "gemma3-270m"
