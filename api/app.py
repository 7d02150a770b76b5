"""The FastAPI application factory: GraphQL at ``/graphql``, the navigation page, ops endpoints.

::

    from cosmo.api import ApiSettings, create_app
    app = create_app(ApiSettings(), core=Settings())   # then: uvicorn.run(app)

Nothing connects here: the graph store and Redis clients connect on first use, and the
explanation worker starts with the app (lifespan) when a generator is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from strawberry.fastapi import GraphQLRouter

from cosmo.api.cache import CacheStore, FeatureStore
from cosmo.api.context import Context, Services
from cosmo.api.explain import ExplainService, ExplainWorker
from cosmo.api.graph import GraphReader
from cosmo.api.limits import LimitsMiddleware
from cosmo.api.metrics import Metrics, MetricsMiddleware
from cosmo.api.nav_store import NavigationStore
from cosmo.api.navigation import GraphRecommender, Recommender, TTLCache
from cosmo.api.response_cache import GraphVersion, ResponseCache, ResponseCacheMiddleware
from cosmo.api.schema import build_schema
from cosmo.api.settings import ApiSettings
from cosmo.core.settings import Settings
from cosmo.generation.base import TextGenerator
from cosmo.kg.store import AsyncGraphStore

__all__ = ["create_app"]

log = logging.getLogger("cosmo.api")
STATIC = Path(__file__).resolve().parent


def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _annotation_router(store: Any) -> Any:
    """The annotation page's router, when that package is installed and a store is given."""
    if store is None:
        return None
    try:
        mod = importlib.import_module("cosmo.refine.annotation.web")
    except ModuleNotFoundError:
        return None
    return mod.create_router(store)


class _Router(GraphQLRouter[Any, Any]):
    """Strawberry's FastAPI router with orjson (de)serialisation."""

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)


def create_app(
    settings: ApiSettings,
    *,
    core: Settings | None = None,
    store: AsyncGraphStore | None = None,
    redis: Any = None,
    generator: TextGenerator | None = None,
    recommender: Recommender | None = None,
    annotation_store: Any = None,
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
        annotation_store: a ``cosmo.refine.annotation.store.AnnotationStore``; its page is
            mounted at ``/annotate`` when ``cosmo.refine.annotation.web`` is installed.
    """
    if store is None or redis is None:
        core = core or Settings()
    if store is None:
        from cosmo.kg.factory import open_async_store

        store = open_async_store(core)  # type: ignore[arg-type]
    if redis is None:
        import redis.asyncio as aioredis

        redis = aioredis.Redis.from_url(core.cache_url, decode_responses=True, socket_timeout=5)  # type: ignore[union-attr]
    metrics = Metrics()
    reader = GraphReader(store, timeout_ms=settings.db_timeout_ms)
    cache = CacheStore(
        redis,
        prefix=settings.key_prefix,
        ttl_s=settings.cache_ttl_s,
        preload_ttl_s=settings.preload_ttl_s,
    )
    features = FeatureStore(redis, prefix=settings.key_prefix)
    version = GraphVersion(
        reader, redis, prefix=settings.key_prefix, check_s=settings.response_cache_check_s
    )
    services = Services(
        settings=settings,
        reader=reader,
        recommender=recommender or GraphRecommender(reader),
        cache=cache,
        features=features,
        explainer=ExplainService(reader, cache, features),
        redis=redis,
        refresh_generator=generator,
        nav_cache=TTLCache(settings.nav_cache_ttl_s, settings.nav_cache_size),
        nav_store=NavigationStore(
            redis, version, prefix=settings.key_prefix, ttl_s=settings.preload_ttl_s
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        if generator is not None and settings.worker:
            worker = ExplainWorker(cache, features, generator, batch=settings.worker_batch)
            task = asyncio.create_task(worker.run_forever(stop, settings.worker_idle_s))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 30)
            with contextlib.suppress(Exception):
                await store.close()
            with contextlib.suppress(Exception):
                await redis.aclose()

    app = FastAPI(title="cosmo", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.services = services
    app.state.metrics = metrics
    schema = build_schema(settings, metrics=metrics)

    async def get_context() -> Context:
        return Context(services)

    graphql = _Router(
        schema, context_getter=get_context, graphql_ide="graphiql" if settings.graphiql else None
    )
    app.include_router(graphql, prefix="/graphql")

    page = _static("navigate.html")
    script = _static("navigate.js")
    style = _static("navigate.css")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/navigate")

    @app.get("/navigate", response_class=HTMLResponse)
    async def navigate_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/static/navigate.js", include_in_schema=False)
    async def navigate_js() -> Response:
        return Response(script, media_type="text/javascript")

    @app.get("/static/navigate.css", include_in_schema=False)
    async def navigate_css() -> Response:
        return Response(style, media_type="text/css")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        h = await store.health()
        metrics.db_up.set(1 if h.ok else 0)
        try:
            redis_ok = bool(await asyncio.wait_for(redis.ping(), 2))
            queue = await cache.queue_length()
            metrics.queue.set(queue)
        except Exception as e:
            redis_ok, queue = False, -1
            log.warning("redis not ready: %s", e)
        ok = h.ok and redis_ok
        body = {
            "ready": ok,
            "graph": {"ok": h.ok, "detail": h.detail, "latency_ms": round(h.latency_ms, 2)},
            "cache": {"ok": redis_ok, "queue": queue},
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    router = _annotation_router(annotation_store)
    if router is not None:
        app.include_router(router, prefix="/annotate")
    app.state.has_annotation = router is not None

    if settings.response_cache_size > 0:
        app.state.response_cache = ResponseCache(
            version,
            size=settings.response_cache_size,
            max_tokens=settings.max_tokens,
            metrics=metrics,
        )
        app.add_middleware(ResponseCacheMiddleware, cache=app.state.response_cache)
    else:
        app.state.response_cache = None
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
    return app
