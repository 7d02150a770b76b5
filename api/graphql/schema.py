"""The GraphQL schema: the root query fields and :func:`build_schema` with its limits.

Navigation types are in :mod:`cosmo.api.graphql.navigation`, the guarded mutations in
:mod:`cosmo.api.graphql.mutations`.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ValidationCache,
)
from strawberry.types.nodes import SelectedField

from cosmo.api.graphql.complexity import Limits, ParseWithTokenLimit, complexity_rule
from cosmo.api.graphql.errors import ErrorCodes
from cosmo.api.graphql.limits import LIST_FIELDS, ApiError, check_ids
from cosmo.api.graphql.mutations import Mutation
from cosmo.api.graphql.navigation import Navigation, navigation
from cosmo.api.graphql.types import (
    DetectedIntent,
    Info,
    Intention,
    Product,
    SearchQuery,
    paging,
    text_arg,
)
from cosmo.api.services.graph import EdgePage, relations_of
from cosmo.api.services.navigation import relevance
from cosmo.api.settings import ApiSettings
from cosmo.core.errors import SchemaError
from cosmo.core.schema import query_key, relation_type

__all__ = ["Query", "build_schema"]


@strawberry.type
class Recommendation:
    product: Product
    score: float
    co_buys: int
    shared_intentions: int


@strawberry.type
class RelevanceScore:
    product_id: strawberry.ID
    product: Product | None
    score: float
    purchased: bool
    shared_intentions: list[Intention]


@strawberry.enum
class ExplainStatus(Enum):
    READY = "ready"
    PENDING = "pending"
    UNKNOWN_PRODUCT = "unknown_product"


@strawberry.type
class ExplainPayload:
    """An explanation of a query-product pair, or ``PENDING`` while the worker makes it."""

    status: ExplainStatus
    text: str | None = None
    intents: list[DetectedIntent] = strawberry.field(default_factory=list)
    source: str | None = None
    model: str | None = None
    tier: str | None = None
    created_at: float | None = None


def _knowledge_key(info: Info, node: str) -> EdgePage | None:
    """The ``intentions`` page key when the selection asks for exactly one, else None.

    Invalid arguments give None too: the ``intentions`` resolver then reports them.
    """
    found = [
        f
        for f in info.selected_fields[0].selections
        if isinstance(f, SelectedField) and f.name == "intentions"
    ]
    if len(found) != 1 or found[0].directives:
        return None
    a = found[0].arguments  # literals come as their source text, variables as values
    try:
        first = None if a.get("first") is None else int(a["first"])
        rel = a.get("relation")
        rels = relations_of([rel] if isinstance(rel, str) else rel)
        skip, limit = paging(info, first, a.get("after"))
        return EdgePage(node, rels, float(a.get("minPlausibility") or 0.0), skip, limit)
    except (ApiError, SchemaError, TypeError, ValueError):
        return None


@strawberry.type
class Query:
    @strawberry.field
    async def product(self, info: Info, id: strawberry.ID) -> Product | None:
        check_ids([id], "id", 1)
        loaders = info.context.loaders
        key = _knowledge_key(info, str(id))
        if key is not None:
            # the product and the page of intentions asked for, in one round trip
            row, page = await info.context.services.reader.product_with_knowledge(key)
            loaders.product.prime(str(id), row)
            loaders.product_knowledge.prime(key, page)
        else:
            row = await loaders.product.load(str(id))
        return Product.from_row(row) if row else None

    @strawberry.field
    async def products(self, info: Info, ids: list[strawberry.ID]) -> list[Product | None]:
        check_ids(ids, "ids", info.context.settings.max_ids)
        rows = await info.context.loaders.product.load_many([str(i) for i in ids])
        return [Product.from_row(r) if r else None for r in rows]

    @strawberry.field
    async def search_query(self, info: Info, text: str) -> SearchQuery:
        key = query_key(text_arg(info, text, "text"))
        row = await info.context.loaders.query.load(key)
        return SearchQuery(text=row["text"] if row else text, key=key, known=row is not None)

    @strawberry.field
    async def intention(self, info: Info, id: strawberry.ID) -> Intention | None:
        check_ids([id], "id", 1)
        row = await info.context.loaders.intention.load(str(id))
        return Intention.from_row(row) if row else None

    @strawberry.field(description="Search navigation: facets and products for a query.")
    async def navigate(
        self, info: Info, query: str, selected_intentions: list[strawberry.ID] | None = None
    ) -> Navigation:
        return await navigation(info, query, selected_intentions)

    @strawberry.field(description="Next products for a session of viewed or bought products.")
    async def recommend(
        self, info: Info, session: list[strawberry.ID], k: int = 10
    ) -> list[Recommendation]:
        s = info.context.settings
        check_ids(session, "session", s.max_ids)
        if not 1 <= k <= s.max_page_size:
            raise ApiError(f"k must be between 1 and {s.max_page_size}", "PAGE_SIZE")
        recs = await info.context.services.recommender.recommend([str(i) for i in session], k)
        return [
            Recommendation(
                product=Product.from_row(r.product),
                score=round(r.score, 6),
                co_buys=r.co_buys,
                shared_intentions=r.shared_intentions,
            )
            for r in recs
        ]

    @strawberry.field(
        description="Relevance of products to a query (intention overlap, purchases)."
    )
    async def relevance(
        self, info: Info, query: str, product_ids: list[strawberry.ID]
    ) -> list[RelevanceScore]:
        text = text_arg(info, query, "query")
        ids = check_ids(product_ids, "productIds", info.context.settings.max_ids)
        got = await relevance(info.context.services.reader, query_key(text), ids)
        return [
            RelevanceScore(
                product_id=strawberry.ID(r.product_id),
                product=Product.from_row(r.product) if r.product else None,
                score=r.score,
                purchased=r.purchased,
                shared_intentions=[Intention.from_row(i) for i in r.shared],
            )
            for r in got
        ]

    @strawberry.field(
        description="Why a customer bought the product after this search (never blocks). "
        "relation: the COSMO relation to answer with (e.g. USED_FOR_EVE); by default any "
        "relation the graph knows, xWANT when generated."
    )
    async def explain(
        self,
        info: Info,
        query: str,
        product_id: strawberry.ID,
        relation: str | None = None,
    ) -> ExplainPayload:
        text = text_arg(info, query, "query")
        check_ids([product_id], "productId", 1)
        svc = info.context.services.explainer
        if svc is None:
            raise ApiError("online explanations are not configured (no cache store)", "UNAVAILABLE")
        try:
            rel = None if relation is None else relation_type(relation)
        except SchemaError as err:
            raise ApiError(str(err), "BAD_INPUT") from err
        res = await svc.explain(text, str(product_id), rel)
        e = res.explanation
        if e is None:
            return ExplainPayload(status=ExplainStatus(res.status))
        return ExplainPayload(
            status=ExplainStatus.READY,
            text=e.text,
            intents=[
                DetectedIntent(relation=i.get("relation", ""), tail=i.get("tail", ""))
                for i in e.intents
            ],
            source=e.source,
            model=e.model,
            tier=res.tier,
            created_at=e.created_at,
        )


def build_schema(settings: ApiSettings, *, metrics: Any = None) -> strawberry.Schema:
    """The schema with its limits: tokens, then depth, aliases, size and cost; caches.

    The token limit applies while parsing, before any validation rule. Depth, aliases,
    expanded size and cost are one rule (:mod:`cosmo.api.graphql.complexity`) whose work is
    linear in the document, so no document can hold the event loop while it is measured.
    Extensions are given as factories, so each request gets its own instances (the parser
    and validation caches are shared at module level by Strawberry).
    """
    limits = Limits(settings.max_depth, settings.max_aliases, settings.max_fields)
    limits = limits.with_cost(
        settings.max_cost, settings.default_page_size, settings.max_page_size, LIST_FIELDS
    )
    # the rule class is made once: the validation cache is keyed by it
    rules: list[type[ASTValidationRule]] = [complexity_rule(limits)]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: ErrorCodes(metrics=metrics),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: ParseWithTokenLimit(maxsize=512),
            lambda: AddValidationRules(rules),
            lambda: ValidationCache(maxsize=512),
        ],
    )
