"""The FastAPI application: GraphQL at ``/graphql``, the navigation page, ops endpoints.

::

    from cosmo.api import ApiSettings, create_app
    app = create_app(ApiSettings(), core=Settings())   # then: uvicorn.run(app)

:func:`create_app` composes the app: the services (:func:`cosmo.api.services.build.build_services`),
the routers (GraphQL, the pages, the operations endpoints, the annotation page when a store
is given) and the middleware. Nothing connects here: the graph store and Redis clients
connect on first use, and the explanation worker starts with the app (lifespan) when a
generator is given.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from cosmo.api.graphql.router import graphql_router
from cosmo.api.http.limits import LimitsMiddleware
from cosmo.api.http.metrics import Metrics, MetricsMiddleware
from cosmo.api.http.response_cache import ResponseCache, ResponseCacheMiddleware
from cosmo.api.http.routes import ops_router, pages_router
from cosmo.api.services.build import Services, build_services
from cosmo.api.services.explain import ExplainWorker
from cosmo.api.services.navigation import Recommender
from cosmo.api.settings import ApiSettings
from cosmo.core.settings import Settings
from cosmo.generation.base import TextGenerator
from cosmo.kg.store import AsyncGraphStore
from cosmo.refine.annotation.store import AnnotationStore
from cosmo.refine.annotation.web import create_router as annotation_router

__all__ = ["create_app"]


def _lifespan(
    services: Services, generator: TextGenerator | None
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """Start the explanation worker with the app (when there is a generator); close clients."""
    settings = services.settings

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if generator is not None and settings.worker:
            worker = ExplainWorker(
                services.cache, services.features, generator, batch=settings.worker_batch
            )
            task = asyncio.create_task(worker.run_forever(stop, settings.worker_idle_s))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 30)
            with contextlib.suppress(Exception):
                await services.store.close()
            with contextlib.suppress(Exception):
                await services.redis.aclose()

    return lifespan


def _add_middleware(app: FastAPI, services: Services, metrics: Metrics) -> None:
    """Response cache innermost, then CORS, limits and metrics (the outermost)."""
    settings = services.settings
    app.state.response_cache = None
    if settings.response_cache_size > 0:
        app.state.response_cache = ResponseCache(
            services.version,
            size=settings.response_cache_size,
            max_tokens=settings.max_tokens,
            metrics=metrics,
        )
        app.add_middleware(ResponseCacheMiddleware, cache=app.state.response_cache)
    # outside the response cache, so cached answers get the caller's CORS headers
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "x-api-key"],
        )
    app.add_middleware(
        LimitsMiddleware, max_body=settings.max_body_bytes, timeout_s=settings.request_timeout_s
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)


def create_app(
    settings: ApiSettings,
    *,
    core: Settings | None = None,
    store: AsyncGraphStore | None = None,
    redis: Any = None,
    generator: TextGenerator | None = None,
    recommender: Recommender | None = None,
    annotation_store: AnnotationStore | None = None,
) -> FastAPI:
    """Build the API.

    Args:
        settings: the API's own settings (``COSMO_API_*``).
        core: shared settings (graph database, Redis URL); read from the environment if
            neither they nor ``store``/``redis`` are given.
        store: the async graph store to read (default: ``open_async_store(core)``).
        redis: a ``redis.asyncio`` client for the cache and feature store (default: one
            on ``core.cache_url``, the embedded server).
        generator: the text generator the explanation worker uses; without one, misses
            stay queued for a separate worker (``cosmo api worker``).
        recommender: plug in a trained recommender (default: co-buys + shared intentions).
        annotation_store: the annotation store whose page is mounted at ``/annotate``.
    """
    services = build_services(
        settings, core=core, store=store, redis=redis, generator=generator, recommender=recommender
    )
    metrics = Metrics()
    app = FastAPI(
        title="cosmo",
        version="0.1.0",
        lifespan=_lifespan(services, generator),
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.metrics = metrics
    app.include_router(graphql_router(services, metrics=metrics), prefix="/graphql")
    app.include_router(pages_router())
    app.include_router(ops_router(services, metrics))
    if annotation_store is not None:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        app.include_router(annotation_router(annotation_store, key), prefix="/annotate")
    app.state.has_annotation = annotation_store is not None
    _add_middleware(app, services, metrics)
    return app
