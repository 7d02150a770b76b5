"""``setup`` returns only once its indexes serve, on real FalkorDB and Neo4j servers.

Both databases build an index created over existing nodes in the background. A first build
creates its indexes after the data (``GRAPH.BULK``, ``neo4j-admin import``) and then reads by
key at once; reads sent before population ends scan whole labels (on a 10M-edge FalkorDB
graph, one such read ran for minutes and kept the indexer waiting for its lock).
"""

from __future__ import annotations

import pytest

from cosmo.core.errors import GraphStoreError
from cosmo.kg.factory import open_store
from cosmo.kg.store import await_online

N = 150_000


def _not_online(store) -> list[str]:  # type: ignore[no-untyped-def]
    if store.backend == "neo4j":
        rows = store.query("SHOW INDEXES YIELD name, state RETURN name, state")
        return [r["name"] for r in rows if r["state"] != "ONLINE"]
    rows = store.query("CALL db.indexes() YIELD label, status RETURN label, status")
    rows += store.query("CALL db.constraints() YIELD label, status RETURN label, status")
    return [f"{r['label']}: {r['status']}" for r in rows if r["status"] != "OPERATIONAL"]


def _products(store, n: int) -> None:  # type: ignore[no-untyped-def]
    store.execute(
        "UNWIND range(1, $n) AS i CREATE (:Product {id: 'p' + toString(i), title: 'a title', "
        "type: 'T', domain: 'd'})",
        {"n": n},
    )


def test_setup_over_existing_nodes_returns_with_every_index_online(graph_settings) -> None:  # type: ignore[no-untyped-def]
    store = open_store(graph_settings)
    try:
        _products(store, N)
        store.setup(embedding_dim=8)
        assert _not_online(store) == []
        rows = store.query("MATCH (p:Product {id: $id}) RETURN p.title AS t", {"id": "p777"})
        assert rows == [{"t": "a title"}]
        store.await_indexes(timeout_s=1)  # nothing left to wait for: returns at once
    finally:
        store.clear()
        store.close()


def test_await_online_reports_progress_then_times_out_clearly() -> None:
    heard: list[str] = []
    calls = []

    def pending() -> list[str]:
        calls.append(1)
        return ["Product(id) 10%"]

    with pytest.raises(GraphStoreError, match=r"still building after 0 s: Product\(id\) 10%"):
        await_online(pending, timeout_s=0.3, say=heard.append, every_s=0.1)
    assert len(calls) > 2
    assert heard and "Product(id) 10%" in heard[0]


def test_a_constraint_that_duplicates_break_is_an_error_then_builds_once_they_go(
    graph_settings,
) -> None:  # type: ignore[no-untyped-def]
    store = open_store(graph_settings)
    try:
        _products(store, 1000)
        store.execute("CREATE (:Product {id: 'p5', title: 'a second p5'})")
        with pytest.raises(GraphStoreError) as err:
            store.setup()
        assert "p5" in str(err.value) or "Product(id)" in str(err.value)
        assert "Traceback" not in str(err.value)
        store.execute("MATCH (p:Product {title: 'a second p5'}) DELETE p")
        store.setup()
        assert _not_online(store) == []
        with pytest.raises(GraphStoreError, match="unique constraint"):
            store.execute("CREATE (:Product {id: 'p5'})")
    finally:
        store.clear()
        store.close()
