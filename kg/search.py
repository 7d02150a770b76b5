"""Vector and full-text search: the one place where the two graph databases differ in Cypher.

Both stores offer the same four operations (declared by
:class:`~cosmo.kg.store.GraphStore`); each store names its :class:`Dialect`:

========================  ==========================================  ==========================================
operation                 FalkorDB                                    Neo4j 5
========================  ==========================================  ==========================================
vector index              ``CREATE VECTOR INDEX FOR (n:L) ON (n.p)``  ``CREATE VECTOR INDEX l_p IF NOT EXISTS``
                          (dropped and rebuilt at another width)
vector value              ``SET n.p = vecf32(v)``                     ``db.create.setNodeVectorProperty``
vector search             ``db.idx.vector.queryNodes`` (a distance)   ``db.index.vector.queryNodes`` ((1 + cos) / 2)
full-text search          ``db.idx.fulltext.queryNodes`` (``a|b``)    ``db.index.fulltext.queryNodes`` (``a OR b``)
========================  ==========================================  ==========================================

Whatever the database, :meth:`Search.vector_search` answers the cosine similarity (higher is
closer) and :meth:`Search.fulltext_search` takes plain words (no query syntax gets
through). Labels are checked against the schema and property names against a strict
pattern before they reach query text; values are always parameters.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from cosmo.core.errors import InputError
from cosmo.core.schema import NODE_KEYS, label
from cosmo.kg.store import BatchWrites, Row, WriteSummary, batched

__all__ = [
    "FALKORDB",
    "FULLTEXT_PROPERTIES",
    "NEO4J",
    "AsyncSearch",
    "Dialect",
    "Search",
    "fulltext_words",
    "neo4j_vector_index",
    "property_name",
]

FULLTEXT_PROPERTIES: dict[str, str] = {"Product": "title", "Intention": "text", "Query": "text"}
"""The property of each label that has a full-text index (see the setup modules)."""

Keyed = Iterable[tuple[str, Sequence[float]]]
"""``(source id, vector)`` pairs."""

_PROP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,60}$")


def property_name(name: str) -> str:
    """``name`` if it may be put into query text as a property name, else :class:`InputError`."""
    if not _PROP.match(name):
        raise InputError(f"not a valid property name: {name!r}", field="property")
    return name


def fulltext_words(text: str, limit: int = 8) -> list[str]:
    """The first ``limit`` words of ``text`` (two characters or more), lower-cased."""
    return [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1][:limit]


def _node(lbl: str) -> tuple[str, str]:
    lbl = label(lbl)
    return lbl, NODE_KEYS[lbl]


class Dialect:
    """The Cypher one database speaks for vectors and full-text search (see the module table)."""

    def vector_dimensions(self, query: Any, lbl: str, prop: str) -> int | None:
        """The width of the vector index on ``(:lbl).prop``, or None when there is none."""
        raise NotImplementedError

    def vector_index(self, query: Any, execute: Any, lbl: str, prop: str, dim: int) -> None:
        raise NotImplementedError

    def set_vector(self, lbl: str, key: str, prop: str) -> str:
        raise NotImplementedError

    def vector_call(self, lbl: str, prop: str) -> str:
        """``CALL ... YIELD node, score`` for the ``$n`` nodes nearest to ``o.<prop>``."""
        return self.nearest_call(lbl, prop, f"o.{prop}")

    def vector_param(self, expr: str) -> str:
        """A list-of-floats parameter as the database's query vector."""
        raise NotImplementedError

    def nearest_call(self, lbl: str, prop: str, vector: str) -> str:
        """``CALL ... YIELD node, score`` for the ``$n`` nodes nearest to the expression ``vector``."""
        raise NotImplementedError

    def cosine(self, score: float) -> float:
        raise NotImplementedError

    def fulltext_call(self, lbl: str) -> str:
        """``CALL ... YIELD node, score`` for the query string ``$q``."""
        raise NotImplementedError

    def fulltext_query(self, words: Sequence[str]) -> str:
        raise NotImplementedError


