"""The online-explanation cache store and the feature store, both in Redis.

COSMO keeps the language model off the search path: answers come from a two-tier cache
(a *preloaded* tier that the daily refresh fills for frequent queries, and an *on-demand*
tier filled by the worker for everything else), and misses are queued and explained in
batches. Structured results (the detected intents of a query or product) go to a feature
store that other applications read. Keys (all under the configured prefix, ``cosmo:``)::

    explain:pre:<slot>         JSON explanation, preloaded tier (TTL: preload_ttl_s)
    explain:dyn:<slot>         JSON explanation, on-demand tier (TTL: cache_ttl_s)
                               (slot: the pair key, or <pair key>#<RELATION> when the
                               question named a relation; see explain_slot)
    explain:queue              list of queued jobs (JSON)
    explain:queued             set of queued pair keys (a miss is queued once)
    feat:query:<query key>     hash: intents (JSON list), explained (count), updated_at
    feat:product:<product id>  hash: the same fields for a product
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from cosmo.core.errors import StoreUnavailable

__all__ = ["CacheStore", "Explanation", "FeatureStore", "Job", "explain_slot", "redis_call"]

Tier = Literal["preloaded", "on_demand"]


@dataclass
class Explanation:
    """Why a customer bought ``product_id`` after searching ``query``."""

    pair: str
    query: str
    product_id: str
    text: str
    intents: list[dict[str, str]] = field(default_factory=list)
    source: str = "generated"  # "graph" (refined knowledge) or "generated" (online model)
    model: str | None = None
    created_at: float = field(default_factory=time.time)
    relation: str | None = None  # the relation asked; None: any relation the graph knows

    @property
    def slot(self) -> str:
        """The cache key: the pair, and the relation asked when there is one."""
        return explain_slot(self.pair, self.relation)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Explanation:
        return cls(**json.loads(raw))


@dataclass(frozen=True)
class Job:
    """A queued miss: explain this query-product pair."""

    pair: str
    query: str
    product_id: str
    title: str
    relation: str | None = None

    @property
    def slot(self) -> str:
        return explain_slot(self.pair, self.relation)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def explain_slot(pair: str, relation: str | None) -> str:
    """Cache key of an explanation: ``pair``, or ``pair#RELATION`` for one relation."""
    return pair if relation is None else f"{pair}#{relation}"


async def redis_call(awaitable: Any) -> Any:
    """Await a Redis call, turning connection failures into :class:`StoreUnavailable`."""
    import redis

    try:
        return await awaitable
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as e:
        raise StoreUnavailable(f"the cache store (Redis) is unreachable ({e})") from e


_ENQUEUE = """
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1
"""


class CacheStore:
    """Two-tier explanation cache and miss queue over a ``redis.asyncio`` client."""

    def __init__(
        self,
        redis: Any,
        *,
        prefix: str = "cosmo:",
        ttl_s: int = 604800,
        preload_ttl_s: int = 172800,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.preload_ttl_s = preload_ttl_s

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    @property
    def queue_key(self) -> str:
        return self.key("explain", "queue")

    async def get(
        self, pair: str, relation: str | None = None
    ) -> tuple[Explanation | None, Tier | None]:
        """The cached explanation of ``pair`` for ``relation`` (one round trip, both tiers)."""
        slot = explain_slot(pair, relation)
        pre, dyn = await redis_call(
            self.redis.mget(self.key("explain", "pre", slot), self.key("explain", "dyn", slot))
        )
        if pre:
            return Explanation.from_json(pre), "preloaded"
        if dyn:
            return Explanation.from_json(dyn), "on_demand"
        return None, None

    async def put(self, items: Sequence[Explanation], tier: Tier) -> None:
        if not items:
            return
        name, ttl = ("pre", self.preload_ttl_s) if tier == "preloaded" else ("dyn", self.ttl_s)
        pipe = self.redis.pipeline(transaction=False)
        for e in items:
            pipe.set(self.key("explain", name, e.slot), e.to_json(), ex=ttl)
        await redis_call(pipe.execute())

    async def enqueue(self, job: Job) -> bool:
        """Queue a miss once; True when it was queued now.

        One atomic step (a Lua script): a pair already explained or already queued is not
        queued. A request that missed the cache while the worker was writing the answer
        would otherwise queue the pair again after the worker released it, and the model
        would explain it twice.
        """
        keys = (
            self.key("explain", "queued"),
            self.queue_key,
            self.key("explain", "pre", job.slot),
            self.key("explain", "dyn", job.slot),
        )
        added = await redis_call(
            self.redis.eval(_ENQUEUE, len(keys), *keys, job.slot, job.to_json())
        )
        return bool(added)

    async def take(self, n: int) -> list[Job]:
        raw = await redis_call(self.redis.lpop(self.queue_key, n))
        return [Job(**json.loads(r)) for r in raw or []]

    async def release(self, pairs: Sequence[str]) -> None:
        """Forget that these slots (:attr:`Job.slot`) are queued."""
        if pairs:
            await redis_call(self.redis.srem(self.key("explain", "queued"), *pairs))

    async def queue_length(self) -> int:
        return int(await redis_call(self.redis.llen(self.queue_key)))

    async def clear(self) -> int:
        """Delete every explanation-cache key under the prefix (tests, rebuilds)."""
        n = 0
        async for k in self.redis.scan_iter(match=self.key("explain", "*"), count=500):
            n += await self.redis.delete(k)
        return n


class FeatureStore:
    """Structured per-query and per-product features (detected intents) in Redis hashes."""

    def __init__(self, redis: Any, *, prefix: str = "cosmo:") -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, kind: Literal["query", "product"], ident: str) -> str:
        return f"{self.prefix}feat:{kind}:{ident}"

    async def get(self, kind: Literal["query", "product"], ident: str) -> dict[str, Any]:
        raw = await redis_call(self.redis.hgetall(self.key(kind, ident)))
        if not raw:
            return {}
        out: dict[str, Any] = dict(raw)
        out["intents"] = json.loads(raw.get("intents", "[]"))
        out["explained"] = int(raw.get("explained", 0))
        out["updated_at"] = float(raw.get("updated_at", 0))
        return out

    async def record(self, items: Sequence[Explanation], query_keys: Sequence[str]) -> None:
        """Merge each explanation's intents into its query's and product's features."""
        merged: dict[tuple[str, str], list[dict[str, str]]] = {}
        counts: dict[tuple[str, str], int] = {}
        for e, qk in zip(items, query_keys, strict=True):
            for kind, ident in (("query", qk), ("product", e.product_id)):
                merged.setdefault((kind, ident), []).extend(e.intents)
                counts[(kind, ident)] = counts.get((kind, ident), 0) + 1
        if not merged:
            return
        pipe = self.redis.pipeline(transaction=False)
        for kind, ident in merged:
            pipe.hget(self.key(kind, ident), "intents")  # type: ignore[arg-type]
        old = await redis_call(pipe.execute())
        pipe = self.redis.pipeline(transaction=False)
        now = time.time()
        for ((kind, ident), new), prev in zip(merged.items(), old, strict=True):
            seen: dict[tuple[str, str], dict[str, str]] = {}
            for it in [*json.loads(prev or "[]"), *new]:
                seen.setdefault((it.get("relation", ""), it.get("tail", "")), it)
            key = self.key(kind, ident)  # type: ignore[arg-type]
            pipe.hset(key, mapping={"intents": json.dumps(list(seen.values())), "updated_at": now})
            pipe.hincrby(key, "explained", counts[(kind, ident)])
        await redis_call(pipe.execute())
