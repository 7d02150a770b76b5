"""Search navigation in GraphQL: the navigation state, its ranked products and its facets.

The candidates of a query are read once per state (or come from the answer cache or the
precomputed entry page, :mod:`cosmo.api.services.nav_store`); products and facets are
fields of the same state, so a page asks for both without reading twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from cosmo.api.graphql.limits import ApiError, check_ids
from cosmo.api.graphql.types import (
    Connection,
    Info,
    Intention,
    Product,
    connection,
    paging,
    text_arg,
)
from cosmo.api.services.graph import Page
from cosmo.api.services.nav_store import NavigationEntry
from cosmo.api.services.navigation import Candidates, candidates, facets, group_facets
from cosmo.core.schema import query_key

__all__ = ["Facet", "FacetValue", "Navigation", "RankedProduct", "navigation"]


@strawberry.type
class FacetValue:
    intention: Intention
    count: int
    selected: bool
    score: float = strawberry.field(
        default=0.0, description="Coverage of the result products × typicality × specificity."
    )


@strawberry.type
class Facet:
    """Intentions of one relation and tail type, with how many products have each."""

    relation: str
    tail_type: str
    count: int
    values: list[FacetValue]


@strawberry.type
class RankedProduct:
    product: Product
    score: float


@strawberry.type
class Navigation:
    """A search-navigation state: a query and the intentions selected so far."""

    query: str
    selected_intentions: list[strawberry.ID]
    _task: strawberry.Private[Any]
    _key: strawberry.Private[str]
    _pre: strawberry.Private[NavigationEntry | None] = None

    @strawberry.field(description="Whether the graph knows this query (else a title search).")
    async def known_query(self) -> bool:
        return bool((await self._task).known_query)

    @strawberry.field
    async def products(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[RankedProduct]:
        skip, limit = paging(info, first, after)
        c: Candidates = await self._task
        page = Page(c.products[skip : skip + limit], len(c.products), skip)
        return connection(
            page,
            lambda r: RankedProduct(product=Product.from_row(r), score=round(c.scores[r["id"]], 6)),
        )

    @strawberry.field(description="Facets: intentions grouped by relation and tail type.")
    async def facets(self, info: Info, size: int = 8) -> list[Facet]:
        if not 1 <= size <= info.context.settings.max_page_size:
            raise ApiError(
                f"size must be between 1 and {info.context.settings.max_page_size}", "PAGE_SIZE"
            )
        s = info.context.settings
        cache = info.context.services.nav_cache
        ck = ("facets", self._key, tuple(self.selected_intentions), size)
        got = cache.get(ck) if cache is not None else None
        pre = self._pre
        if got is None and pre is not None and pre.covers(size, s.facet_products):
            n = len(pre.candidates.products[: s.facet_products])
            got = group_facets(pre.facet_rows, self.selected_intentions, size, n)
        if got is None:
            c: Candidates = await self._task
            got = await facets(
                info.context.services.reader,
                [p["id"] for p in c.products[: info.context.settings.facet_products]],
                self.selected_intentions,
                size,
            )
            if cache is not None:
                cache.put(ck, got)
        return [
            Facet(
                relation=f.relation,
                tail_type=f.tail_type,
                count=f.count,
                values=[
                    FacetValue(
                        intention=Intention.from_row(v.intention),
                        count=v.count,
                        selected=v.selected,
                        score=v.score,
                    )
                    for v in f.values
                ],
            )
            for f in got
        ]


async def _cached_candidates(
    info: Info, key: str, text: str, sel: list[str], cap: int
) -> Candidates:
    got = await candidates(info.context.services.reader, key, text, sel, cap)
    if info.context.services.nav_cache is not None:
        info.context.services.nav_cache.put(("candidates", key, tuple(sel)), got)
    return got


async def navigation(info: Info, query: str, selected: list[strawberry.ID] | None) -> Navigation:
    """The navigation state of ``query``: its candidates start loading now (or come cached)."""
    s = info.context.settings
    text = text_arg(info, query, "query")
    sel = check_ids(selected or [], "selectedIntentions", s.max_ids)
    key = query_key(text)
    cache = info.context.services.nav_cache
    hit = cache.get(("candidates", key, tuple(sel))) if cache is not None else None
    pre = None
    store = info.context.services.nav_store
    if hit is None and not sel and store is not None:
        # the batch refresh's precomputed entry page, when it is of the current graph
        pre = await store.get(key)
        hit = pre.candidates if pre is not None else None
    if hit is not None:
        task: asyncio.Future[Candidates] = asyncio.get_running_loop().create_future()
        task.set_result(hit)
    else:
        task = asyncio.ensure_future(_cached_candidates(info, key, text, sel, s.max_candidates))
    return Navigation(
        query=text,
        selected_intentions=[strawberry.ID(i) for i in sel],
        _task=task,
        _key=key,
        _pre=pre,
    )