class _FalkorDB(Dialect):
    def vector_dimensions(self, query: Any, lbl: str, prop: str) -> int | None:
        rows = query("CALL db.indexes() YIELD label, types, options RETURN label, types, options")
        for r in rows:
            types = r.get("types") or {}
            kinds = types.get(prop, []) if isinstance(types, Mapping) else []
            if r.get("label") == lbl and "VECTOR" in [str(k).upper() for k in kinds]:
                return int(((r.get("options") or {}).get(prop) or {}).get("dimension", -1))
        return None

    def vector_index(self, query: Any, execute: Any, lbl: str, prop: str, dim: int) -> None:
        have = self.vector_dimensions(query, lbl, prop)
        if have == int(dim):
            return
        if have is not None:
            execute(f"DROP VECTOR INDEX FOR (n:{lbl}) ON (n.{prop})")
        execute(
            f"CREATE VECTOR INDEX FOR (n:{lbl}) ON (n.{prop}) "
            f"OPTIONS {{dimension: {int(dim)}, similarityFunction: 'cosine'}}"
        )

    def set_vector(self, lbl: str, key: str, prop: str) -> str:
        return f"MATCH (n:{lbl} {{{key}: row.id}}) SET n.{prop} = vecf32(row.v)"

    def vector_param(self, expr: str) -> str:
        return f"vecf32({expr})"

    def nearest_call(self, lbl: str, prop: str, vector: str) -> str:
        return f"CALL db.idx.vector.queryNodes('{lbl}', '{prop}', $n, {vector}) YIELD node, score"

    def cosine(self, score: float) -> float:
        return 1.0 - score  # FalkorDB reports the cosine distance

    def fulltext_call(self, lbl: str) -> str:
        return f"CALL db.idx.fulltext.queryNodes('{lbl}', $q) YIELD node, score"

    def fulltext_query(self, words: Sequence[str]) -> str:
        return "|".join(words)


def neo4j_vector_index(lbl: str, prop: str, dim: int) -> str:
    """Neo4j's DDL for the cosine vector index on ``lbl.prop``, named ``<label>_<prop>``.

    Quantisation is off: with it on, Neo4j 5.26 reports scores about 0.3 % away from the
    exact cosine, and FalkorDB's answers would then differ in the last digits.
    """
    return (
        f"CREATE VECTOR INDEX {lbl.lower()}_{prop} IF NOT EXISTS FOR (n:{lbl}) ON (n.{prop}) "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dim)}, "
        "`vector.similarity_function`: 'cosine', `vector.quantization.enabled`: false}}"
    )


class _Neo4j(Dialect):
    def vector_dimensions(self, query: Any, lbl: str, prop: str) -> int | None:
        shown = query(
            "SHOW VECTOR INDEXES YIELD name, options WHERE name = $n RETURN options",
            {"n": f"{lbl.lower()}_{prop}"},
        )
        if not shown:
            return None
        config = (shown[0].get("options") or {}).get("indexConfig") or {}
        return int(config.get("vector.dimensions", -1))

    def vector_index(self, query: Any, execute: Any, lbl: str, prop: str, dim: int) -> None:
        name = f"{lbl.lower()}_{prop}"
        have = self.vector_dimensions(query, lbl, prop)
        if have == int(dim):
            return
        if have is not None:
            execute(f"DROP INDEX {name} IF EXISTS")
        execute(neo4j_vector_index(lbl, prop, dim))
        query("CALL db.awaitIndex($n, 300)", {"n": name})  # populated in the background

    def set_vector(self, lbl: str, key: str, prop: str) -> str:
        return (
            f"MATCH (n:{lbl} {{{key}: row.id}}) "
            f"CALL db.create.setNodeVectorProperty(n, '{prop}', row.v)"
        )

    def vector_param(self, expr: str) -> str:
        return expr

    def nearest_call(self, lbl: str, prop: str, vector: str) -> str:
        return (
            f"CALL db.index.vector.queryNodes('{lbl.lower()}_{prop}', $n, {vector}) "
            "YIELD node, score"
        )

    def cosine(self, score: float) -> float:
        return 2.0 * score - 1.0  # Neo4j reports (1 + cosine) / 2

    def fulltext_call(self, lbl: str) -> str:
        return (
            f"CALL db.index.fulltext.queryNodes('{lbl.lower()}_{FULLTEXT_PROPERTIES[lbl]}', $q) "
            "YIELD node, score"
        )

    def fulltext_query(self, words: Sequence[str]) -> str:
        return " OR ".join(words)


