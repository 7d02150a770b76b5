"""Build the served app from settings (what ``cosmo serve`` and the demo run)."""

from __future__ import annotations

from fastapi import FastAPI

from cosmo.api.http.app import create_app
from cosmo.api.settings import ApiSettings
from cosmo.core.errors import ConfigError, ModelError
from cosmo.core.settings import Settings
from cosmo.generation.backends import make_generator
from cosmo.generation.base import TextGenerator
from cosmo.generation.hf import TransformersGenerator
from cosmo.generation.settings import GenerationSettings
from cosmo.refine.annotation.settings import AnnotationSettings
from cosmo.refine.annotation.store import AnnotationStore
from cosmo.refine.instruct.serve import adapter_generator

__all__ = [
    "annotation_store",
    "app_from_env",
    "build_app",
    "explaining_app_from_env",
    "open_generator",
]


def annotation_store(core: Settings) -> AnnotationStore:
    """The annotation store at its configured path."""
    return AnnotationStore(AnnotationSettings().db_path(core))


def open_generator(
    api: ApiSettings, core: Settings, gen: GenerationSettings | None = None
) -> TextGenerator:
    """The explainer's text generator (loads or connects to nothing until the first batch).

    ``COSMO_GEN_BACKEND`` chooses it: ``openai`` (a vLLM or other OpenAI-compatible server at
    ``COSMO_GEN_BASE_URL``, serving ``COSMO_GEN_MODEL``, as production's compose file wires it)
    or ``vllm`` go through :func:`~cosmo.generation.backends.make_generator`; the default
    ``hf`` runs ``COSMO_API_GENERATOR_MODEL`` in the API's own process, or, when
    ``COSMO_GEN_ADAPTER`` names a tuned COSMO-LM adapter folder, that adapter on its base model.
    """
    gen = gen or GenerationSettings()
    if gen.adapter is not None:
        if gen.backend != "hf":
            raise ConfigError(
                "COSMO_GEN_ADAPTER runs the adapter in-process (COSMO_GEN_BACKEND=hf); for "
                f"{gen.backend}, serve it as a LoRA module and set COSMO_GEN_MODEL instead"
            )
        try:
            return adapter_generator(gen.adapter, core.cache_dir, device=gen.device)
        except ModelError as e:
            raise ConfigError(f"COSMO_GEN_ADAPTER={gen.adapter}: {e}") from e
    if gen.backend != "hf":
        return make_generator(gen, core.cache_dir)
    return TransformersGenerator(api.generator_model, cache_dir=core.cache_dir)


def build_app(
    api: ApiSettings, core: Settings, *, generator: TextGenerator | None = None
) -> FastAPI:
    """The full app: graph, Redis cache and feature store, annotation page, worker."""
    return create_app(api, core=core, generator=generator, annotation_store=annotation_store(core))


def app_from_env() -> FastAPI:
    """The full app from the environment: the factory each worker process of
    ``cosmo serve --workers N`` calls (uvicorn's factory mode)."""
    core = Settings()
    return build_app(ApiSettings(), core)


def explaining_app_from_env() -> FastAPI:
    """:func:`app_from_env` with the explanation worker (``cosmo serve --explain --workers N``)."""
    core, api = Settings(), ApiSettings()
    return build_app(api, core, generator=open_generator(api, core))
