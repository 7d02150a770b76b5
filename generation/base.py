"""The ``TextGenerator`` interface every generation backend implements.

Backends: transformers on CPU (:mod:`cosmo.generation.hf`), vLLM in-process and an
OpenAI-compatible HTTP server. Stages take a generator as an argument; none builds its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Generation", "GenerationParams", "TextGenerator"]


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters (the same meaning on every backend)."""

    max_new_tokens: int = 64
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.3
    seed: int = 0
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    """One completion of one prompt."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


@runtime_checkable
class TextGenerator(Protocol):
    """Completes prompts. Implementations load their model lazily, on first use."""

    model_name: str

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """Return one :class:`Generation` per prompt, in order."""
        ...
