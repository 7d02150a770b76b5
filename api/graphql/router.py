"""The GraphQL endpoint: the schema behind Strawberry's FastAPI router, with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from strawberry.fastapi import GraphQLRouter

from cosmo.api.graphql.context import Context
from cosmo.api.graphql.schema import build_schema
from cosmo.api.services.build import Services

__all__ = ["graphql_router"]


class _Router(GraphQLRouter[Any, Any]):
    """Strawberry's FastAPI router with orjson (de)serialisation."""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


def graphql_router(services: Services, *, metrics: Any = None) -> GraphQLRouter[Any, Any]:
    """The ``/graphql`` router: one :class:`Context` per request over the app's services."""

    async def get_context() -> Context:
        return Context(services)

    return _Router(
        build_schema(services.settings, metrics=metrics),
        context_getter=get_context,
        graphql_ide="graphiql" if services.settings.graphiql else None,
    )
