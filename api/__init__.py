"""cosmo.api: the GraphQL API, the search-navigation page and online explanations.

Three subpackages, each importing only the ones before it:

* :mod:`cosmo.api.services`: what answers (graph reads, navigation, explanations, caches,
  the graph version) and :func:`~cosmo.api.services.build.build_services`;
* :mod:`cosmo.api.graphql`: the Strawberry schema, its types, context and limits;
* :mod:`cosmo.api.http`: the FastAPI app, its routes and middleware, the static page.

Public names are imported lazily, so ``import cosmo.api`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosmo.api.http.app import create_app
    from cosmo.api.http.response_cache import ResponseCache
    from cosmo.api.services.cache import CacheStore, Explanation, FeatureStore
    from cosmo.api.services.explain import ExplainService, ExplainWorker, refresh
    from cosmo.api.services.nav_store import NavigationStore, precompute_navigation
    from cosmo.api.services.navigation import GraphRecommender, Recommender
    from cosmo.api.services.version import GraphVersion, bump_graph_version
    from cosmo.api.settings import ApiSettings

__all__ = [
    "ApiSettings",
    "CacheStore",
    "ExplainService",
    "ExplainWorker",
    "Explanation",
    "FeatureStore",
    "GraphRecommender",
    "GraphVersion",
    "NavigationStore",
    "Recommender",
    "ResponseCache",
    "bump_graph_version",
    "create_app",
    "precompute_navigation",
    "refresh",
]

_WHERE = {
    "create_app": "cosmo.api.http.app",
    "ApiSettings": "cosmo.api.settings",
    "CacheStore": "cosmo.api.services.cache",
    "Explanation": "cosmo.api.services.cache",
    "FeatureStore": "cosmo.api.services.cache",
    "ExplainService": "cosmo.api.services.explain",
    "ExplainWorker": "cosmo.api.services.explain",
    "refresh": "cosmo.api.services.explain",
    "GraphRecommender": "cosmo.api.services.navigation",
    "Recommender": "cosmo.api.services.navigation",
    "NavigationStore": "cosmo.api.services.nav_store",
    "precompute_navigation": "cosmo.api.services.nav_store",
    "GraphVersion": "cosmo.api.services.version",
    "ResponseCache": "cosmo.api.http.response_cache",
    "bump_graph_version": "cosmo.api.services.version",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'cosmo.api' has no attribute {name!r}")
