"""Fixtures of the GNN tests: a deterministic fake embedder, the real MiniLM, small graphs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


class HashEmbedder:
    """A fake :class:`cosmo.core.embeddings.Embedder`: bag of hashed words, unit length."""

    def __init__(self, dim: int = 16) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for n, t in enumerate(texts):
            for w in t.lower().split():
                h = int(hashlib.md5(w.encode()).hexdigest(), 16)
                out[n, h % self.dim] += 1.0 if (h >> 8) % 2 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The real packaged MiniLM, loaded once for the session."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture
def tiny_tables():  # type: ignore[no-untyped-def]
    """A 4-node graph: two products, one query, one intention; every edge type once."""
    from cosmo.kg.export import KGTables

    return KGTables.from_frames(
        products=pd.DataFrame(
            [
                {"id": "p2", "title": "sleeping bag for winter", "type": "bag"},
                {"id": "p1", "title": "camping tent", "type": "tent"},
            ]
        ),
        queries=pd.DataFrame([{"key": "winter camping", "text": "Winter camping"}]),
        intentions=pd.DataFrame(
            [{"id": "activity:1", "text": "camping in cold weather", "tail_type": "activity"}]
        ),
        search_buy=pd.DataFrame([{"query_key": "winter camping", "product_id": "p1", "count": 3}]),
        co_buy=pd.DataFrame([{"a": "p1", "b": "p2", "count": 2}]),
        knowledge=pd.DataFrame(
            [
                {
                    "head_label": "Product",
                    "head_id": "p1",
                    "relation": "USED_TO",
                    "intention_id": "activity:1",
                    "plausibility": 0.9,
                    "typicality": 0.8,
                },
                {
                    "head_label": "Product",
                    "head_id": "p2",
                    "relation": "USED_TO",
                    "intention_id": "activity:1",
                    "plausibility": 0.7,
                },
                {
                    "head_label": "Query",
                    "head_id": "winter camping",
                    "relation": "USED_TO",
                    "intention_id": "activity:1",
                },
            ]
        ),
    )


@pytest.fixture(scope="session")
def iqa_dir(shared_data: Path) -> Path:
    return shared_data / "intentionqa"


def _load_tables(store, tables) -> None:  # type: ignore[no-untyped-def]
    """Write KG tables into a graph store with plain Cypher (the schema of cosmo.core.schema)."""
    from cosmo.core.schema import relation_type

    def rows(df: pd.DataFrame) -> list[dict]:
        return [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
            for r in df.to_dict("records")
        ]

    list(
        store.write_batches(
            "UNWIND $rows AS row MERGE (p:Product {id: row.id}) SET p.title = row.title, p.type = row.type, p.domain = row.domain, p.brand = row.brand",
            rows(tables.products),
        )
    )
    list(
        store.write_batches(
            "UNWIND $rows AS row MERGE (q:Query {key: row.key}) SET q.text = row.text",
            rows(tables.queries),
        )
    )
    list(
        store.write_batches(
            "UNWIND $rows AS row MERGE (i:Intention {id: row.id}) SET i.text = row.text, i.tail_type = row.tail_type",
            rows(tables.intentions[["id", "text", "tail_type"]]),
        )
    )
    list(
        store.write_batches(
            "UNWIND $rows AS row MATCH (q:Query {key: row.query_key}), (p:Product {id: row.product_id}) MERGE (q)-[r:SEARCH_BUY]->(p) SET r.count = row.count",
            rows(tables.search_buy),
        )
    )
    list(
        store.write_batches(
            "UNWIND $rows AS row MATCH (a:Product {id: row.a}), (b:Product {id: row.b}) MERGE (a)-[r:CO_BUY]->(b) SET r.count = row.count",
            rows(tables.co_buy),
        )
    )
    kn = tables.knowledge.drop(columns=["sources"])
    for (head, rel), part in kn.groupby(["head_label", "relation"]):
        key = "id" if head == "Product" else "key"
        list(
            store.write_batches(
                f"UNWIND $rows AS row MATCH (h:{head} {{{key}: row.head_id}}), (i:Intention {{id: row.intention_id}}) "
                f"MERGE (h)-[r:{relation_type(rel)}]->(i) SET r.plausibility = row.plausibility, r.typicality = row.typicality, r.frequency = row.frequency",
                rows(part),
            )
        )


@pytest.fixture
def load_tables():  # type: ignore[no-untyped-def]
    return _load_tables


class CachedEmbedder:
    """Wraps an embedder so each distinct text is embedded once per test session."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        from cosmo.core.embeddings import TextVectors

        self.vectors = TextVectors(inner)
        self.dim = inner.dim

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        return self.vectors(list(texts))


@pytest.fixture(scope="session")
def cached_minilm(minilm) -> CachedEmbedder:  # type: ignore[no-untyped-def]
    return CachedEmbedder(minilm)


@pytest.fixture(scope="session")
def iqa_slice(iqa_dir: Path):  # type: ignore[no-untyped-def]
    """The first 60 questions of each task (real data)."""
    from cosmo.ingest.intentionqa import load_questions

    return load_questions(iqa_dir / "task1.jsonl", limit=60), load_questions(
        iqa_dir / "task2.jsonl", limit=60
    )
