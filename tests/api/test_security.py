"""Limits and safety: depth/alias/cost bombs, page sizes, injection, API keys, body size,
timeouts, CORS, and a database outage with automatic recovery (a real server stopped and
started again)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.conftest import free_port

KEY = "s3cret-key"

INJECTIONS = [
    "' OR 1=1 --",
    '"}) MATCH (n) DETACH DELETE n //',
    "P1'}) DETACH DELETE p WITH 1 AS x MATCH (y",
    "$ids",
    "\\u0000\x00",
    "<script>alert(1)</script>",
    "*:* | @title:{x} -P1",
    "CALL db.idx.fulltext.drop('Product')",
    "😀" * 20,
]


def _counts(store: Any) -> tuple[int, int]:
    n = store.query("MATCH (n) RETURN count(n) AS n")[0]["n"]
    r = store.query("MATCH ()-[r]->() RETURN count(r) AS n")[0]["n"]
    return n, r


@pytest.fixture
def graph_store(api_graph: Any) -> Any:
    from cosmo.kg.factory import open_store

    s = open_store(api_graph)
    yield s
    s.close()


def _nest(depth: int) -> str:
    q = "id"
    for _ in range(depth):
        q = f"coBought {{ edges {{ node {{ product {{ {q} }} }} }} }}"
    return f'{{ product(id: "P1") {{ {q} }} }}'


def test_depth_bomb_is_rejected_before_the_database(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    out = gql(client, _nest(30))
    assert "exceeds maximum operation depth" in out["errors"][0]["message"]
    assert store.calls == []


def test_alias_and_cost_limits(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    aliases = " ".join(f'a{i}: product(id: "P1") {{ id }}' for i in range(40))
    out = gql(client, "{ " + aliases + " }")
    assert "aliases" in out["errors"][0]["message"].lower()
    wide = '{ products(ids: ["P1"]) { intentions(first: 100) { edges { node { intention { products(first: 100) { edges { node { product { coBought(first: 100) { totalCount } } } } } } } } } } }'
    out = gql(client, wide)
    assert "too expensive" in out["errors"][0]["message"]
    assert out["errors"][0]["extensions"]["code"] == "TOO_COMPLEX"
    assert store.calls == []


@pytest.mark.parametrize(
    "query",
    [
        '{ product(id: "P1") { intentions(first: 1000000) { totalCount } } }',
        '{ product(id: "P1") { coBought(first: 0) { totalCount } } }',
        '{ product(id: "P1") { similar(k: 100000) { score } } }',
        '{ recommend(session: ["P1"], k: 5000) { score } }',
        '{ navigate(query: "yoga") { products(first: -5) { totalCount } } }',
        '{ navigate(query: "yoga") { facets(size: 100000) { count } } }',
    ],
)
def test_huge_page_sizes_are_rejected(make_client: Any, gql: Any, query: str) -> None:
    client, _ = make_client()
    out = gql(client, query)
    err = out["errors"][0]
    assert "between 1 and 100" in err["message"] and err["extensions"]["code"] == "PAGE_SIZE"


def test_bad_cursor_is_a_clear_error(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    out = gql(client, '{ product(id: "P1") { intentions(after: "not-a-cursor") { totalCount } } }')
    assert "invalid cursor" in out["errors"][0]["message"]


FIELDS = [
    ("query($v: ID!) { product(id: $v) { id } }", False),
    ("query($v: ID!) { products(ids: [$v, $v]) { id } }", False),
    (
        "query($v: String!) { searchQuery(text: $v) { key known products { totalCount } intentions { totalCount } } }",
        False,
    ),
    ("query($v: ID!) { intention(id: $v) { id } }", False),
    (
        "query($v: String!) { navigate(query: $v) { knownQuery facets { count } products { totalCount } } }",
        False,
    ),
    (
        'query($v: ID!) { navigate(query: "winter camping", selectedIntentions: [$v]) { products { totalCount } } }',
        False,
    ),
    ("query($v: ID!) { recommend(session: [$v]) { score } }", False),
    ('query($v: String!) { relevance(query: $v, productIds: ["P1"]) { score } }', False),
    ('query($v: ID!) { relevance(query: "yoga", productIds: [$v]) { score } }', False),
    ('query($v: String!) { explain(query: $v, productId: "NOPE") { status } }', False),
    ('query($v: ID!) { explain(query: "yoga", productId: $v) { status } }', False),
    (
        'query($v: String!) { product(id: "P1") { intentions(relation: [$v]) { totalCount } } }',
        True,
    ),
    ('query($v: String) { product(id: "P1") { intentions(after: $v) { totalCount } } }', True),
]


def test_injection_strings_in_every_argument(make_client: Any, gql: Any, graph_store: Any) -> None:
    client, _ = make_client()
    before = _counts(graph_store)
    for query, rejects in FIELDS:
        for bad in INJECTIONS:
            out = gql(client, query, {"v": bad})
            if rejects or "\x00" in bad:
                err = out["errors"][0]
                assert (
                    err["extensions"]["code"] == "BAD_REQUEST"
                    or err["extensions"]["code"] == "BAD_INPUT"
                ), err
                continue
            assert "errors" not in out, (query, bad, out)
            data = next(iter(out["data"].values()))
            assert data in (None, [], [None, None]) or isinstance(data, dict | list)
    assert _counts(graph_store) == before
    out = gql(client, FIELDS[0][0], {"v": "P1\x00"})
    assert out["errors"][0]["message"] == "id contains control characters"
    # an injected navigation finds nothing rather than everything
    out = gql(client, FIELDS[4][0], {"v": INJECTIONS[1]})
    assert out["data"]["navigate"]["knownQuery"] is False


def test_every_argument_refuses_every_control_character(make_client: Any, gql: Any) -> None:
    """The text rule (cosmo.core.text) on API arguments: C0 controls but TAB, LF, CR."""
    client, _ = make_client()
    for query, _ in FIELDS:
        for bad in ("P1\x01", "red \x1b[31m", "a\x1fb"):
            err = gql(client, query, {"v": bad})["errors"][0]
            assert err["extensions"]["code"] in ("BAD_INPUT", "BAD_REQUEST"), (query, err)
    out = gql(client, FIELDS[2][0], {"v": "tab\there"})  # TAB is text
    assert "errors" not in out


def test_too_long_inputs(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    out = gql(client, "query($v: String!) { searchQuery(text: $v) { key } }", {"v": "x" * 5000})
    assert "longer than 500" in out["errors"][0]["message"]
    out = gql(
        client,
        "query($v: [ID!]!) { products(ids: $v) { id } }",
        {"v": [f"P{i}" for i in range(1000)]},
    )
    assert "at most 100" in out["errors"][0]["message"]


ANNOTATE = """mutation { annotate(input: {subject: "winter camping", relation: "USED_FOR_EVE",
  intention: "camping in cold weather", verdict: GOOD}) { id } }"""


def test_mutations_need_the_api_key(
    make_client: Any, gql: Any, graph_store: Any, prefix: str
) -> None:
    client, _ = make_client(api_key=KEY)
    redis = client.app.state.services.redis
    stream = f"{prefix}annotations"
    before = _counts(graph_store)
    out = gql(client, ANNOTATE)
    assert out["errors"][0]["message"] == "missing API key: send it in the X-API-Key header"
    assert out["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    out = gql(client, ANNOTATE, headers={"X-API-Key": "guess"})
    assert out["errors"][0]["message"] == "wrong API key"
    out = gql(
        client, "mutation { refreshExplanations(top: 5) { pairs } }", headers={"X-API-Key": "guess"}
    )
    assert out["errors"][0]["message"] == "wrong API key"
    assert client.portal.call(redis.xlen, stream) == 0
    assert client.portal.call(client.app.state.services.cache.queue_length) == 0
    assert _counts(graph_store) == before
    out = gql(client, ANNOTATE, headers={"X-API-Key": KEY})
    assert out["data"]["annotate"]["id"]
    assert client.portal.call(redis.xlen, stream) == 1
    out = gql(
        client,
        "mutation { refreshExplanations(top: 5) { queries pairs fromGraph } }",
        headers={"X-API-Key": KEY},
    )
    assert out["data"]["refreshExplanations"] == {"queries": 3, "pairs": 4, "fromGraph": 4}
    bad = ANNOTATE.replace("USED_FOR_EVE", "DROP_ALL")
    out = gql(client, bad, headers={"X-API-Key": KEY})
    assert "unknown relation" in out["errors"][0]["message"]
    assert client.portal.call(redis.xlen, stream) == 1


def test_every_write_endpoint_needs_the_key(make_client: Any, gql: Any, tmp_path: Any) -> None:
    """The served app: both mutations and the annotation page's writes, with and without."""
    from cosmo.core.records import Candidate
    from cosmo.refine.annotation import QUESTIONS, AnnotationStore

    ann = AnnotationStore(tmp_path / "labels.sqlite")
    keys = "candidate_id behaviour source target relation tail raw_output prompt_version"
    vals = ["i1", "search_buy", "winter camping", "P1", "USED_TO", "camp", "camp", "v1"]
    more = {"model": "m", "params": "{}", "origin": "generated", "pipeline_run": "r1"}
    ann.add_items([Candidate(**dict(zip(keys.split(), vals, strict=True)), **more)])
    client, _ = make_client(api_key=KEY, annotation_store=ann)
    label = {"item_id": "i1", "annotator": "alice", "answers": dict.fromkeys(QUESTIONS, True)}
    writes = [
        lambda h: gql(client, ANNOTATE, headers=h).get("errors", [{}])[0].get("message"),
        lambda h: (
            gql(client, "mutation { refreshExplanations(top: 1) { pairs } }", headers=h)
            .get("errors", [{}])[0]
            .get("message")
        ),
        lambda h: _refused(client.post("/annotate/api/labels", json=label, headers=h)),
        lambda h: _refused(client.post("/annotate/api/undo", json={"annotator": "a"}, headers=h)),
    ]
    for write in writes:
        assert write({}) == "missing API key: send it in the X-API-Key header"
        assert write({"X-API-Key": "guess"}) == "wrong API key"
    assert ann.labels() == []
    for write in writes:
        assert write({"X-API-Key": KEY}) is None
    assert client.get("/annotate/api/progress", params={"annotator": "alice"}).status_code == 200


