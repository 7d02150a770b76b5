"""Items, sampling and the resumable annotation loop."""

from __future__ import annotations

import pytest

from cosmo.core.errors import InputError
from cosmo.core.schema import normalise_text
from cosmo.refine.annotation import (
    QUESTIONS,
    AnnotationStore,
    Label,
    annotation_weights,
    weighted_sample,
)


def yes(**no: bool) -> dict[str, bool]:
    return {q: no.get(q, True) for q in QUESTIONS}


def test_intentionqa_candidates_carry_gold_and_distractors(iqa_candidates):
    gold = [c for c in iqa_candidates if c.origin == "intentionqa"]
    distractors = [c for c in iqa_candidates if c.origin == "intentionqa-distractor"]
    assert len(gold) == 30
    assert len(distractors) >= 60
    assert all(0.6 <= (c.reference_score or 0) <= 1.0 for c in gold)
    assert all(c.reference_score is None for c in distractors)
    assert all(c.tail.startswith("because") for c in iqa_candidates)
    assert len({c.candidate_id for c in iqa_candidates}) == len(iqa_candidates)
    # Amazon titles come HTML-escaped (&quot;); the items show them as people write them
    titles = " ".join(f"{c.source_title} {c.target_title} {c.tail}" for c in iqa_candidates)
    assert "&quot;" not in titles and "&amp;" not in titles and '"' in titles


def test_weights_are_tail_frequency_times_head_popularity(iqa_candidates):
    pop = {c.source: 1.0 for c in iqa_candidates}
    first = iqa_candidates[0]
    pop[first.source] = 7.0
    w = annotation_weights(iqa_candidates, pop)
    same_tail = sum(normalise_text(c.tail) == normalise_text(first.tail) for c in iqa_candidates)
    assert w[0] == pytest.approx(same_tail * 7.0)


def test_weighted_sample_is_seedable_and_favours_heavy_items(iqa_candidates):
    a = weighted_sample(iqa_candidates, 10, seed=3)
    b = weighted_sample(iqa_candidates, 10, seed=3)
    c = weighted_sample(iqa_candidates, 10, seed=4)
    assert [x.candidate_id for x in a] == [x.candidate_id for x in b]
    assert [x.candidate_id for x in a] != [x.candidate_id for x in c]
    assert len({x.candidate_id for x in a}) == 10
    # a head made very popular is nearly always sampled
    heavy = iqa_candidates[5]
    pop = {x.source: 1.0 for x in iqa_candidates} | {heavy.source: 1e6}
    hits = sum(
        any(
            x.source == heavy.source
            for x in weighted_sample(iqa_candidates, 3, seed=s, head_popularity=pop)
        )
        for s in range(20)
    )
    assert hits == 20


def test_loop_resumes_across_store_objects(ann_store: AnnotationStore, tmp_path):
    first = ann_store.next_item("alice")
    assert first is not None and first["position"] == 0 and first["audit"] is False
    for _ in range(3):
        it = ann_store.next_item("alice")
        ann_store.save_label(Label(it["item_id"], "alice", yes()))
    again = AnnotationStore(ann_store.path)  # a fresh process would do the same
    nxt = again.next_item("alice")
    assert nxt["position"] == 3
    assert again.progress("alice") == {
        "total": 12,
        "done": 3,
        "remaining": 9,
        "audits_total": 0,
        "audits_done": 0,
    }
    # another annotator starts at the beginning
    assert again.next_item("bob")["position"] == 0


def test_undo_returns_the_last_item_with_its_answers(ann_store: AnnotationStore):
    a = ann_store.next_item("alice")
    ann_store.save_label(Label(a["item_id"], "alice", yes(typicality=False)))
    b = ann_store.next_item("alice")
    ann_store.save_label(Label(b["item_id"], "alice", yes(plausibility=False)))
    back = ann_store.undo("alice")
    assert back["item_id"] == b["item_id"]
    assert back["previous"]["plausibility"] is False and back["previous"]["typicality"] is True
    assert ann_store.next_item("alice")["item_id"] == b["item_id"]
    assert ann_store.undo("alice")["item_id"] == a["item_id"]
    assert ann_store.undo("alice") is None
    assert ann_store.progress("alice")["done"] == 0


def test_bad_labels_are_refused(ann_store: AnnotationStore):
    with pytest.raises(InputError, match="unknown item id") as e:
        ann_store.save_label(Label("nope", "alice", yes()))
    assert e.value.field == "item_id"
    it = ann_store.next_item("alice")
    with pytest.raises(InputError) as e:
        ann_store.save_label(Label(it["item_id"], "alice", {"completeness": True}))
    assert e.value.field == "relevance"
    with pytest.raises(InputError, match="annotator id"):
        ann_store.next_item("two words")
    assert ann_store.labels() == []


def test_add_items_is_idempotent(ann_store: AnnotationStore, iqa_candidates):
    assert ann_store.add_items(iqa_candidates[:12]) == 0
    assert ann_store.add_items(iqa_candidates[10:14]) == 2
    assert [i["position"] for i in ann_store.items()] == list(range(14))
    assert ann_store.candidates()[0] == iqa_candidates[0]


def test_candidates_parquet_round_trip_and_bad_row(iqa_candidates, tmp_path):
    import pandas as pd

    from cosmo.core.artifacts import read_candidates, write_candidates

    path = write_candidates(iqa_candidates[:5], tmp_path / "candidates.parquet")
    assert read_candidates(path) == iqa_candidates[:5]
    df = pd.read_parquet(path)
    df.loc[2, "behaviour"] = "window_shopping"
    df.to_parquet(tmp_path / "bad.parquet", index=False)
    with pytest.raises(InputError) as e:
        read_candidates(tmp_path / "bad.parquet")
    assert (e.value.line, e.value.field) == (4, "behaviour")
