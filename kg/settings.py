"""Settings of the knowledge-graph loader (environment prefix ``COSMO_INTENTION_MATCH_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_THRESHOLD", "IntentionMatchSettings"]

DEFAULT_THRESHOLD = 0.90
"""Chosen on the labelled pairs in ``kg/sample/intention_pairs.csv`` (see kg/README.md)."""


class IntentionMatchSettings(BaseSettings):
    """Matching new tails to the Intentions of earlier loads (:mod:`cosmo.kg.intentions`):
    ``COSMO_INTENTION_MATCH_ENABLED`` and ``COSMO_INTENTION_MATCH_THRESHOLD``."""

    model_config = SettingsConfigDict(
        env_prefix="COSMO_INTENTION_MATCH_", env_file=".env", extra="ignore"
    )

    enabled: bool = Field(default=True, description="Match new tails to earlier intentions.")
    threshold: float = Field(
        default=DEFAULT_THRESHOLD, ge=0.0, le=1.0, description="Cosine at which a tail joins."
    )
