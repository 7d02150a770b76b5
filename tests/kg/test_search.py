"""Vector indexes, vector search and full-text search through the GraphStore methods.

Each test runs on the session's FalkorDB and Neo4j servers.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from cosmo.core.errors import InputError, SchemaError
from cosmo.kg.queries import Q_PRODUCTS
from cosmo.kg.search import FALKORDB, NEO4J, fulltext_words

DIM = 384  # the width both setups give the product index
TITLES = {
    "p1": "insulated winter sleeping bag",
    "p2": "down sleeping bag for camping",
    "p3": "four person dome tent",
    "p4": "merino wool socks",
    "p5": "yoga mat",
}


def _vectors() -> dict[str, np.ndarray]:
    v = np.zeros((4, DIM), dtype=np.float32)
    v[0, 0] = 1.0
    v[1, :2] = [0.9, 0.1]  # nearest to p1
    v[2, :2] = [0.5, 0.5]  # second
    v[3, 1] = 1.0
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return dict(zip(["p1", "p2", "p3", "p4"], v, strict=True))  # p5 has no vector


@pytest.fixture
def any_store(store: Any) -> Any:
    """The test's store on each backend (``db_settings`` is parametrised by backend)."""
    return store


@pytest.fixture
def products(any_store: Any) -> Any:
    rows = [{"id": i, "title": t, "type": None, "domain": None} for i, t in TITLES.items()]
    list(any_store.write_batches(Q_PRODUCTS, rows, extra={"run": "test"}))
    any_store.create_vector_index("Product", "embedding", DIM)
    assert any_store.write_vectors("Product", "embedding", _vectors().items(), batch_size=3) == 4
    return any_store


def test_vector_search_answers_cosine_similarity_best_first(products: Any) -> None:
    v = _vectors()
    rows = products.vector_search(
        "Product", "embedding", ["p1", "p5", "ghost"], 2, returns="{title: node.title}"
    )
    assert [(r["source"], r["id"]) for r in rows] == [("p1", "p2"), ("p1", "p3")]
    assert rows[0]["score"] == pytest.approx(float(v["p1"] @ v["p2"]), abs=1e-3)
    assert rows[1]["score"] == pytest.approx(float(v["p1"] @ v["p3"]), abs=1e-3)
    assert rows[0]["node"] == {"title": TITLES["p2"]}
    # rewriting the same vectors keeps the index and the answers
    assert products.write_vectors("Product", "embedding", _vectors().items()) == 4
    again = products.vector_search("Product", "embedding", ["p1"], 3)
    assert [r["id"] for r in again] == ["p2", "p3", "p4"]


def test_fulltext_search_takes_plain_words(products: Any) -> None:
    hits = products.fulltext_search("Product", "Sleeping-bag!! (winter)")
    assert {h["id"] for h in hits} == {"p1", "p2"}
    assert hits[0]["score"] >= hits[1]["score"]
    assert [h["id"] for h in products.fulltext_search("Product", "tent", 1)] == ["p3"]
    assert products.fulltext_search("Product", "* ? |") == []


def test_names_are_checked_before_they_reach_query_text(products: Any) -> None:
    with pytest.raises(SchemaError):
        products.vector_search("Product) DETACH DELETE (n", "embedding", ["p1"], 1)
    with pytest.raises(InputError):
        products.vector_search("Product", "x) DETACH DELETE (n", ["p1"], 1)
    with pytest.raises(InputError):
        products.fulltext_search("LoadRun", "anything")


def test_the_async_store_answers_the_same(products: Any, graph_settings: Any) -> None:
    from cosmo.kg.factory import open_async_store

    async def both() -> tuple[list[Any], list[Any]]:
        st = open_async_store(graph_settings)
        try:
            return (
                await st.vector_search("Product", "embedding", ["p1"], 2),
                await st.fulltext_search("Product", "tent"),
            )
        finally:
            await st.close()

    vec, text = asyncio.run(both())
    assert [r["id"] for r in vec] == ["p2", "p3"] and [h["id"] for h in text] == ["p3"]


def test_dialects_differ_only_inside_kg() -> None:
    assert fulltext_words("Hi, a Dome-tent for 4") == ["hi", "dome", "tent", "for"]
    assert FALKORDB.fulltext_query(["a", "b"]) == "a|b"
    assert NEO4J.fulltext_query(["a", "b"]) == "a OR b"
    assert FALKORDB.cosine(0.25) == pytest.approx(0.75)  # FalkorDB: a distance
    assert NEO4J.cosine(0.75) == pytest.approx(0.5)  # Neo4j: (1 + cos) / 2
    assert "db.index.vector.queryNodes('product_embedding'" in NEO4J.vector_call(
        "Product", "embedding"
    )
    assert "'product_title'" in NEO4J.fulltext_call("Product")
