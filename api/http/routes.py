"""The API's plain HTTP routes: the pages, the analysts' Browser guide, the operations endpoints."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cosmo.api.http.metrics import Metrics
from cosmo.api.services.build import Services
from cosmo.cypher.guide import render_guide

__all__ = ["GUIDE_PATH", "ops_router", "pages_router"]

GUIDE_PATH = "/guides/cypher.html"
# Neo4j Browser fetches a guide from its own origin with two non-simple headers, so the
# answer (public, read-only: the saved queries) carries CORS headers for any origin.
_GUIDE_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "pragma, cache-control",
    "Access-Control-Max-Age": "600",
}

log = logging.getLogger("cosmo.api")
STATIC = Path(__file__).resolve().parent / "static"


def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def pages_router() -> APIRouter:
    """``/`` (to the page), ``/navigate`` and its script and style sheet."""
    router = APIRouter()
    page, script, style = (_static(f"navigate.{ext}") for ext in ("html", "js", "css"))

    @router.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/navigate")

    @router.get("/navigate", response_class=HTMLResponse)
    async def navigate_page() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get("/static/navigate.js", include_in_schema=False)
    async def navigate_js() -> Response:
        return Response(script, media_type="text/javascript")

    @router.get("/static/navigate.css", include_in_schema=False)
    async def navigate_css() -> Response:
        return Response(style, media_type="text/css")

    guide = render_guide()

    @router.get(GUIDE_PATH, response_class=HTMLResponse)
    async def cypher_guide() -> HTMLResponse:
        """The saved queries as a Neo4j Browser guide: ``:play <this URL>``."""
        return HTMLResponse(guide, headers=_GUIDE_CORS)

    @router.options(GUIDE_PATH, include_in_schema=False)
    async def cypher_guide_preflight() -> Response:
        return Response(status_code=204, headers=_GUIDE_CORS)

    return router


def ops_router(services: Services, metrics: Metrics) -> APIRouter:
    """``/healthz`` (the process), ``/readyz`` (graph and cache answer), ``/metrics``."""
    router = APIRouter()

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        h = await services.store.health()
        metrics.db_up.set(1 if h.ok else 0)
        try:
            redis_ok = bool(await asyncio.wait_for(services.redis.ping(), 2))
            queue = await services.cache.queue_length()
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

    @router.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
