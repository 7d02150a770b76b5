"""Build the served app from settings (what ``cosmo serve`` and the demo run)."""

from __future__ import annotations

import importlib
from typing import Any

from cosmo.api.settings import ApiSettings
from cosmo.core.settings import Settings

__all__ = ["annotation_store", "build_app", "open_generator"]


def annotation_store(core: Settings) -> Any:
    """The annotation store at its configured path, or None when that package is absent."""
    try:
        store_mod = importlib.import_module("cosmo.refine.annotation.store")
        settings_mod = importlib.import_module("cosmo.refine.annotation.settings")
    except ModuleNotFoundError:
        return None
    return store_mod.AnnotationStore(settings_mod.AnnotationSettings().db_path(core))


def open_generator(api: ApiSettings, core: Settings) -> Any:
    """The explainer's text generator (loads nothing until the first batch)."""
    from cosmo.generation.hf import TransformersGenerator

    return TransformersGenerator(api.generator_model, cache_dir=core.cache_dir)


def build_app(api: ApiSettings, core: Settings, *, generator: Any = None) -> Any:
    """The full app: graph, Redis cache and feature store, annotation page, worker."""
    from cosmo.api.app import create_app

    return create_app(api, core=core, generator=generator, annotation_store=annotation_store(core))
