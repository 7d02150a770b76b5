"""``GraphStore`` on FalkorDB, through the official ``falkordb`` client (RESP, not Bolt).

FalkorDB's Bolt port is not used: it crashed on requests over 4 KiB and was removed
upstream. Construct with a client you made, or use :meth:`FalkorDBStore.from_settings`;
neither touches the network until the first query.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from cosmo.core.errors import GraphStoreError, StoreUnavailable
from cosmo.kg.falkordb_rows import compact_rows
from cosmo.kg.search import FALKORDB, AsyncSearch, Dialect, Search
from cosmo.kg.store import BatchWrites, Health, Row, WriteSummary, refuse_nul

if TYPE_CHECKING:
    from falkordb import FalkorDB

    from cosmo.core.settings import Settings

__all__ = ["AsyncFalkorDBStore", "FalkorDBStore", "to_plain"]


_SCALARS = (str, int, float, bool, type(None))


def to_plain(value: Any) -> Any:
    """Turn client objects (nodes, edges, paths) into plain maps and lists.

    Scalars, lists and maps (most of every result) are handled before the client's
    classes are looked up: this runs for every value of every row.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, list):
        return [v if isinstance(v, _SCALARS) else to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: v if isinstance(v, _SCALARS) else to_plain(v) for k, v in value.items()}
    from falkordb import Edge, Node, Path

    if isinstance(value, Node):
        return dict(value.properties)
    if isinstance(value, Edge):
        return {"type": value.relation, **dict(value.properties)}
    if isinstance(value, Path):
        return {
            "nodes": [to_plain(n) for n in value.nodes()],
            "edges": [to_plain(e) for e in value.edges()],
        }
    return value


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# a JSON escape FalkorDB's parser does not decode (\uXXXX, \b, \f), not itself escaped
_UNSAFE = re.compile(r"(?<!\\)(?:\\\\)*\\[ubf]")


def _map_keys(value: Any) -> set[str] | None:
    """Keys of the maps at the top of ``value`` (a map, or a list of maps); None if not identifiers."""
    keys: set[str] = set()
    if isinstance(value, dict):
        keys.update(value)
    elif isinstance(value, list):
        for row in value:
            if isinstance(row, dict):
                keys.update(row)
    if not all(isinstance(k, str) and _IDENT.fullmatch(k) for k in keys):
        return None
    return keys


def params_header(params: Mapping[str, Any]) -> str | None:
    """The ``CYPHER k=v ...`` prefix for ``params``, built by the C JSON encoder.

    The client's own serialiser walks every value in Python, which dominated large batched
    writes. JSON is valid Cypher for lists, strings, numbers, booleans and null; the keys of
    flat maps (a map, or a list of maps) become backticked identifiers by plain string
    replacement (inside a JSON string a quote is always escaped, so ``{"key":`` and
    ``,"key":`` only ever occur as keys). Returns ``None`` (use the client's serialiser) for
    anything JSON would spell differently: control characters, NaN, nested or
    non-identifier keys, keys of nested maps, other types.
    """
    parts = ["CYPHER"]
    for name, value in params.items():
        if not _IDENT.fullmatch(name):
            return None
        keys = _map_keys(value)
        if keys is None:
            return None
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError):
            return None
        if ("\\u" in text or "\\b" in text or "\\f" in text) and _UNSAFE.search(text):
            return None
        for k in keys:
            text = text.replace(f'{{"{k}":', f"{{`{k}`:").replace(f',"{k}":', f",`{k}`:")
        # a value is never followed by ':' in JSON, so any unescaped '":' left is a key we did not
        # turn into an identifier (a nested map): let the client serialise this one
        if text.count('":') != text.count('\\":'):
            return None
        parts.append(f"{name}={text}")
    return " ".join(parts) + " "


def _rows(result: Any) -> list[Row]:
    names = [h[1] if isinstance(h, list | tuple) else h for h in result.header]
    names = [n.decode() if isinstance(n, bytes) else n for n in names]
    return [dict(zip(names, (to_plain(c) for c in row), strict=False)) for row in result.result_set]


def _summary(result: Any) -> WriteSummary:
    return WriteSummary(
        nodes_created=int(result.nodes_created),
        nodes_deleted=int(result.nodes_deleted),
        relationships_created=int(result.relationships_created),
        relationships_deleted=int(result.relationships_deleted),
        properties_set=int(result.properties_set),
        rows=_rows(result),
    )


_NO_GRAPH = "empty key"  # FalkorDB's answer to a read of a graph that does not exist


