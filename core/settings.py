"""Settings shared by every part of cosmo, read from the environment (prefix ``COSMO_``).

Build them once, in a factory or at the CLI entry point, and pass them down::

    settings = Settings()            # reads COSMO_* variables and .env
    store = open_store(settings)     # cosmo.kg.open_store

Parts with settings of their own (generation, refinement, the API) define their own
``BaseSettings`` classes with their own prefixes; this one holds what they share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Where cosmo keeps its state and which graph database it talks to."""

    model_config = SettingsConfigDict(env_prefix="COSMO_", env_file=".env", extra="ignore")

    state_dir: Path = Field(
        default=Path(".cosmo"),
        description="Folder for the embedded database, caches, converted models and artifacts.",
    )
    backend: Literal["falkordb", "neo4j"] = "falkordb"
    graph: str = Field(default="cosmo", description="FalkorDB graph name.")

    falkordb_host: str = "127.0.0.1"
    falkordb_port: int = 6390
    falkordb_password: SecretStr | None = None
    falkordb_replicas: str = Field(
        default="",
        pattern=r"^\s*([^,:\s]+:[0-9]{1,5}\s*(,\s*[^,:\s]+:[0-9]{1,5}\s*)*)?$",
        description="FalkorDB read replicas (HOST:PORT,HOST:PORT) the API reads from; "
        "writes go to falkordb_host:falkordb_port.",
    )

    neo4j_uri: str = "bolt://localhost:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    neo4j_retry_s: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How long a Neo4j query is retried while the server is unreachable or a"
            " transaction fails transiently (the driver's max_transaction_retry_time)."
        ),
    )
    neo4j_http_port: int = Field(
        default=7474, ge=1, le=65535, description="HTTP port of the Neo4j server cosmo starts."
    )
    neo4j_heap: str = Field(
        default="2g", pattern=r"^[1-9][0-9]*[kmg]$", description="JVM heap of that server."
    )
    neo4j_pagecache: str = Field(
        default="1g", pattern=r"^[1-9][0-9]*[kmg]$", description="Page cache of that server."
    )
    neo4j_lib_dir: Path | None = Field(
        default=None,
        description="Neo4j's jars (resolved once with Maven); default <state_dir>/neo4j/lib.",
    )

    redis_url: SecretStr | None = Field(
        default=None,
        description="Redis for the API's caches and feature store (redis://:pw@host:port/db); "
        "default: the FalkorDB server, which is a Redis.",
    )

    batch_size: int = Field(default=5000, ge=1, le=1_000_000)

    @field_validator("state_dir", "neo4j_lib_dir")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @property
    def neo4j_dir(self) -> Path:
        """The Neo4j server cosmo starts: its conf, data, logs and pid file."""
        return self.state_dir / "neo4j"

    @property
    def neo4j_jars(self) -> Path:
        """Where Neo4j's jars are resolved to (``neo4j_lib_dir`` when set)."""
        return self.neo4j_lib_dir or self.neo4j_dir / "lib"

    @property
    def data_dir(self) -> Path:
        """Embedded database files (AOF, RDB)."""
        return self.state_dir / "db"

    @property
    def cache_dir(self) -> Path:
        """Converted models, generation caches."""
        return self.state_dir / "cache"

    @property
    def artifacts_dir(self) -> Path:
        """Pipeline outputs with their manifests."""
        return self.state_dir / "artifacts"

    @property
    def falkordb_url(self) -> str:
        """``redis://`` URL of the FalkorDB server (FalkorDB is a Redis module)."""
        pw = self.falkordb_password.get_secret_value() if self.falkordb_password else None
        auth = f":{pw}@" if pw else ""
        return f"redis://{auth}{self.falkordb_host}:{self.falkordb_port}"

    @property
    def cache_url(self) -> str:
        """The Redis of the API's caches and feature store: ``redis_url``, else FalkorDB's."""
        return self.redis_url.get_secret_value() if self.redis_url else self.falkordb_url
