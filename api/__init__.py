"""cosmo.api: the GraphQL API, the search-navigation page and online explanations.

Public names are imported lazily, so ``import cosmo.api`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosmo.api.app import create_app
    from cosmo.api.cache import CacheStore, Explanation, FeatureStore
    from cosmo.api.explain import ExplainService, ExplainWorker, refresh
    from cosmo.api.nav_store import NavigationStore, precompute_navigation
    from cosmo.api.navigation import GraphRecommender, Recommender
    from cosmo.api.response_cache import GraphVersion, ResponseCache, bump_graph_version
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
    "create_app": "cosmo.api.app",
    "ApiSettings": "cosmo.api.settings",
    "CacheStore": "cosmo.api.cache",
    "Explanation": "cosmo.api.cache",
    "FeatureStore": "cosmo.api.cache",
    "ExplainService": "cosmo.api.explain",
    "ExplainWorker": "cosmo.api.explain",
    "refresh": "cosmo.api.explain",
    "GraphRecommender": "cosmo.api.navigation",
    "Recommender": "cosmo.api.navigation",
    "NavigationStore": "cosmo.api.nav_store",
    "precompute_navigation": "cosmo.api.nav_store",
    "GraphVersion": "cosmo.api.response_cache",
    "ResponseCache": "cosmo.api.response_cache",
    "bump_graph_version": "cosmo.api.response_cache",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'cosmo.api' has no attribute {name!r}")
