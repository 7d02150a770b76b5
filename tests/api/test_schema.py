"""GraphQL reads against a real FalkorDB graph loaded with the real loader."""

from __future__ import annotations

from typing import Any

PRODUCT_Q = """
query($id: ID!) {
  product(id: $id) {
    id title type domain
    intentions(first: 2) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { relation plausibility intention { id text tailType }
              provenance { sources sourceCount model } } }
    }
    coBought(first: 5) { totalCount edges { node { count product { id title } } } }
    explainedCoBuys { edges { node { product { id } count explanations { relation intention { text } } } } }
    similar(k: 2) { score product { id } }
    embedding
  }
}"""


def test_product_fields(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    data = gql(client, PRODUCT_Q, {"id": "P1"})
    assert "errors" not in data, data
    p = data["data"]["product"]
    assert p["title"].startswith("Coleman") and p["type"] == "sleeping bag"
    conn = p["intentions"]
    # P1: camping in cold weather (sb + cb), keeping warm at night (sb + cb)
    assert conn["totalCount"] == 2 and not conn["pageInfo"]["hasNextPage"]
    first = conn["edges"][0]["node"]
    assert (
        first["relation"] == "USED_FOR_EVE"
        and first["intention"]["text"] == "camping in cold weather"
    )
    assert set(first["provenance"]["sources"]) == {"sb:winter camping|P1", "cb:P1|P2"}
    assert first["provenance"]["model"] == "test-model"
    assert [e["node"]["product"]["id"] for e in p["coBought"]["edges"]] == ["P2", "P3"]
    assert p["coBought"]["edges"][0]["node"]["count"] == 7
    ex = {e["node"]["product"]["id"]: e["node"] for e in p["explainedCoBuys"]["edges"]}
    assert ex["P2"]["explanations"][0]["intention"]["text"] == "camping in cold weather"
    assert ex["P3"]["explanations"][0]["relation"] == "CAPABLE_OF"
    assert [s["product"]["id"] for s in p["similar"]] == ["P2", "P3"]
    assert len(p["embedding"]) == 8
    # one round trip per loader, whatever the nesting; the product and its intentions
    # page come in one
    assert len(store.calls) == 5, store.calls


def test_pagination_walks_every_edge(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    q = 'query($a: String) { product(id: "P2") { intentions(first: 1, after: $a) { totalCount pageInfo { hasNextPage endCursor } edges { node { intention { text } } } } } }'
    seen, after = [], None
    while True:
        conn = gql(client, q, {"a": after})["data"]["product"]["intentions"]
        seen += [e["node"]["intention"]["text"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == conn["totalCount"] == 3
    assert set(seen) == {"camping in cold weather", "go hiking", "outdoor enthusiasts"}


def test_relation_filter_and_min_plausibility(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    q = '{ product(id: "P2") { a: intentions(relation: ["used_to"]) { totalCount edges { node { relation } } } b: intentions(minPlausibility: 0.7) { totalCount } } }'
    p = gql(client, q)["data"]["product"]
    assert p["a"]["totalCount"] == 1 and p["a"]["edges"][0]["node"]["relation"] == "USED_TO"
    assert p["b"]["totalCount"] == 2
    bad = gql(client, '{ product(id: "P2") { intentions(relation: ["LIKES"]) { totalCount } } }')
    assert "unknown relation" in bad["errors"][0]["message"]
    assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"


def test_search_query_and_intention(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    q = """{ searchQuery(text: "  Winter CAMPING ") { key known
              intentions { totalCount edges { node { relation intention { id text } } } }
              products { edges { node { count product { id } } } } }
             unknown: searchQuery(text: "nothing like this") { known products { totalCount } } }"""
    d = gql(client, q)["data"]
    sq = d["searchQuery"]
    assert sq["key"] == "winter camping" and sq["known"] is True
    assert [e["node"]["product"]["id"] for e in sq["products"]["edges"]] == ["P1", "P2"]
    assert sq["intentions"]["totalCount"] == 2
    assert d["unknown"] == {"known": False, "products": {"totalCount": 0}}
    iid = next(
        e["node"]["intention"]["id"]
        for e in sq["intentions"]["edges"]
        if e["node"]["relation"] == "CAPABLE_OF"
    )
    q2 = """query($id: ID!) { intention(id: $id) { text tailType
              products { totalCount edges { node { product { id } relation } } }
              queries { edges { node { query { key } } } }
              related { edges { node { sharedProducts intention { text } } } } } }"""
    it = gql(client, q2, {"id": iid})["data"]["intention"]
    assert it["text"] == "keeping warm at night"
    assert {e["node"]["product"]["id"] for e in it["products"]["edges"]} == {"P1", "P3"}
    assert {e["node"]["query"]["key"] for e in it["queries"]["edges"]} == {
        "winter camping",
        "warm socks",
    }
    related = {
        e["node"]["intention"]["text"]: e["node"]["sharedProducts"] for e in it["related"]["edges"]
    }
    assert related == {"camping in cold weather": 1, "feet": 1}
    assert gql(client, '{ intention(id: "nope") { id } }')["data"]["intention"] is None


NAV_Q = """query($q: String!, $sel: [ID!]) { navigate(query: $q, selectedIntentions: $sel) {
  knownQuery
  facets { relation tailType count values { count selected intention { id text } } }
  products(first: 10) { totalCount edges { node { score product { id
      intentions(first: 3) { totalCount } coBought(first: 2) { totalCount } } } } } } }"""


def test_navigate_facets_products_and_no_n_plus_one(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    nav = gql(client, NAV_Q, {"q": "winter camping"})["data"]["navigate"]
    assert nav["knownQuery"] is True
    ids = [e["node"]["product"]["id"] for e in nav["products"]["edges"]]
    # bought P1 (5) and P2 (3); P3 shares "keeping warm at night"
    assert ids == ["P1", "P2", "P3"]
    facets = {(f["relation"], f["tailType"]): f for f in nav["facets"]}
    camp = facets[("USED_FOR_EVE", "event")]["values"][0]
    assert camp["intention"]["text"] == "camping in cold weather" and camp["count"] == 2
    # products x (intentions + coBought) in 4 round trips: candidates, facets, 2 loaders
    assert len(store.calls) == 4, store.calls
    store.calls.clear()
    nav = gql(client, NAV_Q, {"q": "winter camping", "sel": [camp["intention"]["id"]]})["data"][
        "navigate"
    ]
    assert [e["node"]["product"]["id"] for e in nav["products"]["edges"]] == ["P1", "P2"]
    sel = [v for f in nav["facets"] for v in f["values"] if v["selected"]]
    assert len(sel) == 1 and sel[0]["count"] == 2
    assert len(store.calls) == 4
    # the same navigation again: candidates and facets come from the in-process cache
    store.calls.clear()
    again = gql(client, NAV_Q, {"q": "winter camping", "sel": [camp["intention"]["id"]]})
    assert again["data"]["navigate"] == nav
    assert len(store.calls) == 2  # only the per-product loaders


def test_navigation_cache_can_be_off(make_client: Any, gql: Any) -> None:
    client, store = make_client(nav_cache_ttl_s=0)
    gql(client, NAV_Q, {"q": "yoga"})
    gql(client, NAV_Q, {"q": "yoga"})
    assert len(store.calls) == 8


def test_navigate_unknown_query_uses_title_search(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    nav = gql(client, NAV_Q, {"q": "hiking boots"})["data"]["navigate"]
    assert nav["knownQuery"] is False
    assert nav["products"]["edges"][0]["node"]["product"]["id"] == "P5"
    assert any(f["relation"] == "USED_TO" for f in nav["facets"])


def test_products_many_ids_one_round_trip(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    q = '{ products(ids: ["P1","P2","P3","P4","P5","P6","NOPE"]) { id intentions { totalCount } coBought { totalCount } } }'
    ps = gql(client, q)["data"]["products"]
    assert ps[-1] is None and [p["id"] for p in ps[:-1]] == ["P1", "P2", "P3", "P4", "P5", "P6"]
    assert [p["intentions"]["totalCount"] for p in ps[:-1]] == [2, 3, 2, 0, 2, 1]
    assert len(store.calls) == 3


def test_recommend_and_relevance(make_client: Any, gql: Any) -> None:
    client, _store = make_client()
    recs = gql(
        client,
        '{ recommend(session: ["P1"], k: 3) { score coBuys sharedIntentions product { id } } }',
    )["data"]["recommend"]
    assert (
        recs[0]["product"]["id"] == "P2"
        and recs[0]["coBuys"] == 7
        and recs[0]["sharedIntentions"] == 1
    )
    assert "P1" not in {r["product"]["id"] for r in recs}
    q = '{ relevance(query: "winter camping", productIds: ["P1", "P3", "P6", "NOPE"]) { productId score purchased sharedIntentions { text } } }'
    rel = {r["productId"]: r for r in gql(client, q)["data"]["relevance"]}
    assert rel["P1"]["purchased"] and rel["P1"]["score"] == 1.0
    assert not rel["P3"]["purchased"] and rel["P3"]["score"] == 0.25
    assert rel["P6"]["score"] == 0.0 and rel["NOPE"]["score"] == 0.0
    assert rel["P1"]["score"] > rel["P3"]["score"] > rel["P6"]["score"]


def test_product_and_intentions_in_one_round_trip(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    page = "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { relation plausibility intention { id } } }"
    cases = [
        ('"P2"', "first: 2", {}),
        ('"P2"', 'relation: "used_to"', {}),
        ('"P2"', "minPlausibility: 0.7, first: 1, after: $a", {"a": "bzow"}),
        ("$id", "relation: $r, first: $n", {"id": "P1", "r": ["CAPABLE_OF"], "n": 1}),
        ('"NOPE"', "first: 2", {}),
    ]
    for pid, args, variables in cases:
        decl = {"a": "$a: String", "id": "$id: ID!", "r": "$r: [String!]", "n": "$n: Int"}
        head = f"query({', '.join(decl[k] for k in variables)})" if variables else "query"
        direct = f"{head} {{ product(id: {pid}) {{ id title intentions({args}) {{ {page} }} }} }}"
        # a fragment hides the field from the look-ahead: the two-loader path
        split = (
            f"{head} {{ product(id: {pid}) {{ id title ...F }} }} "
            f"fragment F on Product {{ intentions({args}) {{ {page} }} }}"
        )
        store.calls.clear()
        one = gql(client, direct, variables)
        n_direct = len(store.calls)
        store.calls.clear()
        two = gql(client, split, variables)
        assert "errors" not in one, one
        assert one == two, (args, one, two)
        assert n_direct == 1 and len(store.calls) == (2 if one["data"]["product"] else 1)
