"""Settings of the annotation workflow (environment prefix ``COSMO_ANNOTATE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cosmo.core.settings import Settings

__all__ = ["AnnotationSettings"]


class AnnotationSettings(BaseSettings):
    """Where the annotation store lives and where ``cosmo annotate serve`` listens."""

    model_config = SettingsConfigDict(env_prefix="COSMO_ANNOTATE_", env_file=".env", extra="ignore")

    db: Path | None = Field(
        default=None,
        description="SQLite file of the store (default: <state_dir>/annotation/annotations.sqlite).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8770, ge=1, le=65535)

    def db_path(self, settings: Settings) -> Path:
        return (self.db or settings.state_dir / "annotation" / "annotations.sqlite").expanduser()
