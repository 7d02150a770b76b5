"""Batched graph reads behind the API's DataLoaders.

Every function here takes a list of keys and answers all of them with one parameterised
Cypher query (one database round trip), so resolvers never cause N+1 queries. Only the
portable Cypher subset is used (see ``cypher/README.md``); relation names are checked with
:func:`cosmo.core.schema.relation_type` and are passed as parameters, never spliced in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from cosmo.core.schema import relation_type
from cosmo.kg.store import AsyncGraphStore, Row

__all__ = ["EdgePage", "GraphReader", "NodePage", "Page"]


def product_map(var: str) -> str:
    """The map a product node ``var`` is returned as."""
    return f"{{id: {var}.id, title: {var}.title, type: {var}.type, domain: {var}.domain}}"


PRODUCT = product_map("p")
INTENTION = "{id: i.id, text: i.text, tail_type: i.tail_type, aliases: i.aliases}"
EDGE = (
    "{relation: type(r), plausibility: r.plausibility, typicality: r.typicality, "
    "frequency: r.frequency, sources: r.sources[0..5], n_sources: size(r.sources), "
    "model: r.model, pipeline_run: r.pipeline_run, created_run: r.created_run, "
    "created_at: r.created_at, intention: " + INTENTION + "}"
)
# the same map over ``x.r``/``x.i`` pairs, used after slicing so only one page is projected
EDGE_OF_X = EDGE.replace("r.", "x.r.").replace("type(r)", "type(x.r)").replace("i.", "x.i.")
PLAUS = "coalesce(r.plausibility, 0.0)"


@dataclass(frozen=True)
class Page:
    """A slice of a list: ``items[skip : skip + limit]`` and the full length."""

    items: list[Row]
    total: int
    skip: int


@dataclass(frozen=True)
class EdgePage:
    """Key of a paged knowledge-edge load: whose edges, which relations, which slice."""

    node: str
    relations: tuple[str, ...] | None = None
    min_plausibility: float = 0.0
    skip: int = 0
    limit: int = 20


@dataclass(frozen=True)
class NodePage:
    """Key of a paged neighbour load."""

    node: str
    skip: int = 0
    limit: int = 20


def relations_of(names: Sequence[str] | None) -> tuple[str, ...] | None:
    """Canonical relation names (raises SchemaError on an unknown one)."""
    if not names:
        return None
    return tuple(sorted({relation_type(n) for n in names}))


class GraphReader:
    """Batched reads over an :class:`AsyncGraphStore`; one instance per app."""

    def __init__(self, store: AsyncGraphStore, *, timeout_ms: int | None = None) -> None:
        self.store = store
        self.timeout_ms = timeout_ms

    async def rows(self, cypher: str, params: dict[str, Any]) -> list[Row]:
        return await self.store.query(cypher, params, timeout_ms=self.timeout_ms)

    # -- nodes -------------------------------------------------------------------
    async def products(self, ids: Sequence[str]) -> list[Row | None]:
        rows = await self.rows(
            f"UNWIND $ids AS k MATCH (p:Product {{id: k}}) RETURN k, {PRODUCT} AS v",
            {"ids": list(set(ids))},
        )
        found = {r["k"]: r["v"] for r in rows}
        return [found.get(i) for i in ids]

    async def queries(self, keys: Sequence[str]) -> list[Row | None]:
        rows = await self.rows(
            "UNWIND $ids AS k MATCH (q:Query {key: k}) RETURN k, {key: q.key, text: q.text} AS v",
            {"ids": list(set(keys))},
        )
        found = {r["k"]: r["v"] for r in rows}
        return [found.get(k) for k in keys]

    async def intentions(self, ids: Sequence[str]) -> list[Row | None]:
        rows = await self.rows(
            f"UNWIND $ids AS k MATCH (i:Intention {{id: k}}) RETURN k, {INTENTION} AS v",
            {"ids": list(set(ids))},
        )
        found = {r["k"]: r["v"] for r in rows}
        return [found.get(i) for i in ids]

    async def embeddings(self, ids: Sequence[str]) -> list[list[float] | None]:
        rows = await self.rows(
            "UNWIND $ids AS k MATCH (p:Product {id: k}) RETURN k, p.embedding AS v",
            {"ids": list(set(ids))},
        )
        found = {r["k"]: r["v"] for r in rows}
        return [found.get(i) for i in ids]

    # -- paged one-to-many reads -------------------------------------------------
    async def _paged(self, keys: Sequence[Any], group: Any, cypher: Any, params: Any) -> list[Page]:
        """Run ``cypher`` once per distinct ``group(key)``; it returns ``k, total, items``."""
        groups: dict[Any, list[Any]] = defaultdict(list)
        for k in keys:
            groups[group(k)].append(k)
        out: dict[Hashable, Page] = {}
        for g, members in groups.items():
            p = params(g)
            rows = await self.rows(cypher(g), {"ids": list({m.node for m in members}), **p})
            by = {r["k"]: r for r in rows}
            for m in members:
                r = by.get(m.node)
                out[m] = Page(list(r["items"]) if r else [], int(r["total"]) if r else 0, m.skip)
        return [out[k] for k in keys]

    async def knowledge(self, keys: Sequence[EdgePage], label: str) -> list[Page]:
        """Knowledge edges of Product (``label='Product'``) or Query nodes, best first."""
        node = "(p:Product {id: k})" if label == "Product" else "(p:Query {key: k})"

        def cypher(g: tuple[Any, ...]) -> str:
            rel = " AND type(r) IN $rels" if g[0] else ""
            return (
                f"UNWIND $ids AS k MATCH {node}-[r]->(i:Intention) "
                f"WHERE {PLAUS} >= $minp{rel} "
                f"WITH k, r, i ORDER BY {PLAUS} DESC, i.id "
                "WITH k, collect({r: r, i: i}) AS xs "
                f"RETURN k, size(xs) AS total, [x IN xs[$skip..$end] | {EDGE_OF_X}] AS items"
            )

        return await self._paged(
            keys,
            lambda e: (e.relations, e.min_plausibility, e.skip, e.limit),
            cypher,
            lambda g: {
                "rels": list(g[0] or []),
                "minp": g[1],
                "skip": g[2],
                "end": g[2] + g[3],
            },
        )

    async def product_with_knowledge(self, key: EdgePage) -> tuple[Row | None, Page]:
        """A product and one page of its knowledge edges in one round trip (None if absent)."""
        rel = " AND type(r) IN $rels" if key.relations else ""
        rows = await self.rows(
            "MATCH (p:Product {id: $id}) "
            f"OPTIONAL MATCH (p)-[r]->(i:Intention) WHERE {PLAUS} >= $minp{rel} "
            f"WITH p, r, i ORDER BY {PLAUS} DESC, i.id "
            "WITH p, collect(CASE WHEN r IS NULL THEN NULL ELSE {r: r, i: i} END) AS xs "
            f"RETURN {PRODUCT} AS v, size(xs) AS total, "
            f"[x IN xs[$skip..$end] | {EDGE_OF_X}] AS items",
            {
                "id": key.node,
                "rels": list(key.relations or []),
                "minp": key.min_plausibility,
                "skip": key.skip,
                "end": key.skip + key.limit,
            },
        )
        if not rows:
            return None, Page([], 0, key.skip)
        r = rows[0]
        return r["v"], Page(list(r["items"] or []), int(r["total"] or 0), key.skip)

    async def _neighbours(
        self, keys: Sequence[NodePage], match: str, item: str, order: str
    ) -> list[Page]:
        cypher = (
            f"UNWIND $ids AS k {match} WITH k, {item} AS x ORDER BY {order} "
            "WITH k, collect(x) AS xs RETURN k, size(xs) AS total, xs[$skip..$end] AS items"
        )
        return await self._paged(
            keys,
            lambda e: (e.skip, e.limit),
            lambda g: cypher,
            lambda g: {"skip": g[0], "end": g[0] + g[1]},
        )

    async def co_bought(self, keys: Sequence[NodePage]) -> list[Page]:
        return await self._neighbours(
            keys,
            "MATCH (o:Product {id: k})-[c:CO_BUY]-(p:Product)",
            f"{{count: c.count, product: {PRODUCT}}}",
            "coalesce(c.count, 0) DESC, p.id",
        )

    async def query_products(self, keys: Sequence[NodePage]) -> list[Page]:
        return await self._neighbours(
            keys,
            "MATCH (q:Query {key: k})-[s:SEARCH_BUY]->(p:Product)",
            f"{{count: s.count, product: {PRODUCT}}}",
            "coalesce(s.count, 0) DESC, p.id",
        )

    async def intention_products(self, keys: Sequence[NodePage]) -> list[Page]:
        return await self._neighbours(
            keys,
            "MATCH (i:Intention {id: k})<-[r]-(p:Product)",
            f"{{relation: type(r), plausibility: r.plausibility, product: {PRODUCT}}}",
            f"{PLAUS} DESC, p.id",
        )

    async def intention_queries(self, keys: Sequence[NodePage]) -> list[Page]:
        return await self._neighbours(
            keys,
            "MATCH (i:Intention {id: k})<-[r]-(q:Query)",
            "{relation: type(r), plausibility: r.plausibility, key: q.key, text: q.text}",
            f"{PLAUS} DESC, q.key",
        )

    async def related_intentions(self, keys: Sequence[NodePage]) -> list[Page]:
        """Intentions sharing products with the given one, by number of shared products."""
        cypher = (
            "UNWIND $ids AS k MATCH (j:Intention {id: k})<--(p:Product)-->(i:Intention) "
            "WHERE i.id <> k WITH k, i, count(DISTINCT p) AS shared "
            f"ORDER BY shared DESC, i.id WITH k, collect({{shared: shared, intention: {INTENTION}}}) AS xs "
            "RETURN k, size(xs) AS total, xs[$skip..$end] AS items"
        )
        return await self._paged(
            keys,
            lambda e: (e.skip, e.limit),
            lambda g: cypher,
            lambda g: {"skip": g[0], "end": g[0] + g[1]},
        )

    async def explained_co_buys(self, keys: Sequence[NodePage]) -> list[Page]:
        """Co-bought products with the knowledge edges whose provenance is that pair."""
        cypher = (
            "UNWIND $ids AS k MATCH (o:Product {id: k})-[c:CO_BUY]-(p:Product) "
            "WITH k, o, c, p, CASE WHEN o.id < p.id THEN 'cb:' + o.id + '|' + p.id "
            "ELSE 'cb:' + p.id + '|' + o.id END AS pk "
            "MATCH (o)-[r]->(i:Intention) WHERE pk IN r.sources "
            f"WITH k, c, p, collect({EDGE}) AS why ORDER BY coalesce(c.count, 0) DESC, p.id "
            f"WITH k, collect({{count: c.count, product: {PRODUCT}, edges: why}}) AS xs "
            "RETURN k, size(xs) AS total, xs[$skip..$end] AS items"
        )
        return await self._paged(
            keys,
            lambda e: (e.skip, e.limit),
            lambda g: cypher,
            lambda g: {"skip": g[0], "end": g[0] + g[1]},
        )

    async def similar(self, keys: Sequence[NodePage]) -> list[Page]:
        """Nearest products by the ``embedding`` property (the store's vector index)."""
        out: dict[NodePage, Page] = {}
        by_k: dict[int, list[NodePage]] = defaultdict(list)
        for key in keys:
            by_k[key.limit].append(key)
        for k, members in by_k.items():
            rows = await self.similar_rows([m.node for m in members], k)
            for m in members:
                items = rows.get(m.node, [])
                out[m] = Page(items, len(items), 0)
        return [out[k] for k in keys]

    async def similar_rows(self, ids: Sequence[str], k: int) -> dict[str, list[Row]]:
        """The ``k`` nearest products of each id: ``{score (cosine), product}``, best first."""
        hits = await self.store.vector_search(
            "Product",
            "embedding",
            list(set(ids)),
            k,
            returns=product_map("node"),
            timeout_ms=self.timeout_ms,
        )
        out: dict[str, list[Row]] = defaultdict(list)
        for h in hits:  # best first per source
            out[h["source"]].append({"score": h["score"], "product": h["node"]})
        return dict(out)
