"""Build the served app from settings (what ``cosmo serve`` and the demo run)."""

from __future__ import annotations

from fastapi import FastAPI

from cosmo.api.http.app import create_app
from cosmo.api.settings import ApiSettings
from cosmo.core.settings import Settings
from cosmo.generation.base import TextGenerator
from cosmo.generation.hf import TransformersGenerator
from cosmo.refine.annotation.settings import AnnotationSettings
from cosmo.refine.annotation.store import AnnotationStore

__all__ = ["annotation_store", "build_app", "open_generator"]


def annotation_store(core: Settings) -> AnnotationStore:
    """The annotation store at its configured path."""
    return AnnotationStore(AnnotationSettings().db_path(core))


def open_generator(api: ApiSettings, core: Settings) -> TransformersGenerator:
    """The explainer's text generator (loads nothing until the first batch)."""
    return TransformersGenerator(api.generator_model, cache_dir=core.cache_dir)


def build_app(
    api: ApiSettings, core: Settings, *, generator: TextGenerator | None = None
) -> FastAPI:
    """The full app: graph, Redis cache and feature store, annotation page, worker."""
    return create_app(api, core=core, generator=generator, annotation_store=annotation_store(core))
