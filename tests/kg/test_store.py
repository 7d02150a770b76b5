"""The graph store against real FalkorDB and Neo4j servers (each test runs on both)."""

from __future__ import annotations

import pytest

from cosmo.core.errors import GraphStoreError, StoreUnavailable
from cosmo.kg.store import GraphStore, batched


def test_store_is_a_graph_store(store: GraphStore) -> None:
    assert isinstance(store, GraphStore)
    assert store.health().ok


def test_batched_writes_and_plain_rows(store: GraphStore) -> None:
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


def test_unique_constraint_holds(store: GraphStore) -> None:
    store.execute("CREATE (:Product {id: 'x'})")
    with pytest.raises(GraphStoreError, match="unique constraint"):
        store.execute("CREATE (:Product {id: 'x'})")


def test_setup_is_idempotent(store: GraphStore) -> None:
    assert store.setup(embedding_dim=384) == store.setup(embedding_dim=384)


def test_read_query_refuses_writes(store: GraphStore) -> None:
    with pytest.raises(GraphStoreError):
        store.query("CREATE (:Product {id: 'y'})")


def test_unreachable_server_is_a_clear_error(graph_settings) -> None:  # type: ignore[no-untyped-def]
    from cosmo.kg.factory import open_store
    from tests.conftest import free_port

    port = free_port()
    s = open_store(
        graph_settings.model_copy(
            # the driver retries an unreachable server for neo4j_retry_s (30 s by default)
            update={
                "falkordb_port": port,
                "neo4j_uri": f"bolt://127.0.0.1:{port}",
                "neo4j_retry_s": 1.0,
            }
        )
    )
    assert not s.health().ok
    hint = "cosmo db start" if graph_settings.backend == "falkordb" else "COSMO_NEO4J_URI"
    with pytest.raises(StoreUnavailable, match=hint):
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


def test_tricky_strings_round_trip(store: GraphStore) -> None:
    from cosmo.kg.falkordb_store import params_header

    rows = [{"t": t, "n": i, "f": 0.5, "none": None, "l": [t, "x"]} for i, t in enumerate(TRICKY)]
    assert params_header({"rows": rows}) is not None  # FalkorDB takes its fast path for these
    store.execute(
        "UNWIND $rows AS r CREATE (:Product {id: toString(r.n), title: r.t, tags: r.l})",
        {"rows": rows},
    )
    got = store.query("MATCH (p:Product) RETURN p.title AS t, p.tags AS l ORDER BY toInteger(p.id)")
    assert [g["t"] for g in got] == TRICKY
    assert [g["l"] for g in got] == [[t, "x"] for t in TRICKY]


def test_what_json_spells_differently_round_trips(store: GraphStore) -> None:
    from cosmo.kg.falkordb_store import params_header

    odd = {"rows": [{"t": "ctrl\x01char"}]}
    assert params_header(odd) is None  # FalkorDB lets its client serialise these
    assert params_header({"rows": [{"bad key": 1}]}) is None
    assert params_header({"x": float("nan")}) is None
    store.execute("UNWIND $rows AS r CREATE (:Product {id: 'c', title: r.t})", odd)
    assert store.query("MATCH (p:Product {id: 'c'}) RETURN p.title AS t") == [{"t": "ctrl\x01char"}]


def test_nul_characters_are_refused_not_truncated(store: GraphStore) -> None:
    from cosmo.core.errors import InputError

    with pytest.raises(InputError, match="NUL"):
        store.execute("CREATE (:Product {id: $id})", {"id": "a\x00b"})
    with pytest.raises(InputError, match="NUL"):
        store.query("MATCH (p:Product {id: $id}) RETURN p.id AS id", {"id": "a\x00b"})
    assert store.query("MATCH (p:Product) RETURN count(p) AS n") == [{"n": 0}]


def test_text_spelling_the_nul_escape_is_stored(store: GraphStore) -> None:
    store.execute("CREATE (:Product {id: $id})", {"id": "spells \\u0000"})
    assert store.query("MATCH (p:Product) RETURN p.id AS id") == [{"id": "spells \\u0000"}]


KNOWLEDGE_LIKE = """UNWIND $rows AS row
MERGE (p:Product {id: row.id})
ON CREATE SET p.title = row.title, p.tags = []
WITH p, row, [t IN row.tags WHERE NOT t IN p.tags] AS fresh
SET p.tags = p.tags + fresh, p.domain = coalesce(row.domain, p.domain)"""


def test_batches_as_the_loader_sends_them(store: GraphStore) -> None:
    """run_batches (the loader's path, each store's prepared form) writes what the rows say."""
    from cosmo.kg.batches import run_batches

    rows = [
        {"id": str(i), "title": t, "tags": [t, "x"], "domain": None} for i, t in enumerate(TRICKY)
    ]
    rows.append({"id": "no-domain", "title": "a row without some keys", "tags": []})
    out = list(run_batches(store, [(KNOWLEDGE_LIKE, rows)], batch_size=3, params={}))
    assert sum(e[1].nodes_created for e in out if isinstance(e, tuple) and e[1]) == len(rows)
    got = store.query(
        "MATCH (p:Product) RETURN p.id AS id, p.title AS t, p.tags AS l, p.domain AS d"
    )
    by = {g["id"]: g for g in got}
    assert [by[str(i)]["t"] for i in range(len(TRICKY))] == TRICKY
    assert [by[str(i)]["l"] for i in range(len(TRICKY))] == [[t, "x"] for t in TRICKY]
    assert by["no-domain"]["l"] == [] and by["no-domain"]["d"] is None
    from cosmo.core.errors import InputError

    with pytest.raises(InputError, match="NUL"):
        list(
            run_batches(
                store, [(KNOWLEDGE_LIKE, [{"id": "n", "tags": ["a\x00"]}])], batch_size=3, params={}
            )
        )


def test_neo4j_rows_go_as_lists_where_the_query_reads_keys_only() -> None:
    from cosmo.kg.neo4j_store import positional
    from cosmo.kg.queries import Q_PRODUCTS, knowledge_query

    text, keys = positional(knowledge_query("Product", "USED_FOR_FUNC")) or ("", ())
    assert keys == ("h", "i", "pl", "ty", "pairs", "model", "prun")
    assert "row." not in text and "WITH r, row, [p IN row[4] WHERE" in text
    assert positional(Q_PRODUCTS) is not None
    assert positional(KNOWLEDGE_LIKE) == (
        KNOWLEDGE_LIKE.replace("row.id", "row[0]").replace("row.title", "row[1]")
        .replace("row.tags", "row[2]").replace("row.domain", "row[3]"),
        ("id", "title", "tags", "domain"),
    )  # fmt: skip
    for q in (
        "UNWIND $rows AS row RETURN row",
        "UNWIND $rows AS row MERGE (n:Product {id: row.id}) SET n += row",
        "UNWIND $rows AS row WITH x, row RETURN keys(row)",
        "MATCH (n) RETURN n.row",
        "UNWIND $other AS row RETURN row.a",
    ):
        assert positional(q) is None, q