FALKORDB: Dialect = _FalkorDB()
NEO4J: Dialect = _Neo4j()


def _vector_search(
    dialect: Dialect, lbl: str, prop: str, k: int, returns: str | None, *, by: str = "node"
) -> tuple[str, int]:
    """The query for the nodes nearest to each node of ``$ids`` (``by="node"``) or to each
    vector of ``$rows`` (``by="vector"``: rows ``{s: source, v: vector}``)."""
    lbl, key = _node(lbl)
    prop = property_name(prop)
    if by == "node":
        head = (
            f"UNWIND $ids AS k MATCH (o:{lbl} {{{key}: k}}) WHERE o.{prop} IS NOT NULL "
            f"{dialect.vector_call(lbl, prop)} WITH k, node, score WHERE node.{key} <> k "
        )
    else:
        vector = dialect.vector_param("row.v")
        head = f"UNWIND $rows AS row {dialect.nearest_call(lbl, prop, vector)} WITH row.s AS k, node, score "
    cypher = f"{head}RETURN k AS source, node.{key} AS id, score" + (
        f", {returns} AS node" if returns else ""
    )
    # a few more than k: an index may briefly hold a rewritten vector twice
    return cypher, 2 * int(k) + 10


def _nearest(dialect: Dialect, rows: Iterable[Row], k: int) -> list[Row]:
    """Rows ``{source, id, score}``: per source its ``k`` nearest, best first (ties by id),
    each once."""
    by_source: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        by_source[r["source"]].append({**r, "score": dialect.cosine(float(r["score"]))})
    out: list[Row] = []
    for hits in by_source.values():
        seen: set[Any] = set()
        for hit in sorted(hits, key=lambda h: (-h["score"], str(h["id"]))):
            if hit["id"] not in seen and len(seen) < k:
                seen.add(hit["id"])
                out.append(hit)
    return out


def _fulltext(dialect: Dialect, lbl: str, text: str, k: int | None) -> tuple[str, dict[str, Any]]:
    lbl, key = _node(lbl)
    if lbl not in FULLTEXT_PROPERTIES:
        raise InputError(f"no full-text index on {lbl}", field="label")
    limit = "" if k is None else " LIMIT $k"
    cypher = (
        f"{dialect.fulltext_call(lbl)} "
        f"RETURN node.{key} AS id, score ORDER BY score DESC, id{limit}"
    )
    return cypher, {"q": dialect.fulltext_query(fulltext_words(text)), "k": k}


class _Sync(Protocol):
    dialect: ClassVar[Dialect]

    def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]: ...

    def execute(self, cypher: str, params: Mapping[str, Any] | None = None) -> WriteSummary: ...


