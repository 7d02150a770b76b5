"""Fixtures for the API tests: a small graph loaded with the real KG loader, an app, a client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

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
        rows = [{"id": k, "e": [float(x) for x in v] + [0.0] * 5} for k, v in vecs.items()]
        store.execute(
            "UNWIND $rows AS r MATCH (p:Product {id: r.id}) SET p.embedding = vecf32(r.e)",
            {"rows": rows},
        )


@pytest.fixture(scope="session")
def api_graph(db_settings: Any) -> Iterator[Any]:
    """Settings of a session-wide read-only graph holding the sample."""
    from cosmo.kg.falkordb_store import FalkorDBStore

    settings = db_settings.model_copy(update={"graph": f"api_{uuid.uuid4().hex[:8]}"})
    store = FalkorDBStore.from_settings(settings)
    store.setup(embedding_dim=8)
    load_graph(store)
    yield settings
    store.clear()
    store.close()


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
def make_client(api_graph: Any, prefix: str) -> Iterator[Any]:
    """Build an app on the sample graph (own Redis key prefix) and a TestClient for it."""
    from fastapi.testclient import TestClient

    from cosmo.api import ApiSettings, create_app
    from cosmo.kg.factory import open_async_store

    made: list[Any] = []

    def make(graph_settings: Any = None, **kw: Any) -> tuple[Any, CountingStore]:
        gs = graph_settings or api_graph
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
