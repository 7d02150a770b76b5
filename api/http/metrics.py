"""Prometheus metrics of one app (its own registry, never the global one)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["Metrics", "MetricsMiddleware"]


class Metrics:
    """The app's counters, histograms and gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "cosmo_api_requests", "HTTP requests", ["path", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "cosmo_api_request_seconds",
            "HTTP request latency",
            ["path"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.graphql_errors = Counter(
            "cosmo_api_graphql_errors", "GraphQL errors by code", ["code"], registry=self.registry
        )
        self.queue = Gauge(
            "cosmo_api_explain_queue", "Queued explanation misses", registry=self.registry
        )
        self.response_cache = Counter(
            "cosmo_api_response_cache",
            "GraphQL response cache lookups (hit, miss, bypass = not cacheable)",
            ["result"],
            registry=self.registry,
        )
        self.response_cache_entries = Gauge(
            "cosmo_api_response_cache_entries",
            "Answers in the response cache",
            registry=self.registry,
        )
        self.db_up = Gauge(
            "cosmo_api_db_up", "1 when the graph database answers", registry=self.registry
        )
        self.prepared_plans = Counter(
            "cosmo_api_prepared_plans",
            "GraphQL requests of prepared documents (answered by the plan, or fallback to the "
            "normal executor)",
            ["result"],
            registry=self.registry,
        )


_PATHS = {"/graphql", "/navigate", "/healthz", "/readyz", "/metrics"}


class MetricsMiddleware:
    """Pure ASGI middleware: count and time every HTTP request by route."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in _PATHS else "other"
        status = 500
        t = time.perf_counter()

        async def send_wrapper(msg: Any) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.latency.labels(path).observe(time.perf_counter() - t)
            self.metrics.requests.labels(path, str(status)).inc()
