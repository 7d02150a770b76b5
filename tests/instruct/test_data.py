"""Instruction data: five tasks, varied templates, a pair-level split, JSONL with a manifest."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from cosmo.core.errors import InputError
from cosmo.core.manifest import read_manifest
from cosmo.refine.annotation import QUESTIONS, AnnotationStore, Label, final_labels
from cosmo.refine.instruct import (
    TASKS,
    TEMPLATES,
    build_instructions,
    read_examples,
    reference_labels,
    write_examples,
)


def test_all_five_tasks_with_varied_templates(examples):
    by_task = Counter(e.task for e in examples)
    assert set(by_task) == set(TASKS)
    for task in TASKS:
        used = {e.template for e in examples if e.task == task}
        assert len(used) == len(TEMPLATES[task]) >= 3, task
    assert all(e.prompt.endswith("\nAnswer:") for e in examples)
    yes_no = [e for e in examples if e.task != "generation"]
    assert {e.answer for e in yes_no} == {"yes", "no"}
    # prediction tasks are balanced: one random negative per real pair
    for task in ("co_purchase", "search_rel"):
        c = Counter(e.answer for e in examples if e.task == task)
        assert c["no"] >= 0.9 * c["yes"] > 0


def test_labels_drive_the_answers(iqa, examples):
    ref = reference_labels(iqa)
    gold = next(c for c in iqa if c.reference_score is not None and c.reference_score >= 0.8)
    bad = next(c for c in iqa if c.reference_score is None)
    assert ref[gold.candidate_id] == {"plausibility": True, "typicality": True}
    assert ref[bad.candidate_id] == {"plausibility": False, "typicality": False}
    mine = {(e.task, e.answer) for e in examples if e.item_id == gold.candidate_id}
    assert {("plausibility", "yes"), ("typicality", "yes"), ("generation", gold.tail)} <= mine
    assert not any(e.task == "generation" for e in examples if e.item_id == bad.candidate_id)


def test_split_keeps_pairs_apart_and_is_deterministic(iqa, examples):
    splits: dict[str, set[str]] = {}
    for e in examples:
        splits.setdefault(e.pair, set()).add(e.split)
    assert all(len(s) == 1 for s in splits.values())
    held = sum(e.split == "heldout" for e in examples) / len(examples)
    assert 0.1 < held < 0.45
    pairs = sorted({e.pair for e in examples})
    a = build_instructions(iqa, reference_labels(iqa), seed=0, heldout=0.25)
    b = build_instructions(iqa, reference_labels(iqa), seed=0, heldout=0.25)
    c = build_instructions(iqa, reference_labels(iqa), seed=1, heldout=0.25)
    assert a == b
    assert [e.split for e in a] != [e.split for e in c]
    assert len(pairs) > 50


def test_human_labels_from_the_store(tmp_path: Path, iqa):
    store = AnnotationStore(tmp_path / "a.sqlite")
    store.add_items(iqa[:4])
    for i, c in enumerate(iqa[:4]):
        store.save_label(Label(c.candidate_id, "alice", {q: i % 2 == 0 for q in QUESTIONS}))
    ex = build_instructions(store.candidates(), final_labels(store))
    plaus = {e.item_id: e.answer for e in ex if e.task == "plausibility"}
    assert plaus == {c.candidate_id: ("yes" if i % 2 == 0 else "no") for i, c in enumerate(iqa[:4])}
    assert sum(e.task == "generation" for e in ex) == 2


def test_jsonl_round_trip_and_bad_lines(tmp_path: Path, examples):
    out = write_examples(examples, tmp_path / "inst.jsonl", seed=0)
    man = read_manifest(out)
    assert man["counts"]["examples"] == len(examples)
    assert sum(v for k, v in man["counts"].items() if k.startswith("heldout.")) > 0
    assert read_examples(out) == examples
    bad = tmp_path / "bad.jsonl"
    lines = out.read_text().splitlines()[:3]
    row = json.loads(lines[1])
    del row["answer"]
    bad.write_text("\n".join([lines[0], json.dumps(row), lines[2]]) + "\n")
    with pytest.raises(InputError) as e:
        read_examples(bad)
    assert (e.value.line, e.value.field) == (2, "answer")
