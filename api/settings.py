"""Settings of the API server, read from ``COSMO_API_*`` environment variables.

Build them in a factory or at the CLI entry point and pass them to
:func:`cosmo.api.http.app.create_app`; nothing here is read at import time.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings"]


class ApiSettings(BaseSettings):
    """How the API serves, what it allows, and how the explanation cache behaves."""

    model_config = SettingsConfigDict(env_prefix="COSMO_API_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_key: SecretStr | None = Field(
        default=None,
        description="Key mutations need in the X-API-Key header; unset = no mutations.",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Allowed browser origins.")
    graphiql: bool = True

    # limits
    max_depth: int = Field(default=12, ge=2, le=50)
    max_aliases: int = Field(default=15, ge=1, le=1000)
    max_tokens: int = Field(default=2000, ge=50, le=100_000)
    max_fields: int = Field(
        default=2000,
        ge=10,
        description="Fields a document may expand to, fragments counted once per spread.",
    )
    max_cost: int = Field(default=5000, ge=10, description="Estimated rows a query may ask for.")
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1, le=10_000)
    max_ids: int = Field(default=100, ge=1, description="Longest id list an argument may hold.")
    max_text: int = Field(default=500, ge=10, description="Longest query text accepted.")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    request_timeout_s: float = Field(default=10.0, gt=0)
    db_timeout_ms: int = Field(default=2000, ge=10)
    max_candidates: int = Field(default=100, ge=10, description="Products navigation ranks.")
    nav_cache_ttl_s: float = Field(
        default=30.0, ge=0, description="Navigation answer cache; 0 = off."
    )
    nav_cache_size: int = Field(default=4096, ge=1)
    response_cache_size: int = Field(
        default=4096, ge=0, description="Answers of query operations kept in memory; 0 = off."
    )
    prepared_plans: int = Field(
        default=512,
        ge=0,
        description="Query documents answered through a prepared plan (graphql/plan.py); 0 = off.",
    )
    response_cache_check_s: float = Field(
        default=1.0, ge=0, description="How often the graph version is re-read; 0 = every request."
    )
    facet_products: int = Field(
        default=100, ge=1, description="Top products facets are counted on."
    )

    # online explanations (cache store + feature store in Redis)
    key_prefix: str = "cosmo:"
    cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=1, description="On-demand tier lifetime.")
    preload_ttl_s: int = Field(default=2 * 24 * 3600, ge=1, description="Preloaded tier lifetime.")
    worker: bool = Field(default=True, description="Run the explanation worker in the server.")
    worker_batch: int = Field(default=8, ge=1, le=1024)
    worker_idle_s: float = Field(default=0.5, gt=0)
    refresh_top: int = Field(
        default=200, ge=1, description="Frequent queries the refresh preloads."
    )
    generator_model: str = Field(
        default="gemma3-270m",
        description=(
            "Model the worker and refresh job run in-process (COSMO_GEN_BACKEND=hf, the"
            " default); with COSMO_GEN_BACKEND=openai they ask COSMO_GEN_BASE_URL for"
            " COSMO_GEN_MODEL instead."
        ),
    )
