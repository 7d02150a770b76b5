"""The API's services, built once per app: what the resolvers and the HTTP routes use.

:func:`build_services` is the composition root of the service layer: it opens the graph
store and Redis (lazily: nothing connects here) unless they are given, and wires the
graph reader, the explanation cache and feature store, the explainer, the recommender,
the graph version and the navigation caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cosmo.api.services.cache import CacheStore, FeatureStore
from cosmo.api.services.explain import ExplainService
from cosmo.api.services.graph import GraphReader
from cosmo.api.services.nav_store import NavigationStore
from cosmo.api.services.navigation import GraphRecommender, Recommender, TTLCache
from cosmo.api.services.version import GraphVersion
from cosmo.api.settings import ApiSettings
from cosmo.core.settings import Settings
from cosmo.generation.base import TextGenerator
from cosmo.kg.factory import open_async_store
from cosmo.kg.store import AsyncGraphStore

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    """What the resolvers and routes use; built once by :func:`build_services`."""

    settings: ApiSettings
    reader: GraphReader
    recommender: Recommender
    cache: CacheStore
    features: FeatureStore
    explainer: ExplainService
    version: GraphVersion
    nav_store: NavigationStore
    nav_cache: TTLCache
    redis: Any
    refresh_generator: TextGenerator | None = None

    @property
    def store(self) -> AsyncGraphStore:
        return self.reader.store


def build_services(
    settings: ApiSettings,
    *,
    core: Settings | None = None,
    store: AsyncGraphStore | None = None,
    redis: Any = None,
    generator: TextGenerator | None = None,
    recommender: Recommender | None = None,
) -> Services:
    """The services of one app (see :func:`cosmo.api.http.app.create_app` for the arguments)."""
    if store is None or redis is None:
        core = core or Settings()
    if store is None:
        assert core is not None
        store = open_async_store(core)
    if redis is None:
        import redis.asyncio as aioredis

        assert core is not None
        redis = aioredis.Redis.from_url(core.cache_url, decode_responses=True, socket_timeout=5)
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
    return Services(
        settings=settings,
        reader=reader,
        recommender=recommender or GraphRecommender(reader),
        cache=cache,
        features=features,
        explainer=ExplainService(reader, cache, features),
        version=version,
        nav_store=NavigationStore(
            redis, version, prefix=settings.key_prefix, ttl_s=settings.preload_ttl_s
        ),
        nav_cache=TTLCache(settings.nav_cache_ttl_s, settings.nav_cache_size),
        redis=redis,
        refresh_generator=generator,
    )
