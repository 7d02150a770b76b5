"""``GraphStore`` on Neo4j 5, through the official ``neo4j`` driver.

The official driver is used rather than py2neo, which its author declared end-of-life in
2023. Reads go through ``execute_query`` with ``routing_=READ`` (so clusters send them to
followers), writes with ``routing_=WRITE``; both name the database explicitly.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from cosmo.core.errors import ConfigError, GraphStoreError, StoreUnavailable
from cosmo.kg.search import NEO4J, AsyncSearch, Dialect, Search
from cosmo.kg.store import BatchWrites, Health, Row, WriteSummary, await_online, refuse_nul

if TYPE_CHECKING:
    from neo4j import AsyncDriver, Driver

    from cosmo.core.settings import Settings

__all__ = ["AsyncNeo4jStore", "Neo4jStore", "positional"]


_AS_IS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    # by exact type: scalars, lists and maps (most of every result) cost one set lookup
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is list:
        return list(map(_plain, value))
    if kind is dict:
        return dict(zip(value, map(_plain, value.values()), strict=True))
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node):
        return dict(value)
    if isinstance(value, Relationship):
        return {"type": value.type, **dict(value)}
    if isinstance(value, Path):
        return {
            "nodes": [dict(n) for n in value.nodes],
            "edges": [_plain(r) for r in value.relationships],
        }
    if isinstance(value, list | dict):
        return _plain(list(value) if isinstance(value, list) else dict(value))
    if hasattr(value, "to_native"):
        return value.to_native()
    return value


def _wrap(e: Exception, cypher: str) -> Exception:
    from neo4j import exceptions as ne

    if isinstance(e, ne.ServiceUnavailable | ne.AuthError | ne.SessionExpired):
        return StoreUnavailable(
            f"Neo4j is unreachable ({e}); check COSMO_NEO4J_URI and credentials"
        )
    first = cypher.strip().splitlines()[0][:120] if cypher.strip() else ""
    if isinstance(e, ne.ConstraintError):
        return GraphStoreError(f"unique constraint violated: {e.message}; query starts: {first}")
    return GraphStoreError(f"Neo4j rejected the query ({e}); query starts: {first}")


# Queries that name a label, type or property the graph does not hold yet (an empty graph,
# a relation no load has used) are valid; the server's notices about them are noise.
def _driver_config(settings: Settings) -> dict[str, Any]:
    """The driver options both stores use: no notifications, the configured retry time."""
    return {
        "notifications_min_severity": "OFF",
        "max_transaction_retry_time": settings.neo4j_retry_s,
    }


_UNWIND_ROWS = re.compile(r"\s*UNWIND\s+\$rows\s+AS\s+row\b", re.IGNORECASE)
_ROW_KEY = re.compile(r"(?<![\w.$`])row\.([A-Za-z_]\w*)")
_ROW = re.compile(r"(?<![\w.$`])row\b(?!\[)")
_CLAUSE = re.compile(
    r"\b(WITH|RETURN|SET|MERGE|MATCH|UNWIND|WHERE|CREATE|DELETE|REMOVE|ORDER|CALL)\b"
)
_CARRIED = re.compile(r"(?:WITH\s+|,\s*)row\s*,\s*$")


def _carried_only(body: str) -> bool:
    """Every bare ``row`` left is an item of a ``WITH`` list (``WITH r, row, …``): passed on."""
    for m in _ROW.finditer(body):
        before = body[: m.end()]
        clauses = _CLAUSE.findall(before)
        if not clauses or clauses[-1] != "WITH":
            return False
        if not _CARRIED.search(before + body[m.end() :].split(",", 1)[0] + ","):
            return False
    return True


@functools.lru_cache(maxsize=256)
def positional(cypher: str) -> tuple[str, tuple[str, ...]] | None:
    """``UNWIND $rows AS row …`` with ``row.<key>`` written ``row[<i>]``, and the keys in order.

    The driver packs parameters in Python, value by value: a row sent as a list instead of
    a map skips packing its keys, a third of the loader's knowledge rows. A missing key reads
    as null either way. ``None`` when the query does not start so, or uses ``row`` otherwise.
    """
    head = _UNWIND_ROWS.match(cypher)
    if head is None:
        return None
    keys: dict[str, int] = {}
    body = _ROW_KEY.sub(
        lambda m: f"row[{keys.setdefault(m.group(1), len(keys))}]", cypher[head.end() :]
    )
    if not keys or not _carried_only(body):
        return None
    return cypher[: head.end()] + body, tuple(keys)


def _quote(name: str) -> str:
    """A schema name as a backticked identifier (names come from SHOW, not from input)."""
    return "`" + name.replace("`", "``") + "`"


def _settings_auth(settings: Settings) -> tuple[str, str]:
    if settings.neo4j_password is None:
        raise ConfigError("Set COSMO_NEO4J_PASSWORD (Neo4j passwords come from the environment)")
    return settings.neo4j_user, settings.neo4j_password.get_secret_value()


class Neo4jStore(BatchWrites, Search):
    """A :class:`~cosmo.kg.store.GraphStore` over a Neo4j 5 database."""

    backend: ClassVar[str] = "neo4j"
    dialect: ClassVar[Dialect] = NEO4J

    def __init__(self, driver: Driver, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database

    @classmethod
    def from_settings(cls, settings: Settings) -> Neo4jStore:
        from neo4j import GraphDatabase

        return cls(
            GraphDatabase.driver(
                settings.neo4j_uri, auth=_settings_auth(settings), **_driver_config(settings)
            ),
            settings.neo4j_database,
        )

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        from neo4j import Query, RoutingControl

        refuse_nul(params)
        q: Any = Query(cypher, timeout=timeout_ms / 1000) if timeout_ms else cypher
        try:
            records, _, keys = self.driver.execute_query(
                q, dict(params or {}), database_=self.database, routing_=RoutingControl.READ
            )
        except Exception as e:
            raise _wrap(e, cypher) from e
        return [dict(zip(keys, map(_plain, r.values()), strict=True)) for r in records]

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary:
        refuse_nul(params)
        return self.execute_prepared((cypher, dict(params or {})))

    def prepare(self, cypher: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """A write ready to send: parameters checked, batch rows as lists (see :func:`positional`).

        Thread-safe and network-free, so the loader prepares the next batch while the server
        runs the current one (see :func:`cosmo.kg.batches.run_batches`).
        """
        refuse_nul(params)
        rows = params.get("rows")
        if isinstance(rows, list) and rows and all(isinstance(r, Mapping) for r in rows):
            pos = positional(cypher)
            if pos is not None:
                text, keys = pos
                return text, {**params, "rows": [[r.get(k) for k in keys] for r in rows]}
        return cypher, dict(params)

    def execute_prepared(self, prepared: tuple[str, dict[str, Any]]) -> WriteSummary:
        """Run a write prepared by :meth:`prepare` (one transaction)."""
        from neo4j import RoutingControl

        cypher, params = prepared
        try:
            records, summary, keys = self.driver.execute_query(
                cypher, params, database_=self.database, routing_=RoutingControl.WRITE
            )
        except Exception as e:
            raise _wrap(e, cypher) from e
        c = summary.counters
        return WriteSummary(
            nodes_created=c.nodes_created,
            nodes_deleted=c.nodes_deleted,
            relationships_created=c.relationships_created,
            relationships_deleted=c.relationships_deleted,
            properties_set=c.properties_set,
            rows=[dict(zip(keys, map(_plain, r.values()), strict=True)) for r in records],
        )

    def setup(self, *, embedding_dim: int | None = None) -> list[str]:
        from cosmo.kg.setup_neo4j import setup_statements

        stmts = setup_statements(embedding_dim=embedding_dim)

        def run_all(tx: Any) -> None:
            for s in stmts:
                tx.run(s).consume()

        # one transaction: one commit instead of one per statement (a third of the time)
        try:
            with self.driver.session(database=self.database) as session:
                session.execute_write(run_all)
        except Exception as e:
            raise _wrap(e, stmts[0]) from e
        self.await_indexes()
        return stmts

    def await_indexes(
        self, *, timeout_s: float = 3600.0, say: Callable[[str], None] | None = None
    ) -> None:
        def pending() -> list[str]:
            rows = self.query(
                "SHOW INDEXES YIELD name, state, populationPercent WHERE state <> 'ONLINE' "
                "RETURN name, state, populationPercent AS pct"
            )
            failed = [r["name"] for r in rows if r["state"] == "FAILED"]
            if failed:
                raise GraphStoreError(
                    f"Neo4j failed to build the index {', '.join(failed)}; its reason is in "
                    "the server's debug.log. Drop it (`DROP INDEX <name>`) and run "
                    "`cosmo kg setup` again"
                )
            return [f"{r['name']} {r['state'].lower()} {r['pct'] or 0:.0f}%" for r in rows]

        await_online(pending, timeout_s=timeout_s, say=say)

    def health(self) -> Health:
        t = time.perf_counter()
        try:
            self.driver.verify_connectivity()
            ok, detail = True, f"database {self.database!r}"
        except Exception as e:
            ok, detail = False, str(_wrap(e, "verify_connectivity"))
        return Health(ok, "neo4j", detail, (time.perf_counter() - t) * 1000)

    def clear(self) -> None:
        """Delete every node and relationship, then every constraint and index.

        ``CALL {…} IN TRANSACTIONS`` runs only in an implicit (auto-commit) transaction,
        hence ``session.run`` rather than ``execute_query``.
        """
        try:
            with self.driver.session(database=self.database) as session:
                session.run(
                    "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                ).consume()
                names = [r["name"] for r in session.run("SHOW CONSTRAINTS YIELD name")]
                for name in names:
                    session.run(f"DROP CONSTRAINT {_quote(name)} IF EXISTS").consume()
                shown = session.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'")
                for name in [r["name"] for r in shown]:
                    session.run(f"DROP INDEX {_quote(name)} IF EXISTS").consume()
        except Exception as e:
            raise _wrap(e, "clear") from e

    def close(self) -> None:
        self.driver.close()


class AsyncNeo4jStore(AsyncSearch):
    """An :class:`~cosmo.kg.store.AsyncGraphStore` over Neo4j's async driver."""

    backend: ClassVar[str] = "neo4j"
    dialect: ClassVar[Dialect] = NEO4J

    def __init__(self, driver: AsyncDriver, database: str = "neo4j") -> None:
        self.driver = driver
        self.database = database

    @classmethod
    def from_settings(cls, settings: Settings) -> AsyncNeo4jStore:
        from neo4j import AsyncGraphDatabase

        return cls(
            AsyncGraphDatabase.driver(
                settings.neo4j_uri, auth=_settings_auth(settings), **_driver_config(settings)
            ),
            settings.neo4j_database,
        )

    async def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        from neo4j import Query, RoutingControl

        refuse_nul(params)
        q: Any = Query(cypher, timeout=timeout_ms / 1000) if timeout_ms else cypher
        try:
            records, _, keys = await self.driver.execute_query(
                q, dict(params or {}), database_=self.database, routing_=RoutingControl.READ
            )
        except Exception as e:
            raise _wrap(e, cypher) from e
        return [dict(zip(keys, map(_plain, r.values()), strict=True)) for r in records]

    async def health(self) -> Health:
        t = time.perf_counter()
        try:
            await self.driver.verify_connectivity()
            ok, detail = True, f"database {self.database!r}"
        except Exception as e:
            ok, detail = False, str(_wrap(e, "verify_connectivity"))
        return Health(ok, "neo4j", detail, (time.perf_counter() - t) * 1000)

    async def close(self) -> None:
        await self.driver.close()
