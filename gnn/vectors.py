"""Node embeddings in the graph: write them back with a vector index, and query it.

FalkorDB stores vectors with ``vecf32(list)`` and answers nearest-neighbour queries with
``db.idx.vector.queryNodes(label, property, k, vector)`` (``score`` is a distance: lower
is closer). Neo4j uses ``db.create.setNodeVectorProperty`` and
``db.index.vector.queryNodes(index, k, vector)`` (``score`` is a similarity). Both are
hidden behind :func:`write_embeddings` and :func:`similar`, which return the same rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cosmo.core.errors import GraphStoreError, InputError

if TYPE_CHECKING:
    import numpy as np

    from cosmo.kg.store import GraphStore

__all__ = ["ensure_vector_index", "similar", "write_embeddings"]

_PROP = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,60}$")


def _prop(name: str) -> str:
    if not _PROP.match(name):
        raise InputError(f"not a valid property name: {name!r}", field="property")
    return name


def ensure_vector_index(store: GraphStore, dim: int, *, prop: str = "embedding") -> None:
    """Create the cosine vector index on ``Product.<prop>`` with dimension ``dim``.

    An existing index with another dimension is dropped and rebuilt (FalkorDB), so a
    retrained model with a different width replaces the old vectors' index.
    """
    p = _prop(prop)
    if store.backend == "neo4j":
        store.execute(
            f"CREATE VECTOR INDEX product_{p} IF NOT EXISTS FOR (n:Product) ON (n.{p}) "
            f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(dim)}, "
            "`vector.similarity_function`: 'cosine'}}"
        )
        return
    rows = store.query(
        "CALL db.indexes() YIELD label, properties, types, options RETURN label, properties, types, options"
    )
    for r in rows:
        types = r.get("types") or {}
        kinds = types.get(p, []) if isinstance(types, Mapping) else []
        if r.get("label") == "Product" and "VECTOR" in [str(k).upper() for k in kinds]:
            opts = (r.get("options") or {}).get(p) or {}
            if int(opts.get("dimension", -1)) == int(dim):
                return
            store.execute(f"DROP VECTOR INDEX FOR (p:Product) ON (p.{p})")
    store.execute(
        f"CREATE VECTOR INDEX FOR (p:Product) ON (p.{p}) "
        f"OPTIONS {{dimension: {int(dim)}, similarityFunction: 'cosine'}}"
    )


def write_embeddings(
    store: GraphStore,
    ids: Sequence[str],
    vectors: np.ndarray,
    *,
    prop: str = "embedding",
    batch_size: int = 1000,
    index: bool = True,
) -> int:
    """Set ``Product.<prop>`` for each id (batched ``UNWIND $rows``); returns nodes updated.

    Raises:
        InputError: ids and vectors differ in length.
    """
    if len(ids) != len(vectors):
        raise InputError(f"{len(ids)} ids but {len(vectors)} vectors", field="embedding")
    p = _prop(prop)
    if index and len(vectors):
        ensure_vector_index(store, int(vectors.shape[1]), prop=p)
    if store.backend == "neo4j":
        cypher = (
            "UNWIND $rows AS row MATCH (n:Product {id: row.id}) "
            f"CALL db.create.setNodeVectorProperty(n, '{p}', row.v) RETURN count(n) AS n"
        )
    else:
        cypher = f"UNWIND $rows AS row MATCH (n:Product {{id: row.id}}) SET n.{p} = vecf32(row.v) RETURN count(n) AS n"
    rows = ({"id": str(i), "v": [float(x) for x in v]} for i, v in zip(ids, vectors, strict=True))
    done = 0
    for summary in store.write_batches(cypher, rows, batch_size=batch_size):
        done += sum(int(r.get("n", 0)) for r in summary.rows)
    return done


def similar(
    store: GraphStore, product_id: str, k: int = 10, *, prop: str = "embedding"
) -> list[dict[str, Any]]:
    """The ``k`` products nearest to ``product_id`` by the vector index (itself excluded).

    Returns rows ``{"id", "title", "score"}`` with ``score`` a cosine similarity (higher is
    closer), best first. A product without an embedding gives an empty list.

    Raises:
        GraphStoreError: the backend has no vector index on ``Product.<prop>``.
    """
    p = _prop(prop)
    # ask for a few more than k: the product itself comes back, and a rewritten vector may
    # briefly appear twice in FalkorDB's HNSW index
    params = {"id": str(product_id), "k": 2 * int(k) + 10, "limit": 2 * int(k) + 10}
    if store.backend == "neo4j":
        cypher = (
            f"MATCH (p:Product {{id: $id}}) WHERE p.{p} IS NOT NULL "
            f"CALL db.index.vector.queryNodes('product_{p}', $k, p.{p}) YIELD node, score "
            "WHERE node.id <> $id RETURN node.id AS id, node.title AS title, score "
            "ORDER BY score DESC LIMIT $limit"
        )
        return _dedupe(store.query(cypher, params), k)
    cypher = (
        f"MATCH (p:Product {{id: $id}}) WHERE p.{p} IS NOT NULL "
        f"CALL db.idx.vector.queryNodes('Product', '{p}', $k, p.{p}) YIELD node, score "
        "WITH node, score WHERE node.id <> $id "
        "RETURN node.id AS id, node.title AS title, score ORDER BY score ASC LIMIT $limit"
    )
    try:
        rows = store.query(cypher, params)
    except GraphStoreError as e:
        raise GraphStoreError(
            f"{e}. Write embeddings first: `cosmo gnn embed` creates the vector index."
        ) from e
    # FalkorDB's cosine score is a distance (1 - cosine)
    return _dedupe(
        [{"id": r["id"], "title": r["title"], "score": 1.0 - float(r["score"])} for r in rows], k
    )


def _dedupe(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["id"] not in seen:
            seen.add(r["id"])
            out.append(r)
    return out[:k]
