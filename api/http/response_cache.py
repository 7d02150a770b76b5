"""A read-through response cache for GraphQL query operations, invalidated by graph version.

The served graph changes in batches (``cosmo kg load``, a rollback, an embedding write), so
the answer to the same query document with the same variables stays the same between two
changes. :class:`ResponseCacheMiddleware` keeps finished JSON answers of *query* operations
in a bounded in-process LRU (:class:`ResponseCache`) keyed by the normalised document, the
operation name, the variables and (for streamed responses only) the ``Accept`` header, and
drops everything when the graph version changes. Never cached:

* mutations and subscriptions, and documents that do not parse (Strawberry reports them);
* answers with ``errors`` (including partial answers) or a status other than 200;
* documents touching fields whose answers do not come from the graph alone or may change
  without the version noticing (:data:`UNCACHEABLE_FIELDS`: ``explain`` reads the
  explanation cache, ``features`` the feature store, ``recommend`` a pluggable model,
  ``similar``/``embedding`` the vectors the GNN stage rewrites in place).

The graph version is :class:`cosmo.api.services.version.GraphVersion`. While it cannot be
read (database down), the cache is bypassed, so reads answer ``UNAVAILABLE`` like uncached
ones.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
    print_ast,
)
from graphql.language import Visitor, visit

from cosmo.api.services.version import GraphVersion

__all__ = [
    "UNCACHEABLE_FIELDS",
    "ResponseCache",
    "ResponseCacheMiddleware",
    "cacheable_document",
]

# explain/features read Redis, recommend a pluggable model; embeddings are rewritten in
# place by the GNN stage (a property-only write the fingerprint does not see)
UNCACHEABLE_FIELDS = frozenset(
    {"explain", "features", "rawFeatures", "recommend", "similar", "embedding"}
)


class _Fields(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _operation(doc: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name is not None and o.name.value == name), None)


@lru_cache(maxsize=1024)
def cacheable_document(text: str, operation: str | None, max_tokens: int) -> str | None:
    """The normalised document when ``operation`` of ``text`` is a cacheable query, else None."""
    try:
        doc = parse(text, max_tokens=max_tokens, no_location=True)
    except GraphQLError:
        return None
    op = _operation(doc, operation)
    if op is None or op.operation != OperationType.QUERY:
        return None
    fields = _Fields()
    visit(doc, fields)
    if fields.names & UNCACHEABLE_FIELDS:
        return None
    return print_ast(doc)


class ResponseCache:
    """A bounded LRU of finished answers of one graph version, with hit/miss counts."""

    def __init__(
        self,
        version: GraphVersion,
        *,
        size: int,
        max_tokens: int = 2000,
        max_entry_bytes: int = 256 * 1024,
        metrics: Any = None,
    ) -> None:
        self.version = version
        self.size = size
        self.max_tokens = max_tokens
        self.max_entry_bytes = max_entry_bytes
        self.metrics = metrics
        self._data: OrderedDict[tuple[Any, ...], tuple[list[Any], bytes]] = OrderedDict()
        self._version: str | None = None
        self.hits = self.misses = self.bypassed = 0

    def __len__(self) -> int:
        return len(self._data)

    def key_of(self, body: bytes, accept: bytes) -> tuple[Any, ...] | None:
        """The cache key of a POST body, or None when the request is not cacheable."""
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(req, dict) or not isinstance(req.get("query"), str):
            return None
        op = req.get("operationName")
        variables = req.get("variables") or {}
        if not isinstance(op, str | None) or not isinstance(variables, dict):
            return None
        doc = cacheable_document(req["query"], op, self.max_tokens)
        if doc is None:
            return None
        return (doc, op, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS), accept)

    async def sync(self) -> bool:
        """Follow the graph version (dropping everything on a change); False if unknown."""
        v = await self.version.current()
        if v != self._version:
            self._data.clear()
            self._version = v
            if self.metrics is not None:
                self.metrics.response_cache_entries.set(0)
        return v is not None

    def get(self, key: tuple[Any, ...]) -> tuple[list[Any], bytes] | None:
        got = self._data.get(key)
        if got is not None:
            self._data.move_to_end(key)
        self._count("hit" if got is not None else "miss")
        return got

    @property
    def current_version(self) -> str | None:
        return self._version

    def put(
        self, key: tuple[Any, ...], headers: list[Any], body: bytes, version: str | None
    ) -> bool:
        """Keep a finished answer of ``version`` unless it holds errors or is too large."""
        if version is None or version != self._version or len(body) > self.max_entry_bytes:
            return False
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(answer, dict) or answer.get("errors") or "data" not in answer:
            return False
        self._data[key] = (headers, body)
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)
        if self.metrics is not None:
            self.metrics.response_cache_entries.set(len(self._data))
        return True

    def bypass(self) -> None:
        self._count("bypass")

    def _count(self, result: str) -> None:
        if result == "hit":
            self.hits += 1
        elif result == "miss":
            self.misses += 1
        else:
            self.bypassed += 1
        if self.metrics is not None:
            self.metrics.response_cache.labels(result).inc()


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes:
    for k, v in headers:
        if k == name:
            return bytes(v)
    return b""


class ResponseCacheMiddleware:
    """Pure ASGI middleware answering repeated GraphQL queries on ``path`` from the cache."""

    def __init__(self, app: Any, *, cache: ResponseCache, path: str = "/graphql") -> None:
        self.app = app
        self.cache = cache
        self.path = path

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        if not _header(headers, b"content-type").startswith(b"application/json"):
            self.cache.bypass()
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away
            chunks.append(msg.get("body", b""))
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        accept = _header(headers, b"accept")
        # the answer to a POST differs only for streamed (multipart, event-stream) responses
        streamed = b"multipart" in accept or b"event-stream" in accept
        key = self.cache.key_of(body, accept if streamed else b"")
        if key is None or not await self.cache.sync():
            self.cache.bypass()
            await self.app(scope, replay, send)
            return
        version = self.cache.current_version
        hit = self.cache.get(key)
        if hit is not None:
            await send({"type": "http.response.start", "status": 200, "headers": hit[0]})
            await send({"type": "http.response.body", "body": hit[1]})
            return
        status = 0
        out_headers: list[Any] = []
        parts: list[bytes] = []

        async def capture(msg: Any) -> None:
            nonlocal status, out_headers
            if msg["type"] == "http.response.start":
                status, out_headers = msg["status"], list(msg.get("headers", ()))
            elif msg["type"] == "http.response.body":
                parts.append(msg.get("body", b""))
            await send(msg)

        await self.app(scope, replay, capture)
        if status == 200:
            self.cache.put(key, out_headers, b"".join(parts), version)
