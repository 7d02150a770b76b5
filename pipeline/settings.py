"""Pipeline settings (environment prefix ``COSMO_PIPELINE_``), e.g. ``COSMO_PIPELINE_ENGINE=ray``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["PipelineSettings"]


class PipelineSettings(BaseSettings):
    """Which engine runs the job, on which cluster, in blocks of how many pairs."""

    model_config = SettingsConfigDict(env_prefix="COSMO_PIPELINE_", env_file=".env", extra="ignore")

    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = Field(
        default=None,
        description="a running cluster (host:6379, ray://host:10001 or auto); none: a local one",
    )
    workers: int = Field(default=2, ge=1, description="generation actors")
    block_size: int = Field(default=4, ge=1, description="pairs per generation block")
    refine_batch_size: int = Field(
        default=256, ge=1, description="candidates per refinement batch on a Ray actor"
    )
    max_retries: int = Field(default=2, ge=0, description="restarts of a dead generation actor")
    connect_timeout: float = Field(default=3.0, gt=0, description="seconds to reach the address")
    ray_temp_dir: str | None = Field(default=None, description="the local cluster's temp folder")
    object_store_mb: int = Field(default=200, ge=75, description="the local cluster's store")
