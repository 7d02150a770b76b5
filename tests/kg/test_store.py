"""The graph store against a real FalkorDB server."""

from __future__ import annotations

import pytest

from cosmo.core.errors import GraphStoreError, StoreUnavailable
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


TRICKY = [
    "plain",
    "quote \" and ' both",
    "back\\slash \\u0041 not an escape",
    "new\nline\ttab\rreturn",
    "café ünïcode 😀",
    "x'}) MATCH (n) DETACH DELETE n //",
    '{"h": "not a key"}',
    "",
]


def test_fast_parameter_header_round_trips(store: FalkorDBStore) -> None:
    from cosmo.kg.falkordb_store import params_header

    rows = [{"t": t, "n": i, "f": 0.5, "none": None, "l": [t, "x"]} for i, t in enumerate(TRICKY)]
    assert params_header({"rows": rows}) is not None
    store.execute(
        "UNWIND $rows AS r CREATE (:Product {id: toString(r.n), title: r.t, tags: r.l})",
        {"rows": rows},
    )
    got = store.query("MATCH (p:Product) RETURN p.title AS t, p.tags AS l ORDER BY toInteger(p.id)")
    assert [g["t"] for g in got] == TRICKY
    assert [g["l"] for g in got] == [[t, "x"] for t in TRICKY]


def test_header_falls_back_for_what_json_spells_differently(store: FalkorDBStore) -> None:
    from cosmo.kg.falkordb_store import params_header

    odd = {"rows": [{"t": "ctrl\x01char"}]}
    assert params_header(odd) is None
    assert params_header({"rows": [{"bad key": 1}]}) is None
    assert params_header({"x": float("nan")}) is None
    store.execute("UNWIND $rows AS r CREATE (:Product {id: 'c', title: r.t})", odd)
    assert store.query("MATCH (p:Product {id: 'c'}) RETURN p.title AS t") == [{"t": "ctrl\x01char"}]


def test_nul_characters_are_refused_not_truncated(store: FalkorDBStore) -> None:
    from cosmo.core.errors import InputError

    with pytest.raises(InputError, match="NUL"):
        store.execute("CREATE (:Product {id: $id})", {"id": "a\x00b"})
    with pytest.raises(InputError, match="NUL"):
        store.query("MATCH (p:Product {id: $id}) RETURN p.id AS id", {"id": "a\x00b"})
    assert store.query("MATCH (p:Product) RETURN count(p) AS n") == [{"n": 0}]
