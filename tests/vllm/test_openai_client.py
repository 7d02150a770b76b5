"""OpenAIGenerator against a small real HTTP server (FastAPI + uvicorn on 127.0.0.1).

The server fakes completions so the client's behaviour (order, concurrency bound, retries
on 5xx and timeouts, clear errors on 4xx) can be checked without a model. The same client
is driven against a real vLLM server in ``test_vllm_server.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from cosmo.core.errors import ModelError, PipelineError
from cosmo.generation.base import GenerationParams, TextGenerator
from cosmo.generation.openai_server import OpenAIGenerator
from tests.conftest import free_port
from tests.openai_fake import FakeState, serve_fake_openai


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[str, FakeState]]:
    with serve_fake_openai() as served:
        yield served


@pytest.fixture
def state(fake_server: tuple[str, FakeState]) -> FakeState:
    s = fake_server[1]
    s.reset()
    return s


def _gen(fake_server: tuple[str, FakeState], **kw: object) -> OpenAIGenerator:
    return OpenAIGenerator(fake_server[0], "fake-model", **kw)  # type: ignore[arg-type]


def test_is_a_text_generator() -> None:
    gen = OpenAIGenerator("http://127.0.0.1:1", "m")
    assert isinstance(gen, TextGenerator)
    assert gen.api_base == "http://127.0.0.1:1/v1"
    assert OpenAIGenerator("http://h:2/v1/", "m").api_base == "http://h:2/v1"
    with pytest.raises(ModelError, match="http"):
        OpenAIGenerator("127.0.0.1:8000", "m")


def test_order_usage_and_bounded_concurrency(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    prompts = [f"prompt number {i}" for i in range(20)]
    gen = _gen(fake_server, concurrency=3)
    out = gen.generate(prompts, GenerationParams(max_new_tokens=5))
    assert [g.text for g in out] == [" " + p.upper() for p in prompts]
    assert all(g.prompt_tokens == 3 and g.completion_tokens == 3 for g in out)
    assert all(g.finish_reason == "length" for g in out)
    assert 1 < state.max_in_flight <= 3


def test_request_body_maps_params(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    params = GenerationParams(
        max_new_tokens=7,
        temperature=0.2,
        top_p=0.5,
        repetition_penalty=1.4,
        seed=9,
        stop=("\n\n", "###"),
    )
    gen = _gen(fake_server, api_key="secret-token", extra_body={"top_k": 20})
    gen.generate(["hello"], params)
    body = state.bodies[-1]
    assert body == {
        "model": "fake-model",
        "prompt": "hello",
        "max_tokens": 7,
        "temperature": 0.2,
        "top_p": 0.5,
        "seed": 9,
        "n": 1,
        "stop": ["\n\n", "###"],
        "repetition_penalty": 1.4,
        "top_k": 20,
    }
    assert state.auth[-1] == "Bearer secret-token"
    plain = _gen(fake_server, send_repetition_penalty=False)
    assert "repetition_penalty" not in plain.request_body("x", params)
    assert "stop" not in plain.request_body("x", GenerationParams())


def test_retries_5xx_then_succeeds(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    gen = _gen(fake_server, retries=3, backoff=0.01)
    out = gen.generate(["flaky one", "fine"], GenerationParams())
    assert out[0].text == " FLAKY ONE"
    assert state.calls["flaky one"] == 3
    assert state.calls["fine"] == 1


def test_gives_up_after_retries(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    gen = _gen(fake_server, retries=2, backoff=0.01)
    with pytest.raises(PipelineError, match=r"after 3 attempt\(s\): HTTP 500: engine died"):
        gen.generate(["broken"], GenerationParams())
    assert state.calls["broken"] == 3


def test_timeout_is_retried(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    gen = _gen(fake_server, timeout=0.5, retries=1, backoff=0.01)
    out = gen.generate(["slow start"], GenerationParams())
    assert out[0].text == " SLOW START"
    assert state.calls["slow start"] == 2
    no_retry = _gen(fake_server, timeout=0.3, retries=0)
    with pytest.raises(PipelineError, match=r"no answer within 0\.3 s"):
        no_retry.generate(["slow again"], GenerationParams())


def test_4xx_is_a_model_error_without_retry(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    gen = OpenAIGenerator(fake_server[0], "no-such-model", retries=3, backoff=0.01)
    with pytest.raises(ModelError, match=r"HTTP 404: The model `no-such-model` does not exist"):
        gen.generate(["anything"], GenerationParams())
    assert state.calls["anything"] == 1


def test_malformed_body_is_a_pipeline_error(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PipelineError, match=r"unexpected body"):
        _gen(fake_server).generate(["garbage"], GenerationParams())


def test_unreachable_server() -> None:
    gen = OpenAIGenerator(f"http://127.0.0.1:{free_port()}", "m", retries=1, backoff=0.01)
    with pytest.raises(PipelineError, match=r"cannot connect.*Is the server running"):
        gen.generate(["x"], GenerationParams())


def test_models_and_empty_input(fake_server) -> None:  # type: ignore[no-untyped-def]
    gen = _gen(fake_server)
    assert gen.models() == ["fake-model"]
    assert gen.generate([], GenerationParams()) == []


def test_generate_inside_running_loop(fake_server, state) -> None:  # type: ignore[no-untyped-def]
    gen = _gen(fake_server)

    async def main() -> list[str]:
        sync = gen.generate(["from sync"], GenerationParams())
        asyn = await gen.agenerate(["from async"], GenerationParams())
        return [sync[0].text, asyn[0].text]

    assert asyncio.run(main()) == [" FROM SYNC", " FROM ASYNC"]
