"""The one interface every graph database sits behind.

A :class:`GraphStore` runs parameterised Cypher and returns plain rows (``dict`` of
column name to scalar, list or map), never driver objects, so callers work the same on
FalkorDB and Neo4j. Queries shared by both backends use the portable subset described
in ``cypher/README.md``: no ``EXISTS {}``/``COUNT {}`` subqueries, no ``elementId``, no
APOC; return scalars or maps; use DISTINCT or aggregation where path de-duplication
could change row counts. What cannot be portable (vector indexes, vector and full-text
search) is a method of the store, so callers never write a database's own Cypher
(:mod:`cosmo.kg.search`). :class:`BatchWrites` is the one ``write_batches`` both stores use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from cosmo.core.errors import GraphStoreError, InputError

__all__ = [
    "AsyncGraphStore",
    "BatchWrites",
    "GraphStore",
    "Health",
    "Row",
    "WriteSummary",
    "await_online",
    "batched",
    "refuse_nul",
]

Row = dict[str, Any]
Backend = Literal["falkordb", "neo4j"]


@dataclass
class WriteSummary:
    """Counters a write reports, summed over batches."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    rows: list[Row] = field(default_factory=list)

    def __iadd__(self, other: WriteSummary) -> WriteSummary:
        self.nodes_created += other.nodes_created
        self.nodes_deleted += other.nodes_deleted
        self.relationships_created += other.relationships_created
        self.relationships_deleted += other.relationships_deleted
        self.properties_set += other.properties_set
        self.rows.extend(other.rows)
        return self


@dataclass(frozen=True)
class Health:
    """Result of :meth:`GraphStore.health`."""

    ok: bool
    backend: str
    detail: str
    latency_ms: float


