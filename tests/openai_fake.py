"""A small real OpenAI-compatible completions server (FastAPI on uvicorn) for tests.

It fakes the model, not the protocol: ``/v1/models`` and ``/v1/completions`` answer as vLLM's
server does, so clients (``OpenAIGenerator``, the API's explainer) are exercised over real
HTTP. Prompts starting with ``flaky``, ``broken``, ``slow`` or ``garbage`` misbehave the way
a loaded server can; every other prompt is answered by ``answer(prompt)``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.conftest import serve_app

__all__ = ["FakeState", "fake_openai_app", "serve_fake_openai"]


@dataclass
class FakeState:
    """What the fake server saw; tests read it."""

    calls: Counter[str] = field(default_factory=Counter)
    bodies: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    in_flight: int = 0
    max_in_flight: int = 0
    auth: list[str | None] = field(default_factory=list)

    def reset(self) -> None:
        self.calls.clear()
        self.bodies.clear()
        self.auth.clear()
        self.max_in_flight = 0


def _completion(model: str, prompt: str, text: str) -> JSONResponse:
    return JSONResponse(
        {
            "id": "cmpl-1",
            "object": "text_completion",
            "model": model,
            "choices": [{"index": 0, "text": text, "finish_reason": "length"}],
            "usage": {
                "prompt_tokens": len(prompt.split()),
                "completion_tokens": len(text.split()),
                "total_tokens": len(prompt.split()) + len(text.split()),
            },
        }
    )


def _misbehaviour(prompt: str, calls: int) -> JSONResponse | None:
    if prompt.startswith("flaky") and calls <= 2:
        return JSONResponse({"error": {"message": "overloaded"}}, status_code=503)
    if prompt.startswith("broken"):
        return JSONResponse({"error": {"message": "engine died"}}, status_code=500)
    if prompt.startswith("garbage"):
        return JSONResponse({"unexpected": True})
    return None


def fake_openai_app(
    state: FakeState, model: str = "fake-model", answer: Callable[[str], str] | None = None
) -> FastAPI:
    """The fake server's app: serves ``model`` only (another name is a 404, as in vLLM)."""
    app = FastAPI()
    reply = answer or (lambda prompt: " " + prompt.upper())

    @app.get("/v1/models")
    async def models() -> dict:  # type: ignore[type-arg]
        return {"object": "list", "data": [{"id": model, "object": "model"}]}

    @app.post("/v1/completions")
    async def completions(request: Request) -> JSONResponse:
        body = await request.json()
        prompt: str = body["prompt"]
        state.calls[prompt] += 1
        state.bodies.append(body)
        state.auth.append(request.headers.get("authorization"))
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            await asyncio.sleep(0.05)
            if body["model"] != model:
                return JSONResponse(
                    {"error": {"message": f"The model `{body['model']}` does not exist."}},
                    status_code=404,
                )
            bad = _misbehaviour(prompt, state.calls[prompt])
            if bad is not None:
                return bad
            if prompt.startswith("slow") and state.calls[prompt] == 1:
                await asyncio.sleep(2.0)
            return _completion(model, prompt, reply(prompt))
        finally:
            state.in_flight -= 1

    return app


@contextmanager
def serve_fake_openai(
    model: str = "fake-model", answer: Callable[[str], str] | None = None
) -> Iterator[tuple[str, FakeState]]:
    """Serve the fake on a free loopback port; yield its base URL and what it saw."""
    state = FakeState()
    with serve_app(fake_openai_app(state, model, answer)) as url:
        yield url, state