def _wrap(e: Exception, cypher: str) -> Exception:
    import redis

    if isinstance(e, GraphStoreError):
        return e
    if isinstance(e, redis.exceptions.AuthenticationError | redis.exceptions.ConnectionError):
        return StoreUnavailable(
            f"FalkorDB is unreachable ({e}). Start it with `cosmo db start` or check "
            "COSMO_FALKORDB_HOST/PORT/PASSWORD."
        )
    if isinstance(e, redis.exceptions.TimeoutError):
        return StoreUnavailable(f"FalkorDB did not answer in time ({e})")
    first = cypher.strip().splitlines()[0][:120] if cypher.strip() else ""
    return GraphStoreError(f"FalkorDB rejected the query ({e}); query starts: {first}")


class FalkorDBStore(BatchWrites, Search):
    """A :class:`~cosmo.kg.store.GraphStore` over one FalkorDB graph.

    Args:
        client: a ``falkordb.FalkorDB`` client, or a function that makes one. The
            ``FalkorDB`` constructor talks to the server, so :meth:`from_settings`
            passes a function and the first query connects.
        graph: the graph (key) name.
    """

    backend: ClassVar[str] = "falkordb"
    dialect: ClassVar[Dialect] = FALKORDB

    def __init__(self, client: FalkorDB | Callable[[], FalkorDB], graph: str = "cosmo") -> None:
        self._client = client
        self.graph_name = graph
        self._graph_handle: Any = None

    @property
    def client(self) -> FalkorDB:
        if callable(self._client) and not hasattr(self._client, "select_graph"):
            try:
                self._client = self._client()
            except Exception as e:
                raise _wrap(e, "CONNECT") from e
        return self._client  # type: ignore[return-value]

    @property
    def _graph(self) -> Any:
        if self._graph_handle is None:
            self._graph_handle = self.client.select_graph(self.graph_name)
        return self._graph_handle

    @classmethod
    def from_settings(cls, settings: Settings) -> FalkorDBStore:
        def connect() -> FalkorDB:
            from falkordb import FalkorDB

            pw = settings.falkordb_password
            return FalkorDB(
                host=settings.falkordb_host,
                port=settings.falkordb_port,
                password=pw.get_secret_value() if pw else None,
                socket_connect_timeout=5,
            )

        return cls(connect, settings.graph)

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        refuse_nul(params)
        try:
            res = self._graph.ro_query(cypher, dict(params or {}), timeout=timeout_ms)
        except Exception as e:
            if _NO_GRAPH in str(e):
                return self._read_missing(cypher, params, timeout_ms)
            raise _wrap(e, cypher) from e
        return _rows(res)

    def _read_missing(
        self, cypher: str, params: Mapping[str, Any] | None, timeout_ms: int | None
    ) -> list[Row]:
        """A read of a graph that does not exist yet answers as over an empty graph: the
        query runs on a scratch graph of its own, deleted again (counts are zeros)."""
        scratch = self.client.select_graph(f"{self.graph_name}__empty_{uuid.uuid4().hex[:8]}")
        try:  # GRAPH.QUERY makes the graph a read needs; the query itself writes nothing
            return _rows(scratch.query(cypher, dict(params or {}), timeout=timeout_ms))
        except Exception as e:
            raise _wrap(e, cypher) from e
        finally:
            with contextlib.suppress(Exception):
                scratch.delete()

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary:
        prepared = self.prepare(cypher, params) if params else (cypher, cypher)
        if prepared is not None:
            return self.execute_prepared(prepared)
        # parameters the C encoder cannot inline: the client's own serialiser
        refuse_nul(params)
        try:
            res = self._graph.query(cypher, dict(params or {}))
        except Exception as e:
            raise _wrap(e, cypher) from e
        return _summary(res)

    def prepare(self, cypher: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
        """The full query text for a write (parameters inlined), or ``None`` to use :meth:`execute`.

        Thread-safe and network-free, so a loader can build the next batch's text while the
        server runs the current one (see :func:`cosmo.kg.batches.run_batches`).
        """
        header = params_header(params)
        return None if header is None else (header + cypher, cypher)

    def execute_prepared(self, prepared: tuple[str, str]) -> WriteSummary:
        """Run a write prepared by :meth:`prepare`."""
        text, cypher = prepared
        try:
            res = self._graph.query(text)
        except Exception as e:
            raise _wrap(e, cypher) from e
        return _summary(res)

    def setup(self, *, embedding_dim: int | None = None) -> list[str]:
        from cosmo.kg.setup_falkordb import apply_setup

        return apply_setup(self, embedding_dim=embedding_dim)

    def await_indexes(
        self, *, timeout_s: float = 3600.0, say: Callable[[str], None] | None = None
    ) -> None:
        from cosmo.kg.setup_falkordb import await_indexes

        await_indexes(self, timeout_s=timeout_s, say=say)

    def raw_command(self, *args: Any) -> Any:
        """Send a raw command (``GRAPH.CONSTRAINT``, ``GRAPH.BULK``) to the server."""
        try:
            return self.client.connection.execute_command(*args)
        except Exception as e:
            raise _wrap(e, " ".join(map(str, args[:2]))) from e

    def exists(self) -> bool:
        """True when the graph key exists (a bulk build needs it not to)."""
        try:
            return self.graph_name in self.client.list_graphs()
        except Exception as e:
            raise _wrap(e, "GRAPH.LIST") from e

    def health(self) -> Health:
        t = time.perf_counter()
        try:
            self.client.connection.ping()
            ok, detail = True, f"graph {self.graph_name!r}"
        except Exception as e:
            ok, detail = False, str(_wrap(e, "PING"))
        return Health(ok, "falkordb", detail, (time.perf_counter() - t) * 1000)

    def clear(self) -> None:
        if self.exists():
            try:
                self._graph.delete()
            except Exception as e:
                raise _wrap(e, "GRAPH.DELETE") from e

    def close(self) -> None:
        if not callable(self._client) or hasattr(self._client, "select_graph"):
            self._client.close()  # type: ignore[union-attr]


class AsyncFalkorDBStore(AsyncSearch):
    """An :class:`~cosmo.kg.store.AsyncGraphStore` over FalkorDB's asyncio client.

    ``client`` is a ``falkordb.asyncio.FalkorDB`` or a function making one; the function
    runs on first use, in a thread (the client probes the server when constructed), and
    again on the next call if the server was down.
    """

    backend: ClassVar[str] = "falkordb"
    dialect: ClassVar[Dialect] = FALKORDB

    def __init__(self, client: Any, graph: str = "cosmo") -> None:
        self._client = client
        self.graph_name = graph
        self._graph_handle: Any = None

    async def _connected(self) -> Any:
        if callable(self._client) and not hasattr(self._client, "select_graph"):
            try:
                self._client = await asyncio.to_thread(self._client)
            except Exception as e:
                raise _wrap(e, "CONNECT") from e
        return self._client

    async def _graph(self) -> Any:
        if self._graph_handle is None:
            self._graph_handle = (await self._connected()).select_graph(self.graph_name)
        return self._graph_handle

    @classmethod
    def from_settings(cls, settings: Settings, *, max_connections: int = 64) -> AsyncFalkorDBStore:
        def connect() -> Any:
            from falkordb.asyncio import FalkorDB as AsyncFalkorDB
            from redis.asyncio import BlockingConnectionPool

            pw = settings.falkordb_password
            pool = BlockingConnectionPool(
                host=settings.falkordb_host,
                port=settings.falkordb_port,
                password=pw.get_secret_value() if pw else None,
                max_connections=max_connections,
                socket_connect_timeout=2,
                timeout=5,
                decode_responses=True,
            )
            return AsyncFalkorDB(connection_pool=pool, socket_connect_timeout=2)

        return cls(connect, settings.graph)

    async def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        refuse_nul(params)
        try:
            graph = await self._graph()
            # the command ro_query sends, with rows parsed by compact_rows where it can
            cmd = ["GRAPH.RO_QUERY", graph.name, graph._build_params_header(dict(params or {}))]
            cmd[-1] += cypher
            cmd += ["--compact"] + ([] if timeout_ms is None else ["timeout", int(timeout_ms)])
            response = await graph.execute_command(*cmd)
            rows = compact_rows(response)
            if rows is not None:
                return rows
            from falkordb.asyncio.query_result import QueryResult

            res = QueryResult(graph)
            await res.parse(response)
        except Exception as e:
            raise _wrap(e, cypher) from e
        return _rows(res)

    async def health(self) -> Health:
        t = time.perf_counter()
        try:
            await (await self._connected()).connection.ping()
            ok, detail = True, f"graph {self.graph_name!r}"
        except Exception as e:
            ok, detail = False, str(_wrap(e, "PING"))
        return Health(ok, "falkordb", detail, (time.perf_counter() - t) * 1000)

    async def close(self) -> None:
        client = self._client
        if callable(client) and not hasattr(client, "select_graph"):
            return
        if hasattr(client, "aclose"):
            await client.aclose()
        elif hasattr(getattr(client, "connection", None), "aclose"):
            await client.connection.aclose()
