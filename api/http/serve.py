"""Build the served app from settings (what ``cosmo serve`` and the demo run)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from cosmo.api.http.app import create_app
from cosmo.api.settings import ApiSettings
from cosmo.core.errors import ConfigError, ModelError
from cosmo.core.models import is_packaged_gemma
from cosmo.core.settings import Settings
from cosmo.generation.backends import make_generator
from cosmo.generation.base import TextGenerator
from cosmo.generation.hf import TransformersGenerator
from cosmo.generation.settings import GenerationSettings
from cosmo.refine.annotation.settings import AnnotationSettings
from cosmo.refine.annotation.store import AnnotationStore
from cosmo.refine.instruct.serve import PACKAGED_ADAPTER, adapter_generator, packaged_adapter_dir

__all__ = [
    "annotation_store",
    "app_from_env",
    "build_app",
    "chosen_adapter",
    "explaining_app_from_env",
    "open_generator",
]


def annotation_store(core: Settings) -> AnnotationStore:
    """The annotation store at its configured path."""
    return AnnotationStore(AnnotationSettings().db_path(core))


def chosen_adapter(api: ApiSettings, gen: GenerationSettings) -> Path | None:
    """The COSMO-LM adapter folder ``COSMO_GEN_ADAPTER`` asks for, or None for the base model.

    ``auto`` (the default) is the packaged adapter exactly when the explainer runs the
    packaged Gemma in-process (the model it was tuned on); ``none`` is the base model; an
    explicit adapter needs the in-process backend.
    """
    value = gen.adapter.strip()
    if value.lower() == "none":
        return None
    if value.lower() == "auto":
        if gen.backend != "hf" or not is_packaged_gemma(api.generator_model):
            return None
        return packaged_adapter_dir()
    if gen.backend != "hf":
        raise ConfigError(
            "COSMO_GEN_ADAPTER runs the adapter in-process (COSMO_GEN_BACKEND=hf); for "
            f"{gen.backend}, serve it as a LoRA module and set COSMO_GEN_MODEL instead"
        )
    return packaged_adapter_dir() if value == PACKAGED_ADAPTER else Path(value)


def open_generator(
    api: ApiSettings, core: Settings, gen: GenerationSettings | None = None
) -> TextGenerator:
    """The explainer's text generator (loads or connects to nothing until the first batch).

    ``COSMO_GEN_BACKEND`` chooses it: ``openai`` (a vLLM or other OpenAI-compatible server at
    ``COSMO_GEN_BASE_URL``, serving ``COSMO_GEN_MODEL``, as production's compose file wires it)
    or ``vllm`` go through :func:`~cosmo.generation.backends.make_generator`; the default
    ``hf`` runs ``COSMO_API_GENERATOR_MODEL`` in the API's own process, with the COSMO-LM
    adapter :func:`chosen_adapter` picks (by default the packaged one on the packaged Gemma).
    """
    gen = gen or GenerationSettings()
    try:
        adapter = chosen_adapter(api, gen)
        if adapter is not None:
            return adapter_generator(adapter, core.cache_dir, device=gen.device)
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
