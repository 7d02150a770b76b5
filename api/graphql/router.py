"""The GraphQL endpoint: the schema behind Strawberry's FastAPI router, with orjson.

Query documents the normal executor has answered once without errors are answered from then
on through their prepared plan (:mod:`cosmo.api.graphql.plan`); a request the plan cannot
answer goes through the normal executor with a fresh context.
"""

from __future__ import annotations

from typing import Any

import orjson
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from cosmo.api.graphql.context import Context
from cosmo.api.graphql.plan import PlanCache
from cosmo.api.graphql.schema import build_schema
from cosmo.api.services.build import Services

__all__ = ["graphql_router"]


class _Router(GraphQLRouter[Any, Any]):
    """Strawberry's FastAPI router with orjson (de)serialisation and prepared plans."""

    plans: PlanCache
    metrics: Any = None

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def execute_single(self, *args: Any, **kw: Any) -> Any:
        data = kw["request_data"]
        method = kw["request_adapter"].method
        doc, op = data.query, data.operation_name
        if not isinstance(doc, str) or data.extensions or method not in ("GET", "POST"):
            return await super().execute_single(*args, **kw)
        allowed = OperationType.QUERY in OperationType.from_http(method) and (
            self.allow_queries_via_get or method == "POST"
        )
        plan = self.plans.get(doc, op) if allowed else None
        if plan is not None:
            answer = await plan.run(kw["context"], data.variables)
            if self.metrics is not None:
                self.metrics.prepared_plans.labels(
                    "fallback" if answer is None else "answered"
                ).inc()
            if answer is not None:
                return ExecutionResult(data=answer, errors=None)
            kw["context"] = Context(kw["context"].services)  # fresh loaders for the executor
        result = await super().execute_single(*args, **kw)
        if allowed and not result.errors and result.data and not self.plans.known(doc, op):
            self.plans.learn(doc, op)
        return result


def graphql_router(services: Services, *, metrics: Any = None) -> GraphQLRouter[Any, Any]:
    """The ``/graphql`` router: one :class:`Context` per request over the app's services."""

    async def get_context() -> Context:
        return Context(services)

    schema = build_schema(services.settings, metrics=metrics)
    router = _Router(
        schema,
        context_getter=get_context,
        graphql_ide="graphiql" if services.settings.graphiql else None,
    )
    router.plans = PlanCache(schema, services.settings.prepared_plans)
    router.metrics = metrics
    return router