@runtime_checkable
class GraphStore(Protocol):
    """Synchronous graph database access."""

    backend: Backend

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        """Run a read-only query and return its rows."""
        ...

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary:
        """Run one write query (in one transaction) and return its counters and rows."""
        ...

    def write_batches(
        self,
        cypher: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = 5000,
        param: str = "rows",
        extra: Mapping[str, Any] | None = None,
    ) -> Iterator[WriteSummary]:
        """Run ``cypher`` once per batch with the batch bound to ``$<param>``; yield each summary.

        Each batch is one transaction. The query is expected to start with
        ``UNWIND $rows AS row``.
        """
        ...

    def create_vector_index(self, lbl: str, prop: str, dim: int) -> None:
        """A cosine vector index on ``(:lbl).prop`` of width ``dim`` (rebuilt at another width)."""
        ...

    def vector_index_dimensions(self, lbl: str, prop: str) -> int | None:
        """The width of the vector index on ``(:lbl).prop``, or None when there is none."""
        ...

    def write_vectors(
        self,
        lbl: str,
        prop: str,
        vectors: Iterable[tuple[str, Sequence[float]]],
        *,
        batch_size: int = 1000,
    ) -> int:
        """Set ``(:lbl {key: id}).prop`` to each ``(id, vector)``; return the nodes updated."""
        ...

    def vector_search(
        self,
        lbl: str,
        prop: str,
        ids: Sequence[str],
        k: int,
        *,
        returns: str | None = None,
        timeout_ms: int | None = None,
    ) -> list[Row]:
        """Per node ``(:lbl {key: id})`` its ``k`` nearest others by ``prop``: rows
        ``{source, id, score}`` with the cosine similarity, best first (plus ``node``, the
        portable Cypher expression ``returns`` over the variable ``node``, when given)."""
        ...

    def fulltext_search(
        self, lbl: str, text: str, k: int | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        """Nodes of ``lbl`` matching any word of ``text`` in full text: rows ``{id, score}``."""
        ...

    def vector_nearest(
        self,
        lbl: str,
        prop: str,
        vectors: Iterable[tuple[str, Sequence[float]]],
        k: int,
        *,
        returns: str | None = None,
        batch_size: int = 500,
    ) -> list[Row]:
        """Per ``(source, vector)`` the ``k`` nodes of ``lbl`` nearest to it by ``prop``: rows
        ``{source, id, score}`` (cosine similarity, best first; ``node`` as in
        :meth:`vector_search`), batched."""
        ...

    def setup(self, *, embedding_dim: int | None = None) -> list[str]:
        """Create constraints and indexes (idempotent) and wait until they serve
        (:meth:`await_indexes`); return the statements run."""
        ...

    def await_indexes(
        self, *, timeout_s: float = 3600.0, say: Callable[[str], None] | None = None
    ) -> None:
        """Return once every index and constraint serves queries.

        Both databases populate an index created over existing nodes in the background;
        until it is online a lookup on its property scans the whole label, and a unique
        constraint is not yet enforced. Raises :class:`GraphStoreError` for an index or
        constraint the database failed to build, or after ``timeout_s``; ``say`` hears the
        progress of a wait longer than a few seconds.
        """
        ...

    def health(self) -> Health:
        """Check that the database answers."""
        ...

    def clear(self) -> None:
        """Delete every node, relationship and index of this graph (tests, rebuilds)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class AsyncGraphStore(Protocol):
    """Asynchronous reads for the API (resolvers must not block the event loop)."""

    backend: Backend

    async def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]: ...

    async def vector_search(
        self,
        lbl: str,
        prop: str,
        ids: Sequence[str],
        k: int,
        *,
        returns: str | None = None,
        timeout_ms: int | None = None,
    ) -> list[Row]: ...

    async def fulltext_search(
        self, lbl: str, text: str, k: int | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]: ...

    async def health(self) -> Health: ...

    async def close(self) -> None: ...


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _may_hold_nul(params: Mapping[str, Any]) -> bool:
    """False only when no string holds NUL: JSON escapes every NUL as ``\\u0000`` (C encoder,
    fast on big batches); a text that merely spells that escape falls to the exact walk."""
    try:
        return "\\u0000" in json.dumps(params, default=str)
    except (TypeError, ValueError):
        return True


def refuse_nul(params: Mapping[str, Any] | None) -> None:
    """Refuse a parameter holding NUL (U+0000), on every backend.

    FalkorDB ends the query text at a NUL byte, so the value would be cut; Neo4j would store
    it, and the graph would then hold what the other backend cannot. Input validation
    rejects control characters earlier, naming file, line and field; this is the last guard.
    """
    if params and _may_hold_nul(params) and _has_nul(dict(params)):
        raise InputError(
            "a value contains a NUL character (\\x00), which the graph database cannot store"
        )


class _Executes(Protocol):
    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary: ...


class BatchWrites:
    """``write_batches`` for any store with ``execute``: one transaction per batch."""

    def write_batches(
        self: _Executes,
        cypher: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        batch_size: int = 5000,
        param: str = "rows",
        extra: Mapping[str, Any] | None = None,
    ) -> Iterator[WriteSummary]:
        for batch in batched(rows, batch_size):
            yield self.execute(cypher, {**(extra or {}), param: list(batch)})


def await_online(
    pending: Callable[[], list[str]],
    *,
    timeout_s: float,
    say: Callable[[str], None] | None = None,
    every_s: float = 10.0,
) -> None:
    """Poll ``pending`` (what is still building, described for a person; it raises on a
    failed index) until it is empty: :meth:`GraphStore.await_indexes`' loop, both backends."""
    start = time.monotonic()
    told, pause = start, 0.05
    while building := pending():
        waited = time.monotonic() - start
        if waited > timeout_s:
            raise GraphStoreError(
                f"indexes still building after {timeout_s:.0f} s: {'; '.join(building)}. "
                "Queries work meanwhile but scan whole labels; run `cosmo kg setup` again to "
                "wait longer"
            )
        if say is not None and time.monotonic() - told >= every_s:
            say(f"waiting for indexes ({waited:.0f} s): {'; '.join(building[:3])}")
            told = time.monotonic()
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def batched(rows: Iterable[Any], size: int) -> Iterator[Sequence[Any]]:
    """Split an iterable into lists of at most ``size`` items."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