def _refused(r: Any) -> str | None:
    return None if r.status_code == 200 else (r.status_code == 401 and r.json()["detail"])


def test_mutations_disabled_without_a_configured_key(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    out = gql(client, ANNOTATE, headers={"X-API-Key": "anything"})
    assert "mutations are disabled" in out["errors"][0]["message"]


def test_request_size_limit_and_cors(make_client: Any) -> None:
    client, _ = make_client(cors_origins=["https://shop.example"], max_body_bytes=2048)
    r = client.post("/graphql", json={"query": "{ __typename }", "pad": "x" * 5000})
    assert r.status_code == 413 and "over 2048 bytes" in r.json()["errors"][0]["message"]
    ok = client.options(
        "/graphql",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert ok.headers.get("access-control-allow-origin") == "https://shop.example"
    no = client.options(
        "/graphql",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in no.headers


class SlowStore:
    """A store that answers too late (unit test of the request timeout)."""

    backend = "falkordb"

    async def query(self, *a: Any, **k: Any) -> Any:
        await asyncio.sleep(5)
        return []

    async def health(self) -> Any:
        from cosmo.kg.store import Health

        return Health(True, "falkordb", "slow", 0.0)

    async def close(self) -> None:
        return None


def test_request_timeout(api_graph: Any, prefix: str) -> None:
    from fastapi.testclient import TestClient

    from cosmo.api import ApiSettings, create_app

    app = create_app(
        ApiSettings(key_prefix=prefix, request_timeout_s=0.3), core=api_graph, store=SlowStore()
    )  # type: ignore[arg-type]
    with TestClient(app) as client:
        t = time.perf_counter()
        r = client.post("/graphql", json={"query": '{ product(id: "P1") { id } }'})
        assert r.status_code == 504 and "longer than 0.3 s" in r.text
        assert time.perf_counter() - t < 3


@pytest.mark.slow
@pytest.mark.single_backend("stops and restarts a FalkorDB server of its own")
@pytest.mark.parametrize("cache_check_s", [None, 0.2], ids=["no-cache", "response-cache"])
def test_database_outage_and_recovery(
    tmp_path: Any, prefix: str, gql: Any, cache_check_s: float | None
) -> None:
    from fastapi.testclient import TestClient

    from cosmo.api import ApiSettings, create_app
    from cosmo.core.settings import Settings
    from cosmo.kg.falkordb_store import FalkorDBStore
    from cosmo.kg.server import EmbeddedServer

    settings = Settings(state_dir=tmp_path, falkordb_port=free_port(), graph="outage")
    server = EmbeddedServer(settings)
    server.start()
    try:
        store = FalkorDBStore.from_settings(settings)
        store.execute("CREATE (:Product {id: 'X1', title: 'lamp'})")
        store.close()
        cache = (
            {"response_cache_size": 0}
            if cache_check_s is None
            else {"response_cache_check_s": cache_check_s}
        )
        app = create_app(ApiSettings(key_prefix=prefix, **cache), core=settings)
        q = '{ product(id: "X1") { title } }'
        with TestClient(app) as client:
            assert gql(client, q)["data"]["product"]["title"] == "lamp"
            assert client.get("/readyz").status_code == 200
            server.stop()
            if cache_check_s is not None:
                # a cached answer is served at most until the next version check
                assert client.app.state.response_cache.misses == 1
                time.sleep(cache_check_s + 0.1)
            out = gql(client, q)
            err = out["errors"][0]
            assert err["extensions"]["code"] == "UNAVAILABLE"
            assert "graph database is unavailable" in err["message"]
            r = client.get("/readyz")
            assert r.status_code == 503 and r.json()["ready"] is False
            assert client.get("/healthz").status_code == 200
            server.start()
            deadline = time.time() + 20
            while time.time() < deadline:
                out = gql(client, q)
                if "errors" not in out:
                    break
                time.sleep(0.2)
            assert out["data"]["product"]["title"] == "lamp"  # the AOF kept the data
            assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
