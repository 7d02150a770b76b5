"""Constraints and indexes for FalkorDB.

FalkorDB has no ``IF NOT EXISTS``: an index that is already there is reported as an error,
which :func:`apply_setup` treats as success. Unique constraints are created with the
``GRAPH.CONSTRAINT CREATE`` command and need an exact-match index on the same property
first; the server builds them in the background, and :func:`apply_setup` returns once every
index and constraint is built (:func:`pending_indexes`). A constraint that exists is not asked for
again: FalkorDB writes the command to its append-only file even when it fails, and the
replay after a restart would then log an error for each repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from cosmo.core.errors import GraphStoreError
from cosmo.core.schema import NODE_KEYS, RELATIONS
from cosmo.kg.store import Row, WriteSummary, await_online

__all__ = ["UNIQUE_KEYS", "apply_setup", "await_indexes", "pending_indexes", "setup_statements"]

UNIQUE_KEYS: dict[str, str] = NODE_KEYS


def setup_statements(*, embedding_dim: int | None = None) -> list[str]:
    """Cypher DDL, in order (constraints are separate commands, see :func:`apply_setup`)."""
    stmts = [f"CREATE INDEX FOR (n:{lbl}) ON (n.{key})" for lbl, key in UNIQUE_KEYS.items()]
    stmts += [
        "CREATE INDEX FOR (p:Product) ON (p.type, p.domain)",
        "CREATE INDEX FOR (i:Intention) ON (i.tail_type)",
        "CREATE INDEX FOR (r:LoadRun) ON (r.seq)",
        "CALL db.idx.fulltext.createNodeIndex('Intention', 'text')",
        "CALL db.idx.fulltext.createNodeIndex('Product', 'title')",
        "CALL db.idx.fulltext.createNodeIndex('Query', 'text')",
    ]
    stmts += [f"CREATE INDEX FOR ()-[r:{rel}]-() ON (r.created_seq)" for rel in RELATIONS]
    if embedding_dim:
        stmts.append(
            "CREATE VECTOR INDEX FOR (p:Product) ON (p.embedding) "
            f"OPTIONS {{dimension: {int(embedding_dim)}, similarityFunction: 'cosine'}}"
        )
    return stmts


def _already(e: Exception) -> bool:
    msg = str(e).lower()
    return "already indexed" in msg or "already exists" in msg or "already" in msg


class _Server(Protocol):
    """What the setup needs of :class:`~cosmo.kg.falkordb_store.FalkorDBStore`."""

    graph_name: str

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary: ...

    def query(self, cypher: str, params: Mapping[str, Any] | None = None) -> list[Row]: ...

    def raw_command(self, *args: Any) -> Any: ...


def pending_indexes(store: _Server) -> list[str]:
    """The indexes and constraints still being built (the server's own progress text).

    Raises :class:`GraphStoreError` for a unique constraint the server failed to build.
    """
    failed: list[tuple[str, str]] = []
    out = []
    for c in store.query("CALL db.constraints()"):
        what = f":{c['label']}({', '.join(c['properties'])})"
        if c["status"] == "FAILED":
            failed.append((c["label"], ", ".join(c["properties"])))
        elif c["status"] != "OPERATIONAL":
            out.append(f"unique {what}: {c['status']}")
    if failed:
        lbl, key = failed[0]
        raise GraphStoreError(
            "FalkorDB could not build the unique constraint on "
            f"{', '.join(f':{a}({b})' for a, b in failed)}: nodes share a key (they were "
            "written outside cosmo's loaders). Find them with "
            f"`MATCH (n:{lbl}) WITH n.{key} AS k, count(*) AS c WHERE c > 1 RETURN k, c`, "
            "merge or delete the extra nodes, then run `cosmo kg setup` again"
        )
    for r in store.query("CALL db.indexes() YIELD label, properties, status"):
        if r["status"] != "OPERATIONAL":
            out.append(f":{r['label']}({', '.join(r['properties'])}) {r['status']}")
    return out


def await_indexes(
    store: _Server, *, timeout_s: float = 3600.0, say: Callable[[str], None] | None = None
) -> None:
    """:meth:`GraphStore.await_indexes` on FalkorDB."""
    await_online(lambda: pending_indexes(store), timeout_s=timeout_s, say=say)


def apply_setup(store: _Server, *, embedding_dim: int | None = None) -> list[str]:
    """Create indexes and unique constraints and wait until they are built; safe to run
    again."""
    done = []
    for stmt in setup_statements(embedding_dim=embedding_dim):
        try:
            store.execute(stmt)
        except GraphStoreError as e:
            if not _already(e):
                raise
        done.append(stmt)
    existing = {
        (c["label"], tuple(c["properties"])): c["status"]
        for c in store.query("CALL db.constraints()")
        if c.get("type") == "UNIQUE" and c.get("entitytype") == "NODE"
    }
    for lbl, key in UNIQUE_KEYS.items():
        spec = (store.graph_name, "UNIQUE", "NODE", lbl, "PROPERTIES", 1, key)
        status = existing.get((lbl, (key,)))
        if status == "FAILED":  # a second try, once the duplicates it met are gone
            store.raw_command("GRAPH.CONSTRAINT", "DROP", *spec)
        if status in (None, "FAILED"):
            try:
                store.raw_command("GRAPH.CONSTRAINT", "CREATE", *spec)
            except GraphStoreError as e:
                if not _already(e):
                    raise
        done.append(" ".join(map(str, ("GRAPH.CONSTRAINT", "CREATE", *spec))))
    await_indexes(store)
    return done
