"""The validity stage: malformed tails from parsed sentences never reach the other filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosmo.refine.funnel import write_funnel
from cosmo.refine.validity import VALIDITY_RULES, ValidityFilter, first_rule, validity_rules
from tests.refine.test_filters import _cand

# the malformed tails the demo kept before this stage, each with the rule that rejects it
MALFORMED = [
    ('Cord Lock" and both are "Extension Cord', "unbalanced_quotes"),
    ('Filling Funnel" and "Multi-Link Fitting', "unbalanced_quotes"),
    ('Crocs" in the database', "unbalanced_quotes"),
    ('Sony" and he thought they are the same', "unbalanced_quotes"),
    ("Digitizer and they are both Touch Screen", "joined_fragments"),
    ("yoga and he likes them", "narrative"),
    ('the "Jewelry" category', "data_reference"),
    ("use both products together", "restates_pair"),
    ("product that he needed for work", "narrative"),
    ("go camping with the family on a long trip in the mountains", "too_long"),
]
GOOD = [
    "winter camping",
    "keep warm at night",
    "USB extension cable",
    "newborn babies",
    'the "Star Wars" fans',
    "Halloween costume party",
    "hiking in the rain",
    "a gift for his wife",
]


@pytest.mark.parametrize(("tail", "rule"), MALFORMED)
def test_each_malformed_tail_is_rejected_by_its_rule(tail: str, rule: str) -> None:
    assert first_rule(tail) == rule
    assert rule in validity_rules(tail)


@pytest.mark.parametrize("tail", GOOD)
def test_well_formed_phrases_pass(tail: str) -> None:
    assert validity_rules(tail) == []


def test_every_rule_listed_once_and_too_long_follows_max_words() -> None:
    assert len(set(VALIDITY_RULES)) == len(VALIDITY_RULES) == 6
    assert first_rule("one two three four", max_words=3) == "too_long"
    assert first_rule("one two three", max_words=3) is None


def test_stage_keeps_order_and_names_each_rule_in_the_funnel_report(tmp_path: Path) -> None:
    cands = [_cand(f"g{i}", t) for i, t in enumerate(GOOD)]
    cands += [_cand(f"m{i}", t) for i, (t, _) in enumerate(MALFORMED)]
    result = ValidityFilter()(cands)
    assert [c.candidate_id for c in result.kept] == [f"g{i}" for i in range(len(GOOD))]
    report = result.report
    assert (report.stage, report.n_in, report.n_out) == ("validity", len(cands), len(GOOD))
    want: dict[str, int] = {}
    for _, rule in MALFORMED:
        want[rule] = want.get(rule, 0) + 1
    assert report.reasons() == want
    paths = write_funnel(tmp_path, len(cands), [report], len(GOOD), examples=20)
    data = json.loads(paths["json"].read_text())
    assert data["stages"][0]["stage"] == "validity"
    assert data["stages"][0]["reasons"] == want
    md = paths["markdown"].read_text()
    assert "## validity" in md and "unbalanced_quotes 4" in md and "too_long 1" in md
