"""Backend (c): any OpenAI-compatible completions server (vLLM, llama.cpp server, ...).

:class:`OpenAIGenerator` sends one ``POST /v1/completions`` request per prompt with an
async httpx client, at most ``concurrency`` at a time, so a server that batches
continuously (vLLM) sees a steady stream of requests. Connection errors, timeouts,
``429`` and ``5xx`` answers are retried with exponential backoff; other ``4xx`` answers
(unknown model, bad parameters) fail at once with the server's own message.

Start a local vLLM server with ``scripts/vllm/serve.sh`` and point the generator at it::

    gen = OpenAIGenerator("http://127.0.0.1:8000", model="gemma3-270m")
    gen.generate(["Why did someone buy a tent and a sleeping bag? 1."], GenerationParams())

``repetition_penalty`` is not part of the OpenAI API; vLLM and llama.cpp accept it as an
extra field. For servers that reject unknown fields pass ``send_repetition_penalty=False``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import httpx

from cosmo.core.errors import ModelError, PipelineError
from cosmo.generation.base import Generation, GenerationParams

__all__ = ["OpenAIGenerator"]

_T = TypeVar("_T")
_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def _api_base(base_url: str) -> str:
    """``http://host:port`` or ``http://host:port/v1`` → ``http://host:port/v1``."""
    url = base_url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ModelError(f"OpenAI server URL must start with http:// or https://, got {base_url!r}")
    return url if url.endswith("/v1") else url + "/v1"


def _run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from sync code, also when an event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


class OpenAIGenerator:
    """:class:`~cosmo.generation.base.TextGenerator` over an OpenAI-compatible server.

    Args:
        base_url: the server, e.g. ``http://127.0.0.1:8000`` (``/v1`` is added if missing).
        model: the model name the server serves (vLLM: ``--served-model-name``).
        api_key: sent as a bearer token when given (vLLM ``--api-key``).
        concurrency: requests in flight at once.
        timeout: seconds for one request (connect, read and write).
        retries: further attempts after a failed one (connection error, timeout, 429, 5xx).
        backoff: first wait in seconds between attempts; doubles each time, with jitter.
        send_repetition_penalty: send vLLM's ``repetition_penalty`` extra field.
        extra_body: more fields merged into every request body (``top_k``, ``min_p``, ...).

    Nothing is contacted until :meth:`generate` (or :meth:`models`) is called.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        concurrency: int = 8,
        timeout: float = 60.0,
        retries: int = 3,
        *,
        backoff: float = 0.5,
        send_repetition_penalty: bool = True,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ModelError(f"concurrency must be at least 1, got {concurrency}")
        if retries < 0:
            raise ModelError(f"retries must be 0 or more, got {retries}")
        if timeout <= 0:
            raise ModelError(f"timeout must be positive, got {timeout}")
        self.api_base = _api_base(base_url)
        self.model_name = model
        self.api_key = api_key
        self.concurrency = concurrency
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.send_repetition_penalty = send_repetition_penalty
        self.extra_body = dict(extra_body or {})

    def __repr__(self) -> str:
        return f"OpenAIGenerator({self.api_base!r}, model={self.model_name!r})"

    # ------------------------------------------------------------------ public API

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """Complete every prompt; results come back in the order of ``prompts``."""
        return _run_sync(self.agenerate(prompts, params))

    async def agenerate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """Async :meth:`generate`, for callers that already run an event loop."""
        if not prompts:
            return []
        sem = asyncio.Semaphore(self.concurrency)
        async with self._client() as client:

            async def one(index: int, prompt: str) -> Generation:
                async with sem:
                    return await self._complete(client, index, prompt, params)

            return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts))))

    def models(self) -> list[str]:
        """Names of the models the server serves (``GET /v1/models``)."""

        async def fetch() -> list[str]:
            async with self._client() as client:
                body = await self._send(client, "GET", "/models", None, what="listing models")
            try:
                return [str(m["id"]) for m in body["data"]]
            except (KeyError, TypeError) as e:
                raise PipelineError(
                    f"{self.api_base}/models answered an unexpected body: {str(body)[:200]}"
                ) from e

        return _run_sync(fetch())

    # ------------------------------------------------------------------ internals

    def _client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        return httpx.AsyncClient(
            base_url=self.api_base,
            headers=headers,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            limits=limits,
        )

    def request_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        """The JSON body sent for one prompt (public so callers can log or check it)."""
        body: dict[str, Any] = {
            "model": self.model_name,
            "prompt": prompt,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "n": 1,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if self.send_repetition_penalty and params.repetition_penalty != 1.0:
            body["repetition_penalty"] = params.repetition_penalty
        body.update(self.extra_body)
        return body

    async def _complete(
        self, client: httpx.AsyncClient, index: int, prompt: str, params: GenerationParams
    ) -> Generation:
        body = await self._send(
            client,
            "POST",
            "/completions",
            self.request_body(prompt, params),
            what=f"completing prompt {index}",
        )
        try:
            choice = body["choices"][0]
            text = str(choice["text"])
            usage = body.get("usage") or {}
            return Generation(
                text=text,
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
                finish_reason=str(choice.get("finish_reason") or "stop"),
            )
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise PipelineError(
                f"{self.api_base}/completions answered prompt {index} with an unexpected "
                f"body (no choices[0].text): {str(body)[:200]}"
            ) from e

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        json: dict[str, Any] | None,
        *,
        what: str,
    ) -> dict[str, Any]:
        """One request with retries; returns the decoded JSON object."""
        url = self.api_base + path
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self.backoff * 2 ** (attempt - 1)
                await asyncio.sleep(delay * (0.5 + random.random()))
            try:
                resp = await client.request(method, path, json=json)
            except httpx.TimeoutException as e:
                last = f"no answer within {self.timeout:g} s ({type(e).__name__})"
                continue
            except httpx.TransportError as e:
                last = f"cannot connect ({type(e).__name__}: {e})"
                continue
            if resp.status_code in _RETRY_STATUS:
                last = f"HTTP {resp.status_code}: {_error_text(resp)}"
                continue
            if resp.status_code >= 400:
                raise ModelError(
                    f"{url} refused {what} for model {self.model_name!r}: "
                    f"HTTP {resp.status_code}: {_error_text(resp)}"
                )
            try:
                data = resp.json()
            except ValueError as e:
                raise PipelineError(
                    f"{url} answered {what} with a body that is not JSON: {resp.text[:200]!r}"
                ) from e
            if not isinstance(data, dict):
                raise PipelineError(
                    f"{url} answered {what} with {type(data).__name__}, not an object"
                )
            return data
        raise PipelineError(
            f"{url} failed while {what} after {self.retries + 1} attempt(s): {last}. "
            "Is the server running (scripts/vllm/serve.sh) and is the URL right?"
        )


def _error_text(resp: httpx.Response) -> str:
    """The server's error message, from an OpenAI-style error body when there is one."""
    try:
        data = resp.json()
    except ValueError:
        return resp.text[:300] or resp.reason_phrase
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            err = err.get("message", err)
        if err:
            return str(err)[:300]
    return str(data)[:300]
