"""The version of the served graph: a fingerprint that changes whenever the graph does.

The served graph changes in batches (``cosmo kg load``, a rollback, an embedding write).
:class:`GraphVersion` reads a fingerprint at most every ``check_s`` seconds: node and edge
counts, the ``:LoadRun`` records of :mod:`cosmo.kg.versions` (a new or resumed load, a
rollback), and a stamp in Redis that any writer can bump with :func:`bump_graph_version`
(for property-only writes). The response cache and the precomputed navigation are
invalidated by it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from cosmo.api.services.cache import redis_call
from cosmo.api.services.graph import GraphReader

__all__ = ["FINGERPRINT", "GraphVersion", "bump_graph_version"]

# separate statements: each is answered from counters (FalkorDB, Neo4j's count store),
# while one statement chaining them scans every edge
FINGERPRINT = (
    "MATCH (n) RETURN count(n) AS n",
    "MATCH ()-[e]->() RETURN count(e) AS n",
    "OPTIONAL MATCH (r:LoadRun) RETURN count(r) AS runs, max(r.seq) AS seq, "
    "sum(coalesce(r.done_batches, 0)) AS done, collect(r.status) AS status",
)


async def bump_graph_version(redis: Any, prefix: str = "cosmo:") -> int:
    """Mark the graph as changed for every API server on this Redis (property-only writes)."""
    return int(await redis_call(redis.incr(f"{prefix}graph:version")))


class GraphVersion:
    """A fingerprint of the served graph, re-read at most every ``check_s`` seconds."""

    def __init__(self, reader: GraphReader, redis: Any, *, prefix: str, check_s: float) -> None:
        self.reader = reader
        self.redis = redis
        self.key = f"{prefix}graph:version"
        self.check_s = check_s
        self._value: str | None = None
        self._checked = float("-inf")

    async def read(self) -> str:
        """Read the fingerprint now (raises when the database or Redis is unreachable)."""
        nodes, edges, runs = await asyncio.gather(*(self.reader.rows(q, {}) for q in FINGERPRINT))
        stamp = None
        if self.redis is not None:  # on the primary: a paused one is waited for db_timeout_ms
            wait = self.reader.timeout_ms / 1000 if self.reader.timeout_ms else None
            stamp = await asyncio.wait_for(redis_call(self.redis.get(self.key)), wait)
        r = runs[0] if runs else {}
        status = ",".join(sorted(str(s) for s in r.get("status") or []))
        return (
            f"{nodes[0]['n'] if nodes else 0}/{edges[0]['n'] if edges else 0}/{r.get('runs')}/"
            f"{r.get('seq')}/{r.get('done')}/{status}/{stamp}"
        )

    async def current(self) -> str | None:
        """The version, re-read when older than ``check_s``; None while it cannot be read."""
        now = time.monotonic()
        if now - self._checked >= self.check_s:
            self._checked = now
            try:
                self._value = await self.read()
            except Exception:
                self._value = None
        return self._value
