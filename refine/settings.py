"""Settings of the refinement stage (environment prefix ``COSMO_REFINE_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RefineSettings"]


class RefineSettings(BaseSettings):
    """Thresholds and models of the refinement filters.

    Every threshold can be set from the environment, e.g.
    ``COSMO_REFINE_MAX_PERPLEXITY=500`` or ``COSMO_REFINE_KEEP_PLAUSIBILITY=0.6``.
    """

    model_config = SettingsConfigDict(env_prefix="COSMO_REFINE_", env_file=".env", extra="ignore")

    # perplexity
    perplexity_model: str = Field(
        default="gemma3-270m", description="Causal LM for perplexity (alias or HF name)."
    )
    perplexity_batch_size: int = Field(default=32, ge=1, le=4096)
    perplexity_max_tokens: int = Field(default=64, ge=8, le=2048)
    max_perplexity: float = Field(
        default=1000.0, gt=1.0, description="Drop sentences less fluent than this."
    )
    device: str = "cpu"

    # validity (runs first)
    validity_max_words: int = Field(
        default=10, ge=1, description="Tails longer than this many words are no phrase."
    )

    # overlap with the input
    max_overlap_ratio: float = Field(
        default=90.0, ge=0, le=100, description="rapidfuzz ratio of tail vs query/title/type."
    )
    max_containment: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="Share of the tail's words found in the input text; above: a copy.",
    )
    min_tail_words: int = Field(default=1, ge=1)
    max_tail_words: int = Field(default=30, ge=1)

    # genericness
    generic_min_heads: int = Field(
        default=5, ge=2, description="A tail is generic only if it explains this many heads..."
    )
    generic_max_share: float = Field(
        default=0.05, gt=0, le=1, description="...and more than this share of all heads..."
    )
    generic_min_entropy: float = Field(
        default=0.75,
        ge=0,
        le=1,
        description="...and its heads spread over product types with this normalised entropy.",
    )

    # similarity and intention resolution
    max_input_cosine: float = Field(
        default=0.9, ge=-1, le=1, description="Drop tails this close to the query/title."
    )
    cluster_cosine: float = Field(
        default=0.85, ge=0, le=1, description="Tails at least this similar are one intention."
    )
    embed_batch_size: int = Field(default=64, ge=1)

    # classifier
    keep_plausibility: float = Field(default=0.5, ge=0, le=1)
    seed: int = 0
