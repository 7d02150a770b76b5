"""Settings of COSMO-LM tuning (environment prefix ``COSMO_INSTRUCT_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["InstructSettings"]


class InstructSettings(BaseSettings):
    """Defaults for ``cosmo instruct tune``; command-line options override them."""

    model_config = SettingsConfigDict(env_prefix="COSMO_INSTRUCT_", env_file=".env", extra="ignore")

    base_model: str = Field(default="gemma3-270m", description="alias, local folder or HF name")
    r: int = Field(default=8, ge=1)
    alpha: int = Field(default=16, ge=1)
    lr: float = Field(default=2e-4, gt=0)
    max_steps: int = Field(default=2, ge=1)
    batch_size: int = Field(default=2, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    max_length: int = Field(default=256, ge=16)
    device: str | None = None
