"""Fixtures for the API tests: a small graph loaded with the real KG loader, an app, a client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cosmo.core.errors import GraphStoreError
from cosmo.kg.search import AsyncSearch

PRODUCTS = [
    ("P1", "Coleman North Rim sleeping bag, 0 degrees", "sleeping bag", "outdoors"),
    ("P2", "4-person dome camping tent", "tent", "outdoors"),
    ("P3", "Merino wool thermal socks", "socks", "clothing"),
    ("P4", "Kids insulated winter jacket", "jacket", "clothing"),
    ("P5", "Waterproof hiking boots", "boots", "outdoors"),
    ("P6", "Non-slip yoga mat", "yoga mat", "sports"),
]
SEARCH_BUY = [
    ("winter camping", "P1", 5),
    ("winter camping", "P2", 3),
    ("warm socks", "P3", 4),
    ("yoga", "P6", 2),
]
CO_BUY = [("P1", "P2", 7), ("P1", "P3", 2), ("P2", "P5", 4)]
# (behaviour, source, target, relation, tail, plausibility)
TRIPLES = [
    ("search_buy", "winter camping", "P1", "USED_FOR_EVE", "camping in cold weather", 0.95),
    ("search_buy", "winter camping", "P1", "CAPABLE_OF", "keeping warm at night", 0.9),
    ("search_buy", "winter camping", "P2", "USED_FOR_EVE", "camping in cold weather", 0.85),
    ("search_buy", "warm socks", "P3", "CAPABLE_OF", "keeping warm at night", 0.7),
    ("search_buy", "warm socks", "P3", "USED_IN_BODY", "feet", 0.8),
    ("search_buy", "yoga", "P6", "USED_TO", "practise yoga", 0.9),
    ("co_buy", "P1", "P2", "USED_FOR_EVE", "camping in cold weather", 0.9),
    ("co_buy", "P1", "P3", "CAPABLE_OF", "keeping warm at night", 0.6),
    ("co_buy", "P2", "P5", "USED_TO", "go hiking", 0.8),
    ("co_buy", "P2", "P5", "USED_FOR_AUD", "outdoor enthusiasts", 0.5),
]


def load_graph(store: Any, *, embed: bool = True) -> None:
    """Load the sample graph with the real loader (catalogue, behaviour, triples)."""
    from cosmo.kg.loader import load_behaviour, load_triples
    from cosmo.kg.validate import validate_triples

    titles = {p[0]: p[1] for p in PRODUCTS}
    load_behaviour(
        store,
        products=pd.DataFrame(PRODUCTS, columns=["product_id", "title", "product_type", "domain"]),
        search_buy=pd.DataFrame(SEARCH_BUY, columns=["query", "product_id", "count"]),
        co_buy=pd.DataFrame(CO_BUY, columns=["product_a", "product_b", "count"]),
    )
    df = pd.DataFrame(
        TRIPLES, columns=["behaviour", "source", "target", "relation", "tail", "plausibility"]
    )
    df["target_title"] = df["target"].map(titles)
    df["model"] = "test-model"
    checked = validate_triples(df, np.arange(2, len(df) + 2), file="<api-test>")
    assert not checked.errors, checked.errors
    load_triples(store, checked.frame)
    if embed:
        # cosine neighbours of P1: P2 (closest), then P3; the rest point elsewhere
        vecs = {
            "P1": [1, 0, 0],
            "P2": [1, 0.1, 0],
            "P3": [1, 0.6, 0],
            "P4": [0, 1, 0],
            "P5": [0, 0, 1],
            "P6": [0, 1, 1],
        }
        rows = [(k, [float(x) for x in v] + [0.0] * 5) for k, v in vecs.items()]
        store.write_vectors("Product", "embedding", rows)


def load_sample(settings: Any) -> None:
    """Empty the graph ``settings`` name, set it up and load the sample into it."""
    from cosmo.kg.factory import open_store

    store = open_store(settings)
    try:
        store.clear()
        store.setup(embedding_dim=8)
        load_graph(store)
    finally:
        store.close()


@pytest.fixture(scope="session")
def _api_graph_session(db_settings: Any) -> Iterator[Any]:
    from cosmo.kg.factory import open_store

    settings = db_settings.model_copy(update={"graph": f"api_{uuid.uuid4().hex[:8]}"})
    yield settings
    store = open_store(settings)
    store.clear()
    store.close()


def _holds_the_sample(store: Any) -> bool:
    """True when the graph still holds exactly the sample (and its indexes)."""
    try:  # FalkorDB refuses a query on a graph that does not exist yet
        n = store.query("MATCH (p:Product) RETURN count(p) AS n")[0]["n"]
        store.fulltext_search("Product", "socks")
    except GraphStoreError:
        return False
    return n == len(PRODUCTS) and store.vector_index_dimensions("Product", "embedding") == 8


@pytest.fixture
def api_graph(_api_graph_session: Any) -> Any:
    """Settings of a read-only graph holding the sample, loaded once and reused.

    On FalkorDB it is a graph of its own for the whole session. Neo4j Community has one
    database, which other tests empty, so there the sample is loaded again when it is gone.
    """
    from cosmo.kg.factory import open_store

    store = open_store(_api_graph_session)
    try:
        if not _holds_the_sample(store):
            store.clear()
            store.setup(embedding_dim=8)
            load_graph(store)
    finally:
        store.close()
    return _api_graph_session


class CountingStore(AsyncSearch):
    """An AsyncGraphStore wrapper that counts database round trips (searches included)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.dialect = inner.dialect  # type: ignore[misc]
        self.calls: list[str] = []

    async def query(self, cypher: str, params: Any = None, *, timeout_ms: int | None = None) -> Any:
        self.calls.append(cypher)
        return await self.inner.query(cypher, params, timeout_ms=timeout_ms)

    async def health(self) -> Any:
        return await self.inner.health()

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture
def prefix() -> str:
    return f"cosmo:t{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def make_client(request: pytest.FixtureRequest, db_settings: Any, prefix: str) -> Iterator[Any]:
    """Build an app on the sample graph (own Redis key prefix) and a TestClient for it.

    The sample is loaded only for an app on it: on Neo4j's one database, loading it would
    replace the graph a test built for ``make(graph_settings)``.
    """
    from fastapi.testclient import TestClient

    from cosmo.api import ApiSettings, create_app
    from cosmo.kg.factory import open_async_store

    made: list[Any] = []

    def make(graph_settings: Any = None, **kw: Any) -> tuple[Any, CountingStore]:
        gs = graph_settings or request.getfixturevalue("api_graph")
        # the response cache is off unless a test asks for it, so round trips stay countable
        kw.setdefault("response_cache_size", 0)
        api_kw = {k: kw.pop(k) for k in list(kw) if k in ApiSettings.model_fields}
        settings = ApiSettings(key_prefix=prefix, **api_kw)
        store = CountingStore(open_async_store(gs))
        app = create_app(settings, core=gs, store=store, **kw)
        client = TestClient(app)
        client.__enter__()
        made.append(client)
        return client, store

    yield make
    for c in made:
        c.__exit__(None, None, None)


def _gql(
    client: Any,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    r = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert r.status_code in (200, 400), r.text
    return r.json()


@pytest.fixture
def gql() -> Any:
    """``gql(client, query, variables, headers)`` -> the JSON answer."""
    return _gql
