"""Open the configured graph store (the one place that picks a backend)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cosmo.core.errors import ConfigError
from cosmo.core.settings import Settings
from cosmo.kg.store import AsyncGraphStore, GraphStore

if TYPE_CHECKING:
    from cosmo.kg.neo4j_server import Neo4jServer
    from cosmo.kg.server import EmbeddedServer

__all__ = ["open_async_store", "open_server", "open_store", "start_servers"]


def open_server(
    settings: Settings, backend: str | None = None, *, replica_of: str | None = None
) -> EmbeddedServer | Neo4jServer:
    """The database server cosmo starts for ``backend`` (default ``settings.backend``);
    ``replica_of`` (``HOST:PORT``, FalkorDB only) makes it a read replica of that server."""
    if replica_of is not None:
        from cosmo.kg.replicas import parse_address
        from cosmo.kg.server import EmbeddedServer

        if (backend or settings.backend) == "neo4j":
            raise ConfigError(
                "--replica-of starts a FalkorDB replica; Neo4j read replicas are a cluster "
                "feature (see docs/scaling.md)"
            )
        return EmbeddedServer(settings, replica_of=parse_address(replica_of, "--replica-of"))
    if (backend or settings.backend) == "neo4j":
        from cosmo.kg.neo4j_server import Neo4jServer

        return Neo4jServer(settings)
    from cosmo.kg.server import EmbeddedServer

    return EmbeddedServer(settings)


def start_servers(settings: Settings, say: Callable[[str], None] = print) -> list[str]:
    """Start the servers ``settings`` need on this machine; say where each is.

    FalkorDB is the graph with the default backend, and the Redis of the API's caches
    unless ``COSMO_REDIS_URL`` names another; with ``backend=neo4j`` the Neo4j server cosmo
    resolves and starts (Java 17+, Maven once) is started too.
    """
    from cosmo.kg.neo4j_server import Neo4jServer
    from cosmo.kg.server import EmbeddedServer

    started = []
    if settings.backend == "falkordb" or settings.redis_url is None:
        st = EmbeddedServer(settings).start(say=say)
        started.append(f"FalkorDB at {st.host}:{st.port}, data in {st.data_dir}")
    if settings.backend == "neo4j":
        st = Neo4jServer(settings).start(say=say)
        started.append(f"Neo4j at bolt://{st.host}:{st.port}, data in {st.data_dir}")
    return started


def open_store(settings: Settings) -> GraphStore:
    """A :class:`GraphStore` for ``settings.backend``; connects lazily."""
    if settings.backend == "neo4j":
        from cosmo.kg.neo4j_store import Neo4jStore

        return Neo4jStore.from_settings(settings)
    from cosmo.kg.falkordb_store import FalkorDBStore

    return FalkorDBStore.from_settings(settings)


def open_async_store(settings: Settings) -> AsyncGraphStore:
    """An :class:`AsyncGraphStore` for ``settings.backend``; connects lazily."""
    if settings.backend == "neo4j":
        from cosmo.kg.neo4j_store import AsyncNeo4jStore

        return AsyncNeo4jStore.from_settings(settings)
    from cosmo.kg.falkordb_store import AsyncFalkorDBStore

    if settings.falkordb_replicas.strip():
        from cosmo.kg.replicas import ReplicaReads, replica_settings

        replicas = [AsyncFalkorDBStore.from_settings(s) for s in replica_settings(settings)]
        return ReplicaReads(AsyncFalkorDBStore.from_settings(settings), replicas)
    return AsyncFalkorDBStore.from_settings(settings)
