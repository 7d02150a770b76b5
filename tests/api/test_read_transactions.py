"""Every API query runs in a Neo4j read transaction, so a cluster's routing driver
(``neo4j://``) may send it to a secondary / read replica.

Two halves, both on the session's real Neo4j server:

* the server refuses a write in the transaction the API's store opens (access mode READ),
  so a read transaction is what that entry point gives;
* a driver that records every way in, under a real app answering every root query field
  over HTTP, sees only that entry point, always with ``routing_=READ``: a session, a
  ``begin_transaction`` or an ``execute_query`` with WRITE routing would fail the test.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cosmo.core.errors import GraphStoreError
from cosmo.kg.neo4j_store import AsyncNeo4jStore, Neo4jStore
from tests.api.conftest import load_sample
from tests.api.test_schema import NAV_Q, PRODUCT_Q
from tests.conftest import serve_app

pytestmark = pytest.mark.single_backend("Neo4j access modes; FalkorDB reads use GRAPH.RO_QUERY")

QUERIES = [
    (PRODUCT_Q, {"id": "P1"}),
    (NAV_Q, {"q": "winter camping", "sel": None}),
    ('{ products(ids: ["P1", "P2"]) { id title } }', {}),
    ('{ searchQuery(text: "warm socks") { key known } }', {}),
    ('{ intention(id: "nope") { id } }', {}),
    ('{ recommend(session: ["P1"], k: 3) { score product { id } } }', {}),
    ('{ relevance(query: "winter camping", productIds: ["P1", "P3"]) { productId score } }', {}),
]


class RecordingDriver:
    """An async Neo4j driver that records how each query enters, and allows one way only."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.routes: list[Any] = []

    async def execute_query(self, query: Any, params: Any = None, **kw: Any) -> Any:
        self.routes.append(kw.get("routing_"))
        return await self.inner.execute_query(query, params, **kw)

    async def verify_connectivity(self) -> None:
        await self.inner.verify_connectivity()

    async def close(self) -> None:
        await self.inner.close()

    def __getattr__(self, name: str) -> Any:  # session(), begin_transaction(), ...
        raise AssertionError(f"the API entered Neo4j through driver.{name}")


def test_the_stores_read_transaction_refuses_writes(neo4j_settings: Any) -> None:
    async def attempt() -> None:
        store = AsyncNeo4jStore.from_settings(neo4j_settings)
        try:
            with pytest.raises(GraphStoreError, match=r"read access mode|AccessMode"):
                await store.query("CREATE (n:ReadOnlyProbe) RETURN n")
        finally:
            await store.close()

    asyncio.run(attempt())
    sync = Neo4jStore.from_settings(neo4j_settings)
    try:
        with pytest.raises(GraphStoreError, match=r"read access mode|AccessMode"):
            sync.query("CREATE (n:ReadOnlyProbe) RETURN n")
        assert sync.query("MATCH (n:ReadOnlyProbe) RETURN count(n) AS n") == [{"n": 0}]
    finally:
        sync.close()


def test_every_api_query_runs_in_a_read_transaction(neo4j_settings: Any) -> None:
    import httpx
    from neo4j import RoutingControl

    from cosmo.api import ApiSettings, create_app

    load_sample(neo4j_settings)
    store = AsyncNeo4jStore.from_settings(neo4j_settings)
    driver = RecordingDriver(store.driver)
    store.driver = driver  # type: ignore[assignment]
    # what is checked is the access mode, not speed: a generous query timeout for a busy host
    settings = ApiSettings(key_prefix="cosmo:readtx:", db_timeout_ms=60_000)
    app = create_app(settings, core=neo4j_settings, store=store)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        for query, variables in QUERIES:
            res = client.post("/graphql", json={"query": query, "variables": variables})
            assert res.status_code == 200 and "errors" not in res.json(), res.text
        assert client.get("/readyz").status_code == 200
    assert len(driver.routes) >= len(QUERIES)
    assert set(driver.routes) == {RoutingControl.READ}, driver.routes
