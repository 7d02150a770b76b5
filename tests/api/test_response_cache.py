"""The response cache: hits skip the database, graph changes invalidate, nothing unsafe is kept."""

from __future__ import annotations

from typing import Any

from cosmo.api.http.response_cache import cacheable_document
from cosmo.api.services.version import FINGERPRINT

PRODUCT_Q = """query($id: ID!) { product(id: $id) { id title
  intentions(first: 2) { totalCount edges { node { relation intention { text } } } } } }"""


def _graph_calls(store: Any) -> list[str]:
    """Round trips other than the version fingerprint."""
    return [c for c in store.calls if c not in FINGERPRINT]


def test_repeated_query_is_answered_from_the_cache(make_client: Any, gql: Any) -> None:
    client, store = make_client(response_cache_size=100, response_cache_check_s=0)
    first = gql(client, PRODUCT_Q, {"id": "P1"}, {"Accept": "application/json"})
    assert first["data"]["product"]["title"].startswith("Coleman")
    reads = len(_graph_calls(store))
    assert reads >= 1
    store.calls.clear()
    # the same document with other whitespace and the same variables: a hit, no graph read
    again = gql(client, " ".join(PRODUCT_Q.split()), {"id": "P1"})
    assert again == first
    assert _graph_calls(store) == [] and len(store.calls) == 3  # only the version check
    other = gql(client, PRODUCT_Q, {"id": "P2"})  # other variables: a miss
    assert other["data"]["product"]["id"] == "P2" and len(_graph_calls(store)) == reads
    cache = client.app.state.response_cache
    assert (cache.hits, cache.misses, len(cache)) == (1, 2, 2)
    text = client.get("/metrics").text
    assert 'cosmo_api_response_cache_total{result="hit"} 1.0' in text
    assert 'cosmo_api_response_cache_total{result="miss"} 2.0' in text
    assert "cosmo_api_response_cache_entries 2.0" in text


def test_graph_changes_invalidate(
    graph_settings: Any, store: Any, make_client: Any, gql: Any
) -> None:
    import asyncio

    import redis

    from cosmo.api.services.version import bump_graph_version

    store.execute("CREATE (:Product {id: 'X1', title: 'lamp'})")
    client, _ = make_client(graph_settings, response_cache_size=100, response_cache_check_s=0)
    q = '{ product(id: "X1") { title } }'
    assert gql(client, q)["data"]["product"]["title"] == "lamp"
    # a new node changes the fingerprint (counts): the next answer is fresh
    store.execute("CREATE (:Product {id: 'X2', title: 'desk'})")
    store.execute("MATCH (p:Product {id: 'X1'}) SET p.title = 'table lamp'")
    assert gql(client, q)["data"]["product"]["title"] == "table lamp"
    # a property-only write is invisible to the counts until a writer bumps the stamp
    store.execute("MATCH (p:Product {id: 'X1'}) SET p.title = 'floor lamp'")
    assert gql(client, q)["data"]["product"]["title"] == "table lamp"
    prefix = client.app.state.services.settings.key_prefix
    r = redis.asyncio.Redis.from_url(graph_settings.cache_url, decode_responses=True)

    async def bump() -> int:
        try:
            return await bump_graph_version(r, prefix)
        finally:
            await r.aclose()

    assert asyncio.run(bump()) >= 1
    assert gql(client, q)["data"]["product"]["title"] == "floor lamp"
    # a load run (kg/versions) changes it too
    store.execute("CREATE (:LoadRun {id: 'r1', seq: 1, status: 'done', done_batches: 1})")
    store.execute("MATCH (p:Product {id: 'X1'}) SET p.title = 'lamp again'")
    store.execute("MATCH (r:LoadRun {id: 'r1'}) SET r.status = 'rolled_back'")
    assert gql(client, q)["data"]["product"]["title"] == "lamp again"


def test_check_interval_bounds_staleness(
    graph_settings: Any, store: Any, make_client: Any, gql: Any
) -> None:
    store.execute("CREATE (:Product {id: 'X1', title: 'lamp'})")
    client, st = make_client(graph_settings, response_cache_size=100, response_cache_check_s=60)
    q = '{ product(id: "X1") { title } }'
    for _ in range(5):
        assert gql(client, q)["data"]["product"]["title"] == "lamp"
    # one fingerprint read for five requests within the interval, one graph read
    assert len(st.calls) == 4


def test_errors_and_mutations_are_never_cached(make_client: Any, gql: Any) -> None:
    key = "s3cret"
    client, _ = make_client(response_cache_size=100, response_cache_check_s=0, api_key=key)
    bad = '{ product(id: "P1") { intentions(after: "nope") { totalCount } } }'
    for _ in range(2):
        assert gql(client, bad)["errors"][0]["message"].startswith("invalid cursor")
    mut = """mutation { annotate(input: {subject: "yoga", relation: "USED_TO",
        intention: "practise yoga", verdict: GOOD}) { id } }"""
    ids = {gql(client, mut, headers={"X-API-Key": key})["data"]["annotate"]["id"] for _ in range(2)}
    assert len(ids) == 2  # both reached Redis
    cache = client.app.state.response_cache
    assert len(cache) == 0 and cache.hits == 0
    assert 'cosmo_api_graphql_errors_total{code="BAD_REQUEST"} 2.0' in client.get("/metrics").text


def test_answers_outside_the_graph_are_not_cacheable() -> None:
    assert cacheable_document('{ product(id: "P1") { id } }', None, 2000) is not None
    assert (
        cacheable_document('{ explain(query: "q", productId: "P1") { status } }', None, 2000)
        is None
    )
    assert (
        cacheable_document(
            'query A { product(id: "P1") { id } } fragment F on SearchQuery { features { explained } }',
            "A",
            2000,
        )
        is None
    )
    assert cacheable_document("mutation { refreshExplanations { queries } }", None, 2000) is None
    assert cacheable_document("{ product(", None, 2000) is None  # Strawberry reports it
    for field in ("similar(k: 2) { score }", "embedding"):
        assert cacheable_document(f'{{ product(id: "P1") {{ {field} }} }}', None, 2000) is None
    two = 'query A { product(id: "P1") { id } } query B { intention(id: "x") { id } }'
    assert cacheable_document(two, None, 2000) is None and cacheable_document(two, "B", 2000)


def test_cached_answers_get_the_callers_cors_headers(make_client: Any) -> None:
    client, _ = make_client(
        response_cache_size=100,
        response_cache_check_s=0,
        cors_origins=["https://a.example", "https://b.example"],
    )
    body = {"query": '{ product(id: "P1") { id } }'}
    for origin in ("https://a.example", "https://b.example"):
        r = client.post("/graphql", json=body, headers={"Origin": origin})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == origin
    assert client.app.state.response_cache.hits == 1
