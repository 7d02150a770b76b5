"""Navigation precomputed by the batch refresh answers exactly like the live queries."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from cosmo.api.services.version import FINGERPRINT

NAV = """query($q: String!, $sel: [ID!]) {
  navigate(query: $q, selectedIntentions: $sel) { knownQuery
    facets(size: SIZE) { relation tailType count values { count selected intention { id text } } }
    products(first: 10) { totalCount edges { node { score product { id title
      intentions(first: 2) { totalCount } } } } } } }"""
REFRESH = "mutation { refreshExplanations(top: 10) { queries navigation } }"
KEY = "k3y"


def _nav(client: Any, gql: Any, variables: dict[str, Any]) -> Any:
    """Navigate with a literal facet size (a variable would be costed at the maximum)."""
    v = dict(variables)
    out = gql(client, NAV.replace("SIZE", str(v.pop("size"))), v)
    assert "errors" not in out, out
    return out["data"]["navigate"]


def _live_reads(store: Any) -> list[str]:
    """Candidate and facet reads (not the per-product loaders, not the version check)."""
    return [c for c in store.calls if c not in FINGERPRINT and "UNWIND $ids AS k" not in c[:20]]


@pytest.mark.parametrize("size", [1, 5, 8])
def test_precomputed_navigation_equals_live(make_client: Any, gql: Any, size: int) -> None:
    client, store = make_client(api_key=KEY, nav_cache_ttl_s=0, response_cache_check_s=0)
    queries = ["winter camping", "warm socks", "yoga"]
    live = {q: _nav(client, gql, {"q": q, "size": size}) for q in queries}
    assert live["winter camping"]["facets"] and live["winter camping"]["products"]["totalCount"]
    assert _live_reads(store)
    got = gql(client, REFRESH, headers={"X-API-Key": KEY})["data"]["refreshExplanations"]
    assert got == {"queries": 3, "navigation": 3}
    for q in queries:
        store.calls.clear()
        assert _nav(client, gql, {"q": q, "size": size}) == live[q]
        assert _live_reads(store) == [], store.calls  # only the per-product loader ran


def test_live_fallbacks(make_client: Any, gql: Any, prefix: str, api_graph: Any) -> None:
    client, store = make_client(api_key=KEY, nav_cache_ttl_s=0, response_cache_check_s=0)
    gql(client, REFRESH, headers={"X-API-Key": KEY})
    camp = _nav(client, gql, {"q": "winter camping", "size": 5})
    sel = camp["facets"][0]["values"][0]["intention"]["id"]
    for variables in (
        {"q": "hiking boots", "size": 5},  # not a known query: title search
        {"q": "winter camping", "sel": [sel], "size": 5},  # a selection
    ):
        store.calls.clear()
        nav = _nav(client, gql, variables)
        assert nav["products"]["edges"] and _live_reads(store), variables
    # a changed graph version: the entries are ignored until the next refresh
    r = redis.Redis.from_url(api_graph.cache_url)
    try:
        r.incr(f"{prefix}graph:version")
    finally:
        r.close()
    store.calls.clear()
    assert _nav(client, gql, {"q": "winter camping", "size": 5}) == camp
    assert _live_reads(store)


def test_entry_covers_only_sizes_its_rows_answer_exactly() -> None:
    from cosmo.api.services.nav_store import NavigationEntry
    from cosmo.api.services.navigation import FACET_ROWS, Candidates

    rows = [{"relation": "USED_TO", "n": 1, "id": "i1", "text": "", "tail_type": None}]
    full = NavigationEntry(Candidates([], {}, True), rows * FACET_ROWS, FACET_ROWS, 100)
    assert full.covers(10, 100) and not full.covers(11, 100)  # size 11 reads 220 rows live
    assert not full.covers(5, 50)  # counted on another number of products
    short = NavigationEntry(Candidates([], {}, True), rows * 7, FACET_ROWS, 100)
    assert short.covers(50, 100)  # fewer rows than asked for: these are all there are