class Search:
    """The vector and full-text operations of a synchronous store (it names its ``dialect``)."""

    def create_vector_index(self: _Sync, lbl: str, prop: str, dim: int) -> None:
        """A cosine vector index on ``(:lbl).prop`` of width ``dim`` (one of another width is
        rebuilt where the database needs that)."""
        lbl, prop = label(lbl), property_name(prop)
        self.dialect.vector_index(self.query, self.execute, lbl, prop, dim)

    def vector_index_dimensions(self: _Sync, lbl: str, prop: str) -> int | None:
        """The width of the vector index on ``(:lbl).prop``, or None when there is none."""
        return self.dialect.vector_dimensions(self.query, label(lbl), property_name(prop))

    def write_vectors(
        self: _Sync,
        lbl: str,
        prop: str,
        vectors: Iterable[tuple[str, Sequence[float]]],
        *,
        batch_size: int = 1000,
    ) -> int:
        """Set ``(:lbl {key: id}).prop`` to each ``(id, vector)``; returns the nodes updated."""
        lbl, key = _node(lbl)
        cypher = (
            f"UNWIND $rows AS row {self.dialect.set_vector(lbl, key, property_name(prop))} "
            "RETURN count(n) AS n"
        )
        rows = ({"id": str(i), "v": [float(x) for x in v]} for i, v in vectors)
        batches = BatchWrites.write_batches(self, cypher, rows, batch_size=batch_size)
        return sum(int(r.get("n", 0)) for s in batches for r in s.rows)

    def vector_search(
        self: _Sync,
        lbl: str,
        prop: str,
        ids: Sequence[str],
        k: int,
        *,
        returns: str | None = None,
        timeout_ms: int | None = None,
    ) -> list[Row]:
        """For each node ``(:lbl {key: id})`` with a vector in ``prop``, its ``k`` nearest
        other nodes: rows ``{source, id, score}``, ``score`` the cosine similarity, best first.
        Nodes without a vector (or unknown ids) get no rows. ``returns``, a portable Cypher
        expression over the variable ``node`` (such as a map projection), adds ``node`` to
        each row, so the neighbours' properties come back in the same round trip."""
        cypher, n = _vector_search(self.dialect, lbl, prop, k, returns)
        rows = self.query(cypher, {"ids": list(dict.fromkeys(ids)), "n": n}, timeout_ms=timeout_ms)
        return _nearest(self.dialect, rows, k)

    def vector_nearest(
        self: _Sync, lbl: str, prop: str, vectors: Keyed, k: int, **opts: Any
    ) -> list[Row]:
        """For each ``(source, vector)`` the ``k`` nodes of ``lbl`` nearest to that vector by
        ``prop``: rows ``{source, id, score}`` (cosine similarity, best first, ties by id;
        plus ``node`` as in :meth:`vector_search` when ``returns`` is given), ``batch_size``
        (500) vectors per round trip."""
        returns, size = opts.pop("returns", None), int(opts.pop("batch_size", 500))
        if opts:
            raise TypeError(f"unexpected arguments: {sorted(opts)}")
        cypher, n = _vector_search(self.dialect, lbl, prop, k, returns, by="vector")
        rows: list[Row] = []
        for batch in batched(vectors, size):
            params = {"rows": [{"s": s, "v": [float(x) for x in v]} for s, v in batch], "n": n}
            rows += self.query(cypher, params)
        return _nearest(self.dialect, rows, k)

    def fulltext_search(
        self: _Sync, lbl: str, text: str, k: int | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        """Nodes of ``lbl`` whose full-text property matches any word of ``text``: rows
        ``{id, score}``, best first (``k`` of them, or all)."""
        if not fulltext_words(text):
            return []
        cypher, params = _fulltext(self.dialect, lbl, text, k)
        return self.query(cypher, params, timeout_ms=timeout_ms)


class _Async(Protocol):
    dialect: ClassVar[Dialect]

    async def query(
        self, cypher: str, params: Mapping[str, Any] | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]: ...


class AsyncSearch:
    """:meth:`Search.vector_search` and :meth:`Search.fulltext_search` for asynchronous stores."""

    async def vector_search(
        self: _Async,
        lbl: str,
        prop: str,
        ids: Sequence[str],
        k: int,
        *,
        returns: str | None = None,
        timeout_ms: int | None = None,
    ) -> list[Row]:
        cypher, n = _vector_search(self.dialect, lbl, prop, k, returns)
        params = {"ids": list(dict.fromkeys(ids)), "n": n}
        return _nearest(self.dialect, await self.query(cypher, params, timeout_ms=timeout_ms), k)

    async def fulltext_search(
        self: _Async, lbl: str, text: str, k: int | None = None, *, timeout_ms: int | None = None
    ) -> list[Row]:
        if not fulltext_words(text):
            return []
        cypher, params = _fulltext(self.dialect, lbl, text, k)
        return await self.query(cypher, params, timeout_ms=timeout_ms)
