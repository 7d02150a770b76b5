"""The same loader and saved queries against a real Neo4j 5 (set NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD).

docker compose up -d neo4j
NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=... pytest -m neo4j
"""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr

from cosmo.core.settings import Settings
from cosmo.cypher import saved_queries
from cosmo.kg.loader import load_triples_file
from cosmo.kg.neo4j_store import Neo4jStore
from cosmo.kg.versions import graph_stats

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo4j_store():  # type: ignore[no-untyped-def]
    s = Settings(
        backend="neo4j",
        neo4j_uri=os.environ["NEO4J_URI"],
        neo4j_user=os.environ.get("NEO4J_USER", "neo4j"),
        neo4j_password=SecretStr(os.environ.get("NEO4J_PASSWORD", "")),
        neo4j_database=os.environ.get("NEO4J_DATABASE", "neo4j"),
    )
    store = Neo4jStore.from_settings(s)
    store.clear()
    store.setup(embedding_dim=384)
    yield store
    store.clear()
    store.close()


def test_load_is_idempotent_on_neo4j(neo4j_store, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.parquet"
    iqa_triples.head(300).to_parquet(path)
    load_triples_file(neo4j_store, path)
    first = graph_stats(neo4j_store)
    again = load_triples_file(neo4j_store, path)
    assert again.written.relationships_created == 0
    second = graph_stats(neo4j_store)
    first["nodes"].pop("LoadRun")
    second["nodes"].pop("LoadRun")
    assert first == second


def test_saved_queries_run_on_neo4j(neo4j_store, iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.parquet"
    iqa_triples.head(300).to_parquet(path)
    load_triples_file(neo4j_store, path)
    for name, q in saved_queries().items():
        neo4j_store.query(q.text, q.example)  # must not raise
        assert name
