"""Open the configured graph store (the one place that picks a backend)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosmo.core.settings import Settings
from cosmo.kg.store import AsyncGraphStore, GraphStore

if TYPE_CHECKING:
    from cosmo.kg.neo4j_server import Neo4jServer
    from cosmo.kg.server import EmbeddedServer

__all__ = ["open_async_store", "open_server", "open_store", "start_embedded"]


def open_server(settings: Settings, backend: str | None = None) -> EmbeddedServer | Neo4jServer:
    """The database server cosmo starts for ``backend`` (default ``settings.backend``)."""
    if (backend or settings.backend) == "neo4j":
        from cosmo.kg.neo4j_server import Neo4jServer

        return Neo4jServer(settings)
    from cosmo.kg.server import EmbeddedServer

    return EmbeddedServer(settings)


def start_embedded(settings: Settings) -> str | None:
    """Start the embedded server when ``settings`` use it; say where it is (else ``None``).

    A production backend runs on its own (``docker compose up``), so nothing is started.
    """
    if settings.backend != "falkordb":
        return None
    from cosmo.kg.server import EmbeddedServer

    st = EmbeddedServer(settings).start()
    return f"FalkorDB at {st.host}:{st.port}, data in {st.data_dir}"


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

    return AsyncFalkorDBStore.from_settings(settings)
