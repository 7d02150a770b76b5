"""After annotation: adjudicating disagreements, final labels, and audit sampling.

* :func:`adjudicate` settles every (item, question) where annotators disagree by strict
  majority and records the decision (``method='majority'``); ties stay open until an
  adjudicator decides (:func:`decide`, ``method='adjudicator'``, who is recorded).
* :func:`final_labels` gives one answer per item and question: the adjudicated one, else
  the unanimous (or only) answer; open ties are left out.
* :func:`sample_audit` queues a seeded fraction of labelled items for a second look by a
  reviewer; :func:`audit_report` says how often the reviewer agreed with the original labels.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cosmo.refine.annotation.items import QUESTIONS
from cosmo.refine.annotation.store import AnnotationStore

__all__ = [
    "AdjudicationReport",
    "adjudicate",
    "audit_report",
    "decide",
    "final_labels",
    "sample_audit",
]


@dataclass
class AdjudicationReport:
    disagreements: int = 0
    resolved_by_majority: int = 0
    already_decided: int = 0
    open_ties: list[tuple[str, str]] = field(default_factory=list)


def _votes(store: AnnotationStore) -> dict[str, dict[str, list[bool]]]:
    votes: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for lab in store.labels():
        for q in QUESTIONS:
            votes[lab.item_id][q].append(bool(lab.answers[q]))
    return votes


def adjudicate(store: AnnotationStore) -> AdjudicationReport:
    """Resolve disagreements by strict majority; report the ties an adjudicator must decide."""
    decided = {(d["item_id"], d["question"]) for d in store.adjudications()}
    rep = AdjudicationReport()
    for item_id, qs in _votes(store).items():
        for q, v in qs.items():
            if len(set(v)) < 2:
                continue
            rep.disagreements += 1
            if (item_id, q) in decided:
                rep.already_decided += 1
                continue
            yes = sum(v)
            if yes * 2 == len(v):
                rep.open_ties.append((item_id, q))
                continue
            store.record_adjudication(item_id, q, yes * 2 > len(v), method="majority")
            rep.resolved_by_majority += 1
    return rep


def decide(
    store: AnnotationStore, item_id: str, question: str, label: bool, adjudicator: str
) -> None:
    """Record an adjudicator's decision (it overrides a majority)."""
    store.record_adjudication(
        item_id, question, label, method="adjudicator", adjudicator=adjudicator
    )


def final_labels(store: AnnotationStore) -> dict[str, dict[str, bool]]:
    """One answer per item and question (adjudicated, else unanimous); open ties left out."""
    adj = {(d["item_id"], d["question"]): d["label"] for d in store.adjudications()}
    out: dict[str, dict[str, bool]] = {}
    for item_id, qs in _votes(store).items():
        ans: dict[str, bool] = {}
        for q, v in qs.items():
            if (item_id, q) in adj:
                ans[q] = adj[(item_id, q)]
            elif len(set(v)) == 1:
                ans[q] = v[0]
        if ans:
            out[item_id] = ans
    return out


def sample_audit(
    store: AnnotationStore, fraction: float, reviewer: str, *, seed: int = 0
) -> list[str]:
    """Queue ``fraction`` of the labelled items (at least one) for a second look by ``reviewer``.

    The reviewer sees them first on the annotation page, marked as an audit.
    """
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    done = sorted({lab.item_id for lab in store.labels()})
    if not done:
        return []
    k = max(1, round(fraction * len(done)))
    chosen = random.Random(seed).sample(done, k)
    store.request_audits(chosen, reviewer)
    return chosen


def audit_report(store: AnnotationStore) -> dict[str, Any]:
    """How often audit answers match the original labels, per question and per annotator
    (a reviewer auditing their own labels measures their self-consistency)."""
    labels = defaultdict(list)
    for lab in store.labels():
        labels[lab.item_id].append(lab)
    per_q = {q: [0, 0] for q in QUESTIONS}
    per_annotator: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    audits = store.audits(done_only=True)
    for a in audits:
        for lab in labels.get(a["item_id"], []):
            for q in QUESTIONS:
                same = int(lab.answers[q] == a["answers"][q])
                per_q[q][0] += same
                per_q[q][1] += 1
                per_annotator[lab.annotator][0] += same
                per_annotator[lab.annotator][1] += 1
    return {
        "audits_done": len(audits),
        "agreement_by_question": {q: (s / n if n else None) for q, (s, n) in per_q.items()},
        "agreement_by_annotator": {
            a: (s / n if n else None) for a, (s, n) in per_annotator.items()
        },
    }
