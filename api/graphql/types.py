"""GraphQL object types: Product, SearchQuery, Intention, KnowledgeEdge and their links.

Every list is a Relay-style connection (``edges { cursor node }``, ``pageInfo``,
``totalCount``) read through the request's DataLoaders, so nesting never adds round trips
per parent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.scalars import JSON

from cosmo.api.graphql.context import Context
from cosmo.api.graphql.limits import ApiError, check_text, encode_cursor, page_args
from cosmo.api.services.graph import EdgePage, NodePage, Page, relations_of
from cosmo.core.errors import SchemaError

__all__ = [
    "Connection",
    "Edge",
    "Features",
    "Intention",
    "KnowledgeEdge",
    "PageInfo",
    "Product",
    "SearchQuery",
    "connection",
    "paging",
]

T = TypeVar("T")
Info = strawberry.Info[Context, None]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int


def connection(page: Page, convert: Callable[[Any], Any]) -> Any:
    """A :class:`Connection` over one :class:`Page` of rows."""
    edges = [
        Edge(cursor=encode_cursor(page.skip + n), node=convert(r)) for n, r in enumerate(page.items)
    ]
    info = PageInfo(
        has_next_page=page.skip + len(page.items) < page.total,
        has_previous_page=page.skip > 0,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, total_count=page.total)


def text_arg(info: Info, value: str, field: str) -> str:
    """A text argument, checked against the length limit (``max_text``)."""
    return check_text(value, field, info.context.settings.max_text)


def paging(info: Info, first: int | None, after: str | None) -> tuple[int, int]:
    s = info.context.settings
    return page_args(first, after, s.default_page_size, s.max_page_size)


@strawberry.type
class Features:
    """What the feature store holds for a query or a product."""

    intents: list[DetectedIntent]
    explained: int
    updated_at: float


@strawberry.type
class DetectedIntent:
    relation: str
    tail: str


def features_of(raw: dict[str, Any]) -> Features | None:
    if not raw:
        return None
    intents = [
        DetectedIntent(relation=i.get("relation", ""), tail=i.get("tail", ""))
        for i in raw["intents"]
    ]
    return Features(intents=intents, explained=raw["explained"], updated_at=raw["updated_at"])


@strawberry.type
class Provenance:
    """Where a knowledge edge came from."""

    sources: list[str] = strawberry.field(description="First behaviour-pair keys (sb:/cb:).")
    source_count: int
    model: str | None
    pipeline_run: str | None
    created_run: str | None
    created_at: str | None


@strawberry.type
class KnowledgeEdge:
    """One piece of refined knowledge: a relation to an intention, with scores."""

    relation: str
    plausibility: float | None
    typicality: float | None
    frequency: int | None
    intention: Intention
    provenance: Provenance

    @staticmethod
    def from_row(r: dict[str, Any]) -> KnowledgeEdge:
        created = r.get("created_at")
        return KnowledgeEdge(
            relation=r["relation"],
            plausibility=r.get("plausibility"),
            typicality=r.get("typicality"),
            frequency=r.get("frequency"),
            intention=Intention.from_row(r["intention"]),
            provenance=Provenance(
                sources=list(r.get("sources") or []),
                source_count=int(r.get("n_sources") or 0),
                model=r.get("model"),
                pipeline_run=r.get("pipeline_run"),
                created_run=None if r.get("created_run") is None else str(r["created_run"]),
                created_at=None if created is None else str(created),
            ),
        )


@strawberry.type
class ProductCount:
    product: Product
    count: int | None


@strawberry.type
class ExplainedCoBuy:
    """A co-bought product and the knowledge that explains the pair."""

    product: Product
    count: int | None
    explanations: list[KnowledgeEdge]


@strawberry.type
class SimilarProduct:
    product: Product
    score: float


@strawberry.type
class Product:
    id: strawberry.ID
    title: str | None
    type: str | None
    domain: str | None

    @staticmethod
    def from_row(r: dict[str, Any]) -> Product:
        return Product(
            id=strawberry.ID(r["id"]),
            title=r.get("title"),
            type=r.get("type"),
            domain=r.get("domain"),
        )

    @strawberry.field(description="Knowledge edges of this product, most plausible first.")
    async def intentions(
        self,
        info: Info,
        relation: list[str] | None = None,
        min_plausibility: float = 0.0,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[KnowledgeEdge]:
        skip, limit = paging(info, first, after)
        try:
            rels = relations_of(relation)
        except SchemaError as e:
            raise ApiError(str(e), "BAD_INPUT") from e
        key = EdgePage(str(self.id), rels, float(min_plausibility), skip, limit)
        return connection(
            await info.context.loaders.product_knowledge.load(key), KnowledgeEdge.from_row
        )

    @strawberry.field(description="Products bought together with this one, most often first.")
    async def co_bought(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProductCount]:
        skip, limit = paging(info, first, after)
        page = await info.context.loaders.co_bought.load(NodePage(str(self.id), skip, limit))
        return connection(
            page, lambda r: ProductCount(product=Product.from_row(r["product"]), count=r["count"])
        )

    @strawberry.field(description="Co-bought products with the knowledge explaining each pair.")
    async def explained_co_buys(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ExplainedCoBuy]:
        skip, limit = paging(info, first, after)
        page = await info.context.loaders.explained_co_buys.load(
            NodePage(str(self.id), skip, limit)
        )
        return connection(
            page,
            lambda r: ExplainedCoBuy(
                product=Product.from_row(r["product"]),
                count=r["count"],
                explanations=[KnowledgeEdge.from_row(e) for e in r["edges"]],
            ),
        )

    @strawberry.field(description="Nearest products by embedding (needs the GNN embeddings).")
    async def similar(self, info: Info, k: int = 10) -> list[SimilarProduct]:
        _, limit = page_args(k, None, k, info.context.settings.max_page_size)
        page = await info.context.loaders.similar.load(NodePage(str(self.id), 0, limit))
        return [
            SimilarProduct(product=Product.from_row(r["product"]), score=r["score"])
            for r in page.items
        ]

    @strawberry.field(description="The product's embedding vector, if one was written.")
    async def embedding(self, info: Info) -> list[float] | None:
        return await info.context.loaders.embedding.load(str(self.id))

    @strawberry.field(description="Features the online explainer stored for this product.")
    async def features(self, info: Info) -> Features | None:
        fs = info.context.services.features
        return features_of(await fs.get("product", str(self.id))) if fs else None


@strawberry.type
class IntentionProduct:
    product: Product
    relation: str
    plausibility: float | None


@strawberry.type
class IntentionQuery:
    query: SearchQuery
    relation: str
    plausibility: float | None


@strawberry.type
class RelatedIntention:
    intention: Intention
    shared_products: int


@strawberry.type
class Intention:
    id: strawberry.ID
    text: str
    tail_type: str | None
    aliases: list[str]

    @staticmethod
    def from_row(r: dict[str, Any]) -> Intention:
        aliases = r.get("aliases") or []
        return Intention(
            id=strawberry.ID(r["id"]),
            text=r.get("text") or "",
            tail_type=r.get("tail_type"),
            aliases=list(aliases) if isinstance(aliases, list) else [str(aliases)],
        )

    @strawberry.field
    async def products(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[IntentionProduct]:
        skip, limit = paging(info, first, after)
        page = await info.context.loaders.intention_products.load(
            NodePage(str(self.id), skip, limit)
        )
        return connection(
            page,
            lambda r: IntentionProduct(
                product=Product.from_row(r["product"]),
                relation=r["relation"],
                plausibility=r["plausibility"],
            ),
        )

    @strawberry.field
    async def queries(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[IntentionQuery]:
        skip, limit = paging(info, first, after)
        page = await info.context.loaders.intention_queries.load(
            NodePage(str(self.id), skip, limit)
        )
        return connection(
            page,
            lambda r: IntentionQuery(
                query=SearchQuery(text=r["text"] or r["key"], key=r["key"], known=True),
                relation=r["relation"],
                plausibility=r["plausibility"],
            ),
        )

    @strawberry.field(description="Intentions sharing products with this one.")
    async def related(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[RelatedIntention]:
        skip, limit = paging(info, first, after)
        page = await info.context.loaders.related.load(NodePage(str(self.id), skip, limit))
        return connection(
            page,
            lambda r: RelatedIntention(
                intention=Intention.from_row(r["intention"]), shared_products=r["shared"]
            ),
        )


@strawberry.type
class SearchQuery:
    text: str
    key: str
    known: bool | None = strawberry.field(
        default=None, description="Whether the graph has this query."
    )

    @strawberry.field
    async def intentions(
        self,
        info: Info,
        relation: list[str] | None = None,
        min_plausibility: float = 0.0,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[KnowledgeEdge]:
        skip, limit = paging(info, first, after)
        try:
            rels = relations_of(relation)
        except SchemaError as e:
            raise ApiError(str(e), "BAD_INPUT") from e
        key = EdgePage(self.key, rels, float(min_plausibility), skip, limit)
        return connection(
            await info.context.loaders.query_knowledge.load(key), KnowledgeEdge.from_row
        )

    @strawberry.field(description="Products bought after this search, most often first.")
    async def products(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ProductCount]:
        skip, limit = paging(info, first, after)
        page = await info.context.loaders.query_products.load(NodePage(self.key, skip, limit))
        return connection(
            page, lambda r: ProductCount(product=Product.from_row(r["product"]), count=r["count"])
        )

    @strawberry.field(description="Features the online explainer stored for this query.")
    async def features(self, info: Info) -> Features | None:
        fs = info.context.services.features
        return features_of(await fs.get("query", self.key)) if fs else None

    @strawberry.field(description="Raw feature hash (for apps that want every field).")
    async def raw_features(self, info: Info) -> JSON | None:
        fs = info.context.services.features
        return (await fs.get("query", self.key)) or None if fs else None
