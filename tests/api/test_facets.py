"""Facet ranking: coverage × typicality × specificity, and no value that every product has."""

from __future__ import annotations

import math
from typing import Any

from cosmo.api.services.navigation import facet_score, group_facets


def _row(rel: str, iid: str, n: int, ty: float | None, df: int) -> dict[str, Any]:
    return {"relation": rel, "id": iid, "text": iid, "tail_type": "t", "n": n, "ty": ty, "df": df}


ROWS = [
    _row("USED_FOR_EVE", "outdoors", 4, 0.9, 30),  # every result product has it
    _row("USED_FOR_EVE", "camping", 3, 0.8, 3),
    _row("USED_FOR_EVE", "festivals", 3, 0.8, 25),  # as common here, but everywhere else too
    _row("CAPABLE_OF", "warmth", 2, 0.9, 2),
    _row("CAPABLE_OF", "rain", 2, None, 2),  # no typicality: counts 1
]


def test_score_is_coverage_times_typicality_times_specificity() -> None:
    assert facet_score(3, 4, 0.8, 3) == 0.75 * 0.8 / (1 + math.log(3))
    assert facet_score(1, 4, None, 1) == 0.25  # one product of the graph: specificity 1
    assert facet_score(2, 4, 0.5, 0) == 0.25 * 1.0 / (1 + math.log(2))  # df never below n


def test_values_every_product_shares_are_dropped_and_the_rest_ranked() -> None:
    got = group_facets(ROWS, [], 5, n_products=4)
    values = {f.relation: [v.intention["id"] for v in f.values] for f in got}
    assert values == {"USED_FOR_EVE": ["camping", "festivals"], "CAPABLE_OF": ["rain", "warmth"]}
    # the facet with the best value first: camping (0.75·0.8/2.10=0.29) < rain (0.5/1.69=0.30)
    assert [f.relation for f in got] == ["CAPABLE_OF", "USED_FOR_EVE"]
    assert all(v.score > 0 for f in got for v in f.values)


def test_a_selected_value_stays_and_one_product_keeps_its_facets() -> None:
    got = group_facets(ROWS, ["outdoors"], 5, n_products=4)
    eve = next(f for f in got if f.relation == "USED_FOR_EVE")
    assert [(v.intention["id"], v.selected) for v in eve.values] == [
        ("camping", False),
        ("outdoors", True),
        ("festivals", False),
    ]
    single = group_facets([_row("USED_TO", "hike", 1, 0.7, 5)], [], 5, n_products=1)
    assert [v.intention["id"] for f in single for v in f.values] == ["hike"]
