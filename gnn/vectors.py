"""Node embeddings in the graph: write them back with a vector index, and query it.

The graph store does the database-specific part (the vector index, the vector values, the
nearest-neighbour search: :mod:`cosmo.kg.search`); this module says what the GNN keeps
there: one vector per product, in ``Product.<prop>`` (``embedding`` by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cosmo.core.errors import GraphStoreError, InputError

if TYPE_CHECKING:
    import numpy as np

    from cosmo.kg.store import GraphStore

__all__ = ["ensure_vector_index", "similar", "write_embeddings"]


def ensure_vector_index(store: GraphStore, dim: int, *, prop: str = "embedding") -> None:
    """Create the cosine vector index on ``Product.<prop>`` with dimension ``dim``.

    An existing index with another dimension is replaced where the database needs that,
    so a retrained model with a different width replaces the old vectors' index.
    """
    store.create_vector_index("Product", prop, dim)


def write_embeddings(
    store: GraphStore,
    ids: Sequence[str],
    vectors: np.ndarray,
    *,
    prop: str = "embedding",
    batch_size: int = 1000,
    index: bool = True,
) -> int:
    """Set ``Product.<prop>`` for each id (batched); returns the nodes updated.

    Raises:
        InputError: ids and vectors differ in length, or ``prop`` is not a property name.
    """
    if len(ids) != len(vectors):
        raise InputError(f"{len(ids)} ids but {len(vectors)} vectors", field="embedding")
    if index and len(vectors):
        ensure_vector_index(store, int(vectors.shape[1]), prop=prop)
    pairs = zip((str(i) for i in ids), vectors, strict=True)
    return store.write_vectors("Product", prop, pairs, batch_size=batch_size)


def similar(
    store: GraphStore, product_id: str, k: int = 10, *, prop: str = "embedding"
) -> list[dict[str, Any]]:
    """The ``k`` products nearest to ``product_id`` by the vector index (itself excluded).

    Returns rows ``{"id", "title", "score"}`` with ``score`` a cosine similarity (higher is
    closer), best first. A product without an embedding gives an empty list.

    Raises:
        GraphStoreError: there is no vector index on ``Product.<prop>``.
    """
    try:
        hits = store.vector_search("Product", prop, [str(product_id)], int(k))
    except GraphStoreError as e:
        raise GraphStoreError(
            f"{e}. Write embeddings first: `cosmo gnn embed` creates the vector index."
        ) from e
    if not hits:
        return []
    titles = {
        r["id"]: r["title"]
        for r in store.query(
            "UNWIND $ids AS k MATCH (p:Product {id: k}) RETURN p.id AS id, p.title AS title",
            {"ids": [h["id"] for h in hits]},
        )
    }
    return [{"id": h["id"], "title": titles.get(h["id"]), "score": h["score"]} for h in hits]
