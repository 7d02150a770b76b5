"""Backend (c) for real: OpenAIGenerator against a vLLM server serving the converted Gemma.

The server is started by ``scripts/vllm/serve.sh`` from the vLLM venv on a free loopback
port (module fixture ``vllm_server``) and stopped afterwards.
"""

from __future__ import annotations

import httpx
import pytest

from cosmo.core.errors import ModelError
from cosmo.generation.base import GenerationParams
from cosmo.generation.openai_server import OpenAIGenerator

pytestmark = pytest.mark.slow

SERVED = "gemma3-270m"


def test_health_and_models(vllm_server: str) -> None:
    assert httpx.get(vllm_server + "/health", timeout=10).status_code == 200
    assert OpenAIGenerator(vllm_server, SERVED).models() == [SERVED]


def test_generates_with_bounded_concurrency(vllm_server: str) -> None:
    gen = OpenAIGenerator(vllm_server, SERVED, concurrency=3, timeout=120)
    prompts = [
        "Task: explain why a customer bought these products together.\n"
        f"Product 1: {a}\nProduct 2: {b}\nAnswer: 1."
        for a, b in [
            ("camping tent", "sleeping bag"),
            ("baby diapers", "baby wipes"),
            ("USB-C cable", "phone charger"),
            ("paint brush", "acrylic paint"),
        ]
    ]
    params = GenerationParams(max_new_tokens=12, temperature=0.7, repetition_penalty=1.3, seed=1)
    out = gen.generate(prompts, params)
    assert len(out) == 4
    for g in out:
        assert g.text.strip()
        assert 0 < g.completion_tokens <= 12
        assert g.prompt_tokens > 10
        assert g.finish_reason in {"stop", "length"}
    # Same seed, same prompt (alone, so batching cannot change the numerics): same answer.
    alone = [gen.generate(prompts[:1], params)[0].text for _ in range(2)]
    assert alone[0] == alone[1]


def test_stop_strings_and_greedy(vllm_server: str) -> None:
    gen = OpenAIGenerator(vllm_server, SERVED)
    params = GenerationParams(max_new_tokens=24, temperature=0.0, stop=("\n",))
    out = gen.generate(["List three colours:\n1.", "List three fruits:\n1."], params)
    for g in out:
        assert "\n" not in g.text
        assert g.completion_tokens <= 24


def test_unknown_model_is_a_model_error(vllm_server: str) -> None:
    gen = OpenAIGenerator(vllm_server, "no-such-model", retries=0)
    with pytest.raises(ModelError, match="no-such-model"):
        gen.generate(["hello"], GenerationParams(max_new_tokens=2))


@pytest.mark.single_backend("production's compose file runs the API on Neo4j")
def test_the_compose_api_explains_through_vllm(vllm_server: str, neo4j_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The API as docker-compose.yml wires it (`cosmo serve --explain`, COSMO_GEN_BACKEND=openai)
    generates a missing explanation with the real vLLM server. Only the model name differs:
    the test server serves the converted Gemma under its own name."""
    from tests.compose_stack import check_stack, compose_stack

    with compose_stack(neo4j_settings, tmp_path, vllm_server, COSMO_GEN_MODEL=SERVED) as url:
        e = check_stack(url)
    assert e["model"] == SERVED and e["text"]
