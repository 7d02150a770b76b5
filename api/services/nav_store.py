"""Precomputed navigation of frequent queries: a feature store filled by the batch refresh.

COSMO serves navigation from stores refreshed in batches rather than from graph traversals
on the request path. :func:`precompute_navigation` (run by ``cosmo api refresh`` and the
``refreshExplanations`` mutation) writes, for the most frequent queries, the entry page of
navigation (no intention selected yet): the ranked candidate products and the facet rows
of the top ``facet_products`` of them. Each entry records the graph version it was
computed on; :class:`NavigationStore` answers only while that version is current (one
Redis ``GET``), and the resolver falls back to the live queries otherwise (unknown
queries, selections, larger facet sizes, a changed graph, Redis down).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cosmo.api.services.cache import redis_call
from cosmo.api.services.graph import GraphReader
from cosmo.api.services.navigation import (
    FACET_ROWS,
    Candidates,
    candidates,
    facet_row_limit,
    facet_rows,
)
from cosmo.api.services.version import GraphVersion
from cosmo.core.errors import CosmoError
from cosmo.kg.store import Row

__all__ = ["NavigationEntry", "NavigationStore", "precompute_navigation"]

log = logging.getLogger(__name__)


@dataclass
class NavigationEntry:
    """The precomputed entry page of one query."""

    candidates: Candidates
    facet_rows: list[Row]
    facet_top: int
    facet_products: int

    def covers(self, per_facet: int, facet_products: int) -> bool:
        """Whether these rows give exactly the live facets of this size."""
        enough = (
            facet_row_limit(per_facet) <= self.facet_top or len(self.facet_rows) < self.facet_top
        )
        return enough and facet_products == self.facet_products


class NavigationStore:
    """Entries under ``<prefix>nav:<query key>`` in Redis, valid for one graph version."""

    def __init__(self, redis: Any, version: GraphVersion, *, prefix: str, ttl_s: int) -> None:
        self.redis = redis
        self.version = version
        self.prefix = prefix
        self.ttl_s = ttl_s

    def key(self, query_key: str) -> str:
        return f"{self.prefix}nav:{query_key}"

    async def get(self, query_key: str) -> NavigationEntry | None:
        """The entry of a query when one exists for the current graph version, else None."""
        try:
            raw = await redis_call(self.redis.get(self.key(query_key)))
        except CosmoError as e:
            log.warning("navigation store unreadable, answering live: %s", e)
            return None
        if not raw:
            return None
        d = json.loads(raw)
        current = await self.version.current()  # None while it cannot be read
        if current is None or d["version"] != current:
            return None
        c = d["candidates"]
        return NavigationEntry(
            Candidates(c["products"], c["scores"], c["known_query"]),
            d["facet_rows"],
            d["facet_top"],
            d["facet_products"],
        )

    async def put(self, query_key: str, entry: NavigationEntry, version: str) -> None:
        c = entry.candidates
        raw = json.dumps(
            {
                "version": version,
                "candidates": {
                    "products": c.products,
                    "scores": c.scores,
                    "known_query": c.known_query,
                },
                "facet_rows": entry.facet_rows,
                "facet_top": entry.facet_top,
                "facet_products": entry.facet_products,
            },
            ensure_ascii=False,
        )
        await redis_call(self.redis.set(self.key(query_key), raw, ex=self.ttl_s))


async def frequent_queries(reader: GraphReader, top: int) -> list[Row]:
    """The ``top`` queries with the most purchases after them (key and text)."""
    return await reader.rows(
        "MATCH (q:Query)-[s:SEARCH_BUY]->(:Product) WITH q, sum(coalesce(s.count, 1)) AS n "
        "RETURN q.key AS key, q.text AS text ORDER BY n DESC, q.key LIMIT $top",
        {"top": top},
    )


async def precompute_navigation(
    reader: GraphReader,
    store: NavigationStore,
    *,
    top: int,
    cap: int,
    facet_products: int,
    queries: Sequence[Row] | None = None,
) -> int:
    """Write the entry pages of the ``top`` most frequent queries (or of ``queries``)."""
    version = await store.version.read()
    rows = list(queries) if queries is not None else await frequent_queries(reader, top)
    for r in rows:
        c = await candidates(reader, r["key"], r.get("text") or r["key"], [], cap)
        ids = [p["id"] for p in c.products[:facet_products]]
        fr = await facet_rows(reader, ids, FACET_ROWS)
        await store.put(r["key"], NavigationEntry(c, fr, FACET_ROWS, facet_products), version)
    return len(rows)
