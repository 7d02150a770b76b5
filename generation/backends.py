"""Build a :class:`~cosmo.generation.base.TextGenerator` by backend name (no model is loaded here).

* ``hf``: :class:`cosmo.generation.hf.TransformersGenerator` (CPU by default);
* ``vllm``: ``cosmo.generation.vllm_offline.VLLMGenerator`` (needs vLLM installed);
* ``openai``: ``cosmo.generation.openai_server.OpenAIGenerator`` (an OpenAI-compatible
  server such as ``vllm serve`` or llama.cpp's server).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from cosmo.core.errors import ConfigError
from cosmo.generation.base import TextGenerator
from cosmo.generation.settings import GenerationSettings

__all__ = ["BACKENDS", "make_generator"]

BACKENDS = ("hf", "vllm", "openai")


def _load(module: str, name: str, backend: str) -> type:
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError) as e:
        raise ConfigError(
            f"the {backend!r} backend is not available here ({module}.{name}: {e})"
        ) from e


def make_generator(settings: GenerationSettings, cache_dir: Path | None = None) -> TextGenerator:
    """The generator ``settings.backend`` names, configured from ``settings``."""
    if settings.backend == "hf":
        from cosmo.generation.hf import TransformersGenerator

        return TransformersGenerator(
            settings.model,
            cache_dir=cache_dir,
            device=settings.device,
            batch_size=settings.batch_size,
        )
    if settings.backend == "vllm":
        cls = _load("cosmo.generation.vllm_offline", "VLLMGenerator", "vllm")
        return cls(settings.model, cache_dir=cache_dir)  # type: ignore[no-any-return]
    if settings.backend == "openai":
        cls = _load("cosmo.generation.openai_server", "OpenAIGenerator", "openai")
        return cls(  # type: ignore[no-any-return]
            settings.base_url,
            settings.model,
            api_key=settings.api_key,
            concurrency=settings.concurrency,
        )
    raise ConfigError(f"unknown backend {settings.backend!r}; use one of {', '.join(BACKENDS)}")
