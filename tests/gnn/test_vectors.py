"""Embeddings written back to the graph (FalkorDB and Neo4j) and answered through its vector index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cosmo.core.errors import InputError
from cosmo.gnn import similar, write_embeddings
from cosmo.kg.export import KGTables


@pytest.fixture
def five_products(store, load_tables):  # type: ignore[no-untyped-def]
    ids = ["p1", "p2", "p3", "p4", "p5"]
    load_tables(
        store,
        KGTables.from_frames(
            products=pd.DataFrame({"id": ids, "title": [f"product {i}" for i in ids]})
        ),
    )
    return ids


def _vectors(dim: int) -> np.ndarray:
    v = np.zeros((5, dim), dtype=np.float32)
    v[0, 0] = 1.0
    v[1, :2] = [0.9, 0.1]  # nearest to p1
    v[2, :2] = [0.5, 0.5]  # second
    v[3, :2] = [0.05, 1.0]  # third, just
    v[4, 2] = 1.0  # orthogonal to p1
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_similar_goes_through_the_vector_index(store, five_products) -> None:  # type: ignore[no-untyped-def]
    # the store fixture made a 384-d index; an 8-d model replaces it
    n = write_embeddings(store, five_products, _vectors(8), batch_size=2)
    assert n == 5
    got = similar(store, "p1", k=3)
    assert [r["id"] for r in got] == ["p2", "p3", "p4"]
    assert got[0]["score"] == pytest.approx(float(_vectors(8)[0] @ _vectors(8)[1]), abs=1e-3)
    assert got[0]["score"] >= got[1]["score"] >= got[2]["score"]
    assert got[0]["title"] == "product p2"
    assert store.vector_index_dimensions("Product", "embedding") == 8
    # rewriting is idempotent and keeps the index
    assert write_embeddings(store, five_products, _vectors(8)) == 5
    assert [r["id"] for r in similar(store, "p1", k=1)] == ["p2"]


def test_unknown_product_or_no_embedding_gives_nothing(store, five_products) -> None:  # type: ignore[no-untyped-def]
    write_embeddings(store, five_products[:4], _vectors(8)[:4])
    assert similar(store, "ghost") == []
    assert similar(store, "p5") == []


def test_mismatched_lengths_and_bad_property(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError):
        write_embeddings(store, ["a"], np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(InputError):
        similar(store, "a", prop="x) DETACH DELETE (n")
