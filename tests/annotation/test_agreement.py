"""Cohen's and Fleiss' kappa against known values, and per-question agreement of a store."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from cosmo.refine.annotation import QUESTIONS, Label, agreement, cohen_kappa, fleiss_kappa


def test_cohen_matches_scikit_learn():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 200)
    b = np.where(rng.random(200) < 0.8, a, 1 - a)
    assert cohen_kappa(list(a), list(b)) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) == 1.0
    assert math.isnan(cohen_kappa([], []))


def test_fleiss_textbook_example():
    # Fleiss (1971) as in the Wikipedia worked example: 10 items, 14 raters, 5 categories.
    m = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(m) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_of_two_raters_is_close_to_scotts_pi():
    a = [1, 1, 0, 0, 1, 0, 1, 1]
    b = [1, 0, 0, 0, 1, 1, 1, 1]
    counts = [
        [int(x == 0) + int(y == 0), int(x == 1) + int(y == 1)] for x, y in zip(a, b, strict=True)
    ]
    p = (sum(a) + sum(b)) / 16
    pe = p * p + (1 - p) ** 2
    po = sum(x == y for x, y in zip(a, b, strict=True)) / 8
    assert fleiss_kappa(counts) == pytest.approx((po - pe) / (1 - pe))


def lab(item: str, who: str, **ans: bool) -> Label:
    return Label(item, who, {q: ans.get(q, True) for q in QUESTIONS})


def test_agreement_picks_the_method():
    two = [lab(f"i{i}", w, typicality=(i % 2 == 0) or w == "a") for i in range(6) for w in "ab"]
    res = agreement(two)
    assert res.method == "cohen" and res.items == 6 and res.annotators == ["a", "b"]
    assert res.kappa["completeness"] == 1.0
    assert res.percent_agreement["typicality"] == pytest.approx(0.5)
    three = [*two, *(lab(f"i{i}", "c") for i in range(6))]
    res3 = agreement(three)
    assert res3.method == "fleiss" and len(res3.annotators) == 3
    assert res3.as_dict()["kappa"]["completeness"] == 1.0
