"""The GraphQL schema: root fields, navigation, explanations and the guarded mutations."""

from __future__ import annotations

import asyncio
import hmac
import time
from enum import Enum
from typing import Any

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.permission import BasePermission
from strawberry.types.nodes import SelectedField

from cosmo.api.errors import ErrorCodes
from cosmo.api.explain import refresh
from cosmo.api.graph import EdgePage, relations_of
from cosmo.api.limits import ApiError, check_ids, check_text, cost_rule
from cosmo.api.nav_store import NavigationEntry, precompute_navigation
from cosmo.api.navigation import Candidates, candidates, facets, group_facets, relevance
from cosmo.api.settings import ApiSettings
from cosmo.api.types import (
    Connection,
    DetectedIntent,
    Info,
    Intention,
    Product,
    SearchQuery,
    connection,
    paging,
)
from cosmo.core.errors import SchemaError
from cosmo.core.schema import normalise_text, query_key, relation_type

__all__ = ["Mutation", "Query", "build_schema"]


@strawberry.type
class FacetValue:
    intention: Intention
    count: int
    selected: bool


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
        from cosmo.api.graph import Page

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
            got = group_facets(pre.facet_rows, self.selected_intentions, size)
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
                    )
                    for v in f.values
                ],
            )
            for f in got
        ]


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


async def _cached_candidates(
    info: Info, key: str, text: str, sel: list[str], cap: int
) -> Candidates:
    got = await candidates(info.context.services.reader, key, text, sel, cap)
    if info.context.services.nav_cache is not None:
        info.context.services.nav_cache.put(("candidates", key, tuple(sel)), got)
    return got


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


def _text(info: Info, value: str, field: str) -> str:
    return check_text(value, field, info.context.settings.max_text)


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
        key = query_key(_text(info, text, "text"))
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
        s = info.context.settings
        text = _text(info, query, "query")
        sel = check_ids(selected_intentions or [], "selectedIntentions", s.max_ids)
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
        text = _text(info, query, "query")
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
        description="Why a customer bought the product after this search (never blocks)."
    )
    async def explain(self, info: Info, query: str, product_id: strawberry.ID) -> ExplainPayload:
        text = _text(info, query, "query")
        check_ids([product_id], "productId", 1)
        svc = info.context.services.explainer
        if svc is None:
            raise ApiError("online explanations are not configured (no cache store)", "UNAVAILABLE")
        res = await svc.explain(text, str(product_id))
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


class HasApiKey(BasePermission):
    """Mutations need ``X-API-Key`` to match ``COSMO_API_API_KEY``."""

    message = "this mutation needs an API key"
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        expected = info.context.settings.api_key
        request = info.context.request
        given = request.headers.get("x-api-key") if request is not None else None
        if expected is None:
            self.message = (
                "mutations are disabled: the server has no API key (set COSMO_API_API_KEY)"
            )
            return False
        if not given:
            self.message = "missing API key: send it in the X-API-Key header"
            return False
        if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            self.message = "wrong API key"
            return False
        return True


@strawberry.enum
class Verdict(Enum):
    GOOD = "good"
    BAD = "bad"
    UNSURE = "unsure"


@strawberry.input
class AnnotationInput:
    subject: str = strawberry.field(description="Query text or product id.")
    relation: str
    intention: str = strawberry.field(description="Intention id or text.")
    verdict: Verdict
    annotator: str = "api"
    note: str = ""


@strawberry.type
class AnnotationResult:
    id: str


@strawberry.type
class RefreshResult:
    queries: int
    pairs: int
    from_graph: int
    generated: int
    queued: int
    navigation: int = strawberry.field(description="Queries whose navigation was precomputed.")


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[HasApiKey], description="Record a human judgement.")
    async def annotate(self, info: Info, input: AnnotationInput) -> AnnotationResult:
        svc = info.context.services
        if svc.redis is None:
            raise ApiError("annotations need the cache store (Redis)", "UNAVAILABLE")
        try:
            rel = relation_type(input.relation)
        except SchemaError as e:
            raise ApiError(str(e), "BAD_INPUT") from e
        subject = _text(info, input.subject, "subject")
        intention = _text(info, input.intention, "intention")
        if len(input.annotator) > 100 or len(input.note) > 2000:
            raise ApiError("annotator (100) or note (2000 characters) is too long", "BAD_INPUT")
        fields = {
            "subject": subject,
            "subject_key": normalise_text(subject),
            "relation": rel,
            "intention": intention,
            "verdict": input.verdict.value,
            "annotator": input.annotator,
            "note": input.note,
            "at": str(time.time()),
        }
        ident = await svc.redis.xadd(f"{svc.settings.key_prefix}annotations", fields)
        return AnnotationResult(id=str(ident))

    @strawberry.mutation(permission_classes=[HasApiKey], description="Run the cache refresh now.")
    async def refresh_explanations(self, info: Info, top: int = 100) -> RefreshResult:
        svc = info.context.services
        if svc.cache is None or svc.features is None:
            raise ApiError("online explanations are not configured (no cache store)", "UNAVAILABLE")
        if not 1 <= top <= 10_000:
            raise ApiError("top must be between 1 and 10000", "BAD_INPUT")
        r = await refresh(
            svc.reader, svc.cache, svc.features, generator=svc.refresh_generator, top=top
        )
        nav = 0
        if svc.nav_store is not None:
            nav = await precompute_navigation(
                svc.reader,
                svc.nav_store,
                top=top,
                cap=svc.settings.max_candidates,
                facet_products=svc.settings.facet_products,
            )
        return RefreshResult(
            navigation=nav,
            queries=r.queries,
            pairs=r.pairs,
            from_graph=r.from_graph,
            generated=r.generated,
            queued=r.queued,
        )


def build_schema(settings: ApiSettings, *, metrics: Any = None) -> strawberry.Schema:
    """The schema with its limits: depth, aliases, tokens, cost; parser and validation caches.

    Extensions are given as factories, so each request gets its own instances (the parser
    and validation caches are shared at module level by Strawberry).
    """
    # rule classes are made once: the validation cache is keyed by them, and
    # QueryDepthLimiter/MaxAliasesLimiter make a new class per instance
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        cost_rule(settings.max_cost, settings.default_page_size, settings.max_page_size),
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=[
            lambda: ErrorCodes(metrics=metrics),
            lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
            lambda: ParserCache(maxsize=512),
            lambda: AddValidationRules(rules),
            lambda: ValidationCache(maxsize=512),
        ],
    )
