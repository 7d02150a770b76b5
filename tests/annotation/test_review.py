"""Adjudication by majority and by an adjudicator; final labels; audit sampling."""

from __future__ import annotations

from cosmo.refine.annotation import (
    QUESTIONS,
    AnnotationStore,
    Label,
    adjudicate,
    audit_report,
    decide,
    final_labels,
    sample_audit,
)


def ans(**no: bool) -> dict[str, bool]:
    return {q: no.get(q, True) for q in QUESTIONS}


def test_majority_ties_and_decisions(ann_store: AnnotationStore):
    i0, i1, i2 = (it["item_id"] for it in ann_store.items()[:3])
    for who, t in (("a", True), ("b", True), ("c", False)):
        ann_store.save_label(Label(i0, who, ans(typicality=t)))
    ann_store.save_label(Label(i1, "a", ans(plausibility=False)))
    ann_store.save_label(Label(i1, "b", ans()))
    ann_store.save_label(Label(i2, "a", ans(relevance=False)))
    rep = adjudicate(ann_store)
    assert rep.disagreements == 2 and rep.resolved_by_majority == 1
    assert rep.open_ties == [(i1, "plausibility")]
    fin = final_labels(ann_store)
    assert fin[i0]["typicality"] is True
    assert "plausibility" not in fin[i1]  # open tie
    assert fin[i2]["relevance"] is False  # single annotator
    decide(ann_store, i1, "plausibility", False, "lead")
    assert final_labels(ann_store)[i1]["plausibility"] is False
    rec = {(d["item_id"], d["question"]): d for d in ann_store.adjudications()}
    assert rec[(i1, "plausibility")]["method"] == "adjudicator"
    assert rec[(i1, "plausibility")]["adjudicator"] == "lead"
    assert rec[(i0, "typicality")]["method"] == "majority"
    again = adjudicate(ann_store)
    assert again.resolved_by_majority == 0 and again.already_decided == 2


def test_audit_sampling_queues_a_second_look(ann_store: AnnotationStore):
    items = [it["item_id"] for it in ann_store.items()]
    for i in items[:10]:
        ann_store.save_label(Label(i, "alice", ans()))
    chosen = sample_audit(ann_store, 0.3, "rev", seed=1)
    assert len(chosen) == 3 and set(chosen) <= set(items[:10])
    assert sample_audit(ann_store, 0.3, "rev", seed=1) == chosen  # seedable; no double queue
    assert ann_store.progress("rev")["audits_total"] == 3
    # the reviewer sees audits first, marked as such
    first = ann_store.next_item("rev")
    assert first["audit"] is True and first["item_id"] in chosen
    for k in range(3):
        it = ann_store.next_item("rev")
        ann_store.save_label(Label(it["item_id"], "rev", ans(typicality=k == 0)), audit=True)
    assert ann_store.next_item("rev")["audit"] is False
    rep = audit_report(ann_store)
    assert rep["audits_done"] == 3
    assert rep["agreement_by_question"]["typicality"] == 1 / 3
    assert rep["agreement_by_question"]["completeness"] == 1.0
    # undo takes back the last audit answer
    back = ann_store.undo("rev")
    assert back["audit"] is True and back["previous"]["typicality"] is False
    assert ann_store.progress("rev")["audits_done"] == 2
