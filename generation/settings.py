"""Generation settings (environment prefix ``COSMO_GEN_``), e.g. ``COSMO_GEN_BACKEND=vllm``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cosmo.core.models import GEMMA_DEFAULT
from cosmo.generation.base import GenerationParams
from cosmo.generation.prompts import DEFAULT_TEMPLATE_VERSION

__all__ = ["GenerationSettings"]


class GenerationSettings(BaseSettings):
    """Which backend and model generate, and how they sample."""

    model_config = SettingsConfigDict(env_prefix="COSMO_GEN_", env_file=".env", extra="ignore")

    backend: Literal["hf", "vllm", "openai"] = "hf"
    model: str = Field(
        default=GEMMA_DEFAULT, description="cosmo alias, Hugging Face name or folder"
    )
    device: str = "cpu"
    batch_size: int = Field(default=8, ge=1)
    base_url: str = Field(
        default="http://127.0.0.1:8000/v1", description="OpenAI-compatible server"
    )
    api_key: str | None = None
    concurrency: int = Field(default=8, ge=1)
    template_version: str = DEFAULT_TEMPLATE_VERSION
    shots: int = Field(default=2, ge=0, le=3)
    max_new_tokens: int = Field(default=48, ge=1, le=1024)
    temperature: float = Field(default=0.7, ge=0.0)
    top_p: float = Field(default=0.9, gt=0.0, le=1.0)
    repetition_penalty: float = Field(default=1.3, ge=1.0)
    seed: int = 0
    adapter: str = Field(
        default="auto",
        description="the COSMO-LM LoRA adapter the online explainer runs on its base model"
        " (hf backend): 'auto' (default) the packaged adapter when the explainer runs the"
        " packaged Gemma in-process, else none; 'cosmo-lm' the packaged adapter; 'none' the"
        " base model; or a tuned adapter folder (cosmo instruct tune)",
    )

    @field_validator("adapter", mode="before")
    @classmethod
    def _adapter_path(cls, v: object) -> object:
        return str(v) if isinstance(v, Path) else v

    def params(self) -> GenerationParams:
        return GenerationParams(
            max_new_tokens=self.max_new_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            repetition_penalty=self.repetition_penalty,
            seed=self.seed,
            stop=("\n\n",),
        )
