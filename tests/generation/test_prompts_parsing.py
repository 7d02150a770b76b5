"""Prompts (every relation × behaviour, rotation) and numbered-list parsing."""

from __future__ import annotations

import pytest

from cosmo.core.errors import ConfigError
from cosmo.core.records import BehaviourPair
from cosmo.core.schema import RELATIONS
from cosmo.generation.parsing import drop_copied, parse_numbered
from cosmo.generation.prompts import load_templates

SB = BehaviourPair(
    behaviour="search_buy",
    source="camping gear",
    target="OUT-001",
    target_title="Coleman Sundome 4-Person Dome Tent",
    target_domain="Sports & Outdoors",
)
CB = BehaviourPair(
    behaviour="co_buy",
    source="A",
    target="B",
    source_title="USB extension cable",
    target_title="USB hub",
)


@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("pair", [SB, CB], ids=["search_buy", "co_buy"])
def test_every_relation_and_behaviour_renders(relation: str, pair: BehaviourPair) -> None:
    t = load_templates("v1")
    p = t.render(pair, relation, shots=2)
    assert p.text.endswith("Answer:\n1.")
    assert p.relation == relation and p.version == "v1"
    assert p.text.count("Question:") == 3  # two examples + the pair
    if pair.behaviour == "search_buy":
        assert "Search Query: camping gear\nProduct: Coleman Sundome" in p.text
    else:
        assert "Product 1: USB extension cable\nProduct 2: USB hub" in p.text
    assert len(p.example_tails) >= 4
    zero = t.render(pair, relation, shots=0)
    assert zero.example_tails == () and zero.text.count("Question:") == 1


def test_examples_rotate_and_come_from_other_domains() -> None:
    t = load_templates()
    seen = {t.render(SB, "USED_FOR_AUD", shots=1, rotation=i).example_tails for i in range(3)}
    assert len(seen) == 3  # rotation shows each example in turn
    for r in RELATIONS:
        domains = {e.domain for e in t.examples[r]}
        assert len(domains) >= 3, r
    p = t.render(SB, "USED_IN_LOC", shots=2, rotation=0)  # pool starts with a Sports example
    assert "Two-Person Backpacking Tent" not in p.text  # same-domain example pushed back


def test_unknown_template_version() -> None:
    with pytest.raises(ConfigError, match="known versions: v1"):
        load_templates("v99")


def test_parse_numbered_list() -> None:
    raw = (
        ' families on vacation\n2. "Scouts."\n3. families on vacation\n4.\n5. '
        + "very " * 30
        + "long\n\nSearch Query: x"
    )
    got = parse_numbered(raw)
    assert got.tails == ["families on vacation", "Scouts"]
    assert got.dropped == {"duplicate": 1, "empty": 1, "too_long": 1}


def test_parse_stops_at_new_block_and_special_tokens() -> None:
    assert parse_numbered(" campers\n2. hikers\nQuestion: who?\n1. nobody").tails == [
        "campers",
        "hikers",
    ]
    assert parse_numbered(" to charge a phone\n2.for video calls<start_of_image>The").tails == [
        "to charge a phone",
        "for video calls",
    ]
    assert parse_numbered(" USB 2.0 cables 1. x").tails == ["USB 2.0 cables", "x"]
    assert parse_numbered(" foodies (young adults)\n2. kitchen (with an open").tails == [
        "foodies",
        "kitchen",
    ]


def test_truncated_last_item_is_dropped() -> None:
    got = parse_numbered(" grow plants indoors\n2. reduce food waste when you don", truncated=True)
    assert got.tails == ["grow plants indoors"] and got.dropped == {"truncated": 1}
    assert parse_numbered(" campers\n2. hikers\n", truncated=True).tails == ["campers", "hikers"]
    assert parse_numbered(" campers\n2. hikers", truncated=False).tails == ["campers", "hikers"]


def test_drop_copied_from_examples() -> None:
    kept, copied = drop_copied(
        [
            "Parents of newborn babies.",
            "campers",
            "parents of a newborn baby",
            "parents of toddlers",
        ],
        ["parents of newborn babies", "expecting mothers"],
    )
    assert kept == ["campers", "parents of toddlers"]
    assert len(copied) == 2


def test_tails_holding_a_control_character_are_dropped() -> None:
    got = parse_numbered(" warm\x00th\n2. bell\x07 ring\n3. tab\tok\n4. fine")
    assert got.tails == ["tab ok", "fine"]
    assert got.dropped == {"control_character": 2}
