"""The graph store against a real FalkorDB server."""

from __future__ import annotations

import pytest

from cosmo.errors import GraphStoreError, StoreUnavailable
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.store import GraphStore, batched


def test_store_is_a_graph_store(store: FalkorDBStore) -> None:
    assert isinstance(store, GraphStore)
    assert store.health().ok


def test_batched_writes_and_plain_rows(store: FalkorDBStore) -> None:
    rows = [{"id": f"p{i}", "title": f"Product {i}"} for i in range(25)]
    summaries = list(
        store.write_batches(
            "UNWIND $rows AS row MERGE (p:Product {id: row.id}) SET p.title = row.title",
            rows,
            batch_size=10,
        )
    )
    assert len(summaries) == 3
    assert sum(s.nodes_created for s in summaries) == 25
    out = store.query(
        "MATCH (p:Product) WHERE p.id = $id RETURN p AS node, p.title AS t", {"id": "p3"}
    )
    assert out == [{"node": {"id": "p3", "title": "Product 3"}, "t": "Product 3"}]


def test_unique_constraint_holds(store: FalkorDBStore) -> None:
    store.execute("CREATE (:Product {id: 'x'})")
    with pytest.raises(GraphStoreError, match="unique constraint"):
        store.execute("CREATE (:Product {id: 'x'})")


def test_setup_is_idempotent(store: FalkorDBStore) -> None:
    assert store.setup(embedding_dim=384) == store.setup(embedding_dim=384)


def test_read_query_refuses_writes(store: FalkorDBStore) -> None:
    with pytest.raises(GraphStoreError):
        store.query("CREATE (:Product {id: 'y'})")


def test_unreachable_server_is_a_clear_error(graph_settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import free_port

    s = FalkorDBStore.from_settings(
        graph_settings.model_copy(update={"falkordb_port": free_port()})
    )
    assert not s.health().ok
    with pytest.raises(StoreUnavailable, match="cosmo db start"):
        s.query("RETURN 1")


def test_batched_rejects_zero() -> None:
    with pytest.raises(ValueError):
        list(batched([1], 0))
    assert [list(b) for b in batched(range(5), 2)] == [[0, 1], [2, 3], [4]]
