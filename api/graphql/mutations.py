"""The guarded mutations: record a human judgement, run the cache refresh now."""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from cosmo.api.graphql.limits import ApiError
from cosmo.api.graphql.types import Info, text_arg
from cosmo.api.services.explain import refresh
from cosmo.api.services.nav_store import precompute_navigation
from cosmo.core.errors import SchemaError
from cosmo.core.keys import key_problem
from cosmo.core.schema import normalise_text, relation_type

__all__ = ["HasApiKey", "Mutation"]


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
        problem = key_problem(expected.get_secret_value(), given)
        if problem is not None:
            self.message = problem
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
        subject = text_arg(info, input.subject, "subject")
        intention = text_arg(info, input.intention, "intention")
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
