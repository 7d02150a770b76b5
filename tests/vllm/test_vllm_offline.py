"""Backend (b), vLLM in-process: for real inside the vLLM venv, and its import-time contract."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest

from cosmo.core.errors import ModelError
from cosmo.generation.base import GenerationParams, TextGenerator
from cosmo.generation.vllm_offline import VLLMGenerator, sampling_kwargs

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "vllm" / "offline_generate.py"


def test_constructor_loads_nothing_and_maps_params(tmp_path: Path) -> None:
    gen = VLLMGenerator(tmp_path, tensor_parallel_size=2)
    assert isinstance(gen, TextGenerator)
    assert not gen.loaded and gen.model_name == tmp_path.name
    assert gen.engine_kwargs == {"tensor_parallel_size": 2}
    kw = sampling_kwargs(
        GenerationParams(
            max_new_tokens=9,
            temperature=0.1,
            top_p=0.8,
            repetition_penalty=1.2,
            seed=4,
            stop=("\n\n",),
        )
    )
    assert kw == {
        "n": 1,
        "max_tokens": 9,
        "temperature": 0.1,
        "top_p": 0.8,
        "repetition_penalty": 1.2,
        "seed": 4,
        "stop": ["\n\n"],
    }
    assert sampling_kwargs(GenerationParams())["stop"] is None
    assert gen.generate([], GenerationParams()) == []
    assert not gen.loaded


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is not None, reason="vLLM is installed in this venv"
)
def test_missing_vllm_is_a_clear_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"scripts/vllm/setup\.sh"):
        VLLMGenerator(tmp_path).generate(["hello"], GenerationParams())


@pytest.mark.slow
def test_generates_inside_the_vllm_venv(
    vllm_python: Path, vllm_env: dict[str, str], gemma_dir: Path, tmp_path: Path
) -> None:
    prompts = [
        "A customer bought a tent and a sleeping bag because they were going",
        "Question: what is sunscreen used for?\nAnswer: 1.",
    ]
    cmd = [str(vllm_python), str(SCRIPT), "--model", str(gemma_dir), "--max-new-tokens", "16"]
    out_file = tmp_path / "out.json"
    cmd += ["--temperature", "0", "--stop", "\n\n", "--output", str(out_file)]
    for p in prompts:
        cmd += ["--prompt", p]
    run = subprocess.run(cmd, env=vllm_env, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out_file.read_text(encoding="utf-8"))
    gens = result["generations"]
    assert len(gens) == 2
    for g in gens:
        assert g["text"].strip(), gens
        assert 0 < g["completion_tokens"] <= 16
        assert g["prompt_tokens"] > 5
        assert g["finish_reason"] in {"stop", "length"}
        assert "\n\n" not in g["text"]
    assert result["model"] == gemma_dir.name
