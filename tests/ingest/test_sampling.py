"""Sampler: stratified, broad queries first, thresholds, random fill, seedable."""

from __future__ import annotations

from cosmo.core.records import CoBuy, Product, SearchBuy
from cosmo.ingest.sampling import SampleConfig, query_specificity, sample_pairs

CAT = [
    Product(product_id="t1", title="Dome tent", product_type="tent", domain="Outdoors"),
    Product(product_id="s1", title="Camp stove", product_type="stove", domain="Outdoors"),
    Product(product_id="h1", title="Headlamp", product_type="headlamp", domain="Outdoors"),
    Product(product_id="d1", title="Diapers size 0", product_type="diapers", domain="Baby"),
    Product(product_id="w1", title="Baby wipes", product_type="wipes", domain="Baby"),
]
SB = [
    SearchBuy(query="camping gear", product_id="t1", count=5),
    SearchBuy(query="camping gear", product_id="s1", count=5),
    SearchBuy(query="camping gear", product_id="h1", count=5),
    SearchBuy(query="coleman dome tent", product_id="t1", count=9),
    SearchBuy(query="newborn", product_id="d1", count=4),
    SearchBuy(query="newborn", product_id="w1", count=4),
    SearchBuy(query="pampers size 0", product_id="d1", count=1),
]
CB = [
    CoBuy(product_a="d1", product_b="w1", count=7),
    CoBuy(product_a="h1", product_b="t1", count=2),
]


def test_specificity_prefers_broad_queries() -> None:
    spec = query_specificity(SB, {p.product_id: p for p in CAT})
    assert spec["coleman dome tent"] == 1.0
    assert spec["camping gear"] < spec["newborn"] < spec["coleman dome tent"]


def test_broad_query_wins_within_stratum_and_every_stratum_is_served() -> None:
    res = sample_pairs(CAT, SB, CB, SampleConfig(n_search_buy=5, n_co_buy=2, random_fill=False))
    sb = [p for p in res.pairs if p.behaviour == "search_buy"]
    tent = [p for p in sb if p.target == "t1"]
    assert [p.source for p in tent] == ["camping gear"]  # broad beats "coleman dome tent"
    assert {p.target for p in sb} == {"t1", "s1", "h1", "d1", "w1"}
    assert all(p.reason.startswith("stratum:") for p in res.pairs)
    assert res.strata["search_buy:Outdoors/tent"] == {"available": 2, "taken": 1}


def test_thresholds_random_fill_dedup_and_seed() -> None:
    cfg = SampleConfig(n_search_buy=7, n_co_buy=5, min_count=2, max_specificity=0.99, seed=3)
    res = sample_pairs(CAT, SB, CB, cfg)
    sources = {p.source for p in res.pairs if p.behaviour == "search_buy"}
    assert "pampers size 0" not in sources  # below min_count
    assert "coleman dome tent" not in sources  # too specific
    assert res.counts["search_buy_below_min_count"] == 1
    assert res.counts["search_buy_too_specific"] >= 1
    keys = [(p.behaviour, p.source, p.target) for p in res.pairs]
    assert len(keys) == len(set(keys))
    assert res.counts["co_buy_taken"] == 2  # only two pairs exist
    again = sample_pairs(CAT, SB, CB, cfg)
    assert [p.model_dump() for p in again.pairs] == [p.model_dump() for p in res.pairs]


def test_random_fill_takes_what_strata_leave() -> None:
    res = sample_pairs(CAT, SB, [], SampleConfig(n_search_buy=7, n_co_buy=0, max_per_stratum=1))
    assert res.counts["search_buy_taken"] == 7
    reasons = [p.reason for p in res.pairs]
    assert sum(r.startswith("stratum:") for r in reasons) == 5  # one per (domain, type)
    assert reasons.count("random_fill") == 2 == res.counts["search_buy_random_fill"]
    no_fill = sample_pairs(
        CAT, SB, [], SampleConfig(n_search_buy=7, max_per_stratum=1, random_fill=False)
    )
    assert no_fill.counts["search_buy_taken"] == 5
