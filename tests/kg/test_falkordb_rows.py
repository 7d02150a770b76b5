"""The async FalkorDB store's own row parser answers what falkordb-py's parser answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cosmo.kg.falkordb_store import AsyncFalkorDBStore, FalkorDBStore, _rows

QUERIES = [
    "RETURN 1 AS i, -2.5 AS f, 'caf\u00e9 \u2603' AS s, true AS t, false AS n, null AS z",
    "RETURN [1, 'a', [2.0, null], {k: [true]}] AS l, {a: 1, b: {c: 'x', d: []}} AS m",
    "RETURN vecf32([0.5, -1.0, 2.25]) AS v, [] AS e, {} AS em",
    "MATCH (p:Product) RETURN p.id AS id, p {.id, .title} AS m ORDER BY id",
    "MATCH (p:Product) RETURN p ORDER BY p.id",  # nodes: handed to the client's parser
    "MATCH (p:Product)-[r]->(q) RETURN r, q.id AS id ORDER BY id",  # edges, likewise
    "MATCH (p:Product {id: 'nothing'}) RETURN p.id AS id",
    "UNWIND range(1, 300) AS n RETURN n, toString(n) AS s, n / 7.0 AS f",
]


@pytest.mark.single_backend("FalkorDB's compact result format")
def test_compact_rows_match_the_client(falkordb_settings: Any) -> None:
    settings = falkordb_settings.model_copy(update={"graph": "t_compact_rows"})
    sync = FalkorDBStore.from_settings(settings)
    try:
        sync.clear()
        sync.execute(
            "CREATE (:Product {id: 'P1', title: 'tent'})-[:CO_BUY {count: 3}]->"
            "(:Product {id: 'P2', title: null})"
        )

        async def both() -> list[tuple[Any, Any]]:
            st = AsyncFalkorDBStore.from_settings(settings)
            graph = await st._graph()
            try:
                out = []
                for q in QUERIES:
                    theirs = _rows(await graph.ro_query(q))
                    out.append((await st.query(q), theirs))
                with pytest.raises(Exception, match=r"(?i)unknown function|not defined"):
                    await st.query("RETURN no_such_function(1) AS x")
                return out
            finally:
                await st.close()

        for ours, theirs in asyncio.run(both()):
            assert ours == theirs
            assert [list(r) for r in ours] == [list(r) for r in theirs]  # column order too
    finally:
        sync.clear()
        sync.close()
