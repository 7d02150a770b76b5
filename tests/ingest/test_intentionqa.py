"""The IntentionQA data set module: its rows, its assertion → relation rules, its questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosmo.core.errors import InputError
from cosmo.ingest.intentionqa import (
    assertion_text,
    assertions_of,
    intention_phrase,
    load_questions,
    map_assertion,
    parse_assertion,
    read_rows,
)

P = "PersonX bought a product of Item A and a product of Item B "


@pytest.mark.parametrize(
    ("text", "relation", "tail"),
    [
        ("because they both are capable of keeping him warm.", "CAPABLE_OF", "keeping him warm"),
        ("because they both are a type of USB extension cable.", "IS_A", "USB extension cable"),
        (
            'because they both are a manner of "Audio & Video Accessories".',
            "IS_A",
            "Audio & Video Accessories",
        ),
        ("because they are both used for Halloween.", "USED_FOR_EVE", "Halloween"),
        ("because they are both used for his wife.", "USED_FOR_AUD", "his wife"),
        ("because they are both used for water cooling.", "USED_FOR_FUNC", "water cooling"),
        ("because they could both be used to make a costume.", "USED_TO", "make a costume"),
        ("because they could both be used as a gift.", "USED_AS", "a gift"),
        ("because they could both be worn on the wrist.", "USED_IN_BODY", "the wrist"),
        ("because they could both be worn with a dress.", "USED_WITH", "a dress"),
        ("because they both are capable of being worn by women.", "USED_BY", "women"),
        ("because they could both be found in the kitchen.", "USED_IN_LOC", "the kitchen"),
        (
            'because they both are related to the topic of "Army Style".',
            "xINTERESTED_IN",
            "Army Style",
        ),
        ("because the person wants to be a pirate.", "xWANT", "be a pirate"),
        ("as a result, the person will be able to play games.", "USED_TO", "play games"),
    ],
)
def test_assertion_mapping(text: str, relation: str, tail: str) -> None:
    got = map_assertion(P + text)
    assert got is not None and got[:2] == (relation, tail)


@pytest.mark.parametrize(
    "text",
    [
        "because they could both be found on Amazon.com.",
        'because they both have a property of "Sterling Silver".',
        "because he thought they were the same product.",
        "because they both are a manner of the same product.",
    ],
)
def test_unmappable_assertions(text: str) -> None:
    assert map_assertion(P + text) is None


def test_every_assertion_gets_a_relation() -> None:
    assert parse_assertion("because they both are capable of telling time.")[0] == "CAPABLE_OF"
    assert parse_assertion("because they both are a type of jewelry.")[0] == "IS_A"
    assert parse_assertion("because the person wants to go fishing.")[0] == "xWANT"


def test_unmappable_assertions_still_parse() -> None:
    rel, tail = parse_assertion(P + "because he thought they were the same product.")
    assert (rel, tail) == ("xWANT", "he thought they were the same product")


def test_assertion_texts() -> None:
    a = "PersonX bought a product of Item A and a product of Item B because they both are a type of USB cable."
    assert intention_phrase(a) == "are a type of USB cable"
    assert assertion_text(a) == "because they both are a type of USB cable."


def test_load_questions_reads_both_tasks(shared_data: Path) -> None:
    iqa = shared_data / "intentionqa"
    t1, t2 = (
        load_questions(iqa / "task1.jsonl", limit=60),
        load_questions(iqa / "task2.jsonl", limit=60),
    )
    assert len(t1) == len(t2) == 60
    q1, q2 = t1[0], t2[0]
    assert q1.task == 1 and q2.task == 2
    assert q1.options[q1.gold] == q1.intention  # task 1: the gold option is the assertion
    assert q2.options[q2.gold] == q2.item_b_name  # task 2: the gold option is item B
    assert q2.intention.startswith("because")


def test_bad_lines_are_named(tmp_path: Path) -> None:
    p = tmp_path / "task1.jsonl"
    good = {
        "id": "x",
        "item_a_id": "a",
        "item_b_id": "b",
        "item_a_name": "A",
        "item_b_name": "B",
        "assertion": "because c.",
        "options": {"A": "because c.", "B": "d"},
        "gold_ind": "A",
    }
    p.write_text(json.dumps(good) + "\n{oops\n")
    with pytest.raises(InputError) as e:
        load_questions(p)
    assert e.value.line == 2
    p.write_text(json.dumps({**good, "gold_ind": "Q"}) + "\n")
    with pytest.raises(InputError) as e:
        load_questions(p)
    assert e.value.field == "gold_ind"


def test_rows_and_their_assertions(shared_data: Path, tmp_path: Path) -> None:
    (line, row), *_ = read_rows(shared_data / "intentionqa" / "task1.jsonl")
    texts = assertions_of(row)
    assert line == 1 and texts[0] == (row["assertion"], True)
    assert [t for t, gold in texts if not gold] == row["distractors_asserstion"]
    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps({"item_a_id": "A"}) + "\n" + json.dumps({**row, "id": "y"}) + "\n")
    problems: list[InputError] = []
    assert [n for n, _ in read_rows(p, problems=problems)] == [2]
    assert (problems[0].line, problems[0].field) == (1, "item_b_id")
