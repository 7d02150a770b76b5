"""Inter-annotator agreement per question: Cohen's kappa (two annotators), Fleiss' kappa (more).

Fleiss' kappa uses the form for a varying number of raters per item (items with at least
two labels), which equals the textbook form when every item has the same number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cosmo.refine.annotation.items import QUESTIONS, Label

__all__ = ["Agreement", "agreement", "cohen_kappa", "fleiss_kappa"]


def cohen_kappa(a: Sequence[bool | int], b: Sequence[bool | int]) -> float:
    """Cohen's kappa of two raters' labels on the same items (1.0 when both are constant
    and equal; NaN when there are no items)."""
    if len(a) != len(b):
        raise ValueError("both raters need the same items")
    if not a:
        return float("nan")
    x, y = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    cats = np.union1d(x, y)
    po = float(np.mean(x == y))
    pe = float(sum(np.mean(x == c) * np.mean(y == c) for c in cats))
    if pe >= 1.0:
        return 1.0 if po >= 1.0 else 0.0
    return (po - pe) / (1.0 - pe)


def fleiss_kappa(counts: np.ndarray | Sequence[Sequence[int]]) -> float:
    """Fleiss' kappa from an items × categories matrix of rating counts.

    Rows may have different totals (≥ 2 raters each); rows with fewer are ignored.
    """
    m = np.asarray(counts, dtype=float)
    if m.ndim != 2:
        raise ValueError("counts must be a 2-D items x categories matrix")
    n = m.sum(axis=1)
    m, n = m[n >= 2], n[n >= 2]
    if len(m) == 0:
        return float("nan")
    p_i = ((m * (m - 1)).sum(axis=1)) / (n * (n - 1))
    p_bar = float(p_i.mean())
    p_j = m.sum(axis=0) / n.sum()
    p_e = float((p_j**2).sum())
    if p_e >= 1.0:
        return 1.0 if p_bar >= 1.0 else 0.0
    return (p_bar - p_e) / (1.0 - p_e)


@dataclass
class Agreement:
    """Agreement per question over the items labelled by at least two annotators."""

    method: str
    annotators: list[str]
    items: int
    kappa: dict[str, float] = field(default_factory=dict)
    percent_agreement: dict[str, float] = field(default_factory=dict)
    yes_rate: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        def clean(d: dict[str, float]) -> dict[str, float | None]:
            return {k: (None if v != v else round(v, 4)) for k, v in d.items()}

        return {
            "method": self.method,
            "annotators": self.annotators,
            "items": self.items,
            "kappa": clean(self.kappa),
            "percent_agreement": clean(self.percent_agreement),
            "yes_rate": clean(self.yes_rate),
        }


def agreement(labels: Sequence[Label]) -> Agreement:
    """Per-question agreement: Cohen's kappa with two annotators, Fleiss' kappa with more."""
    by_item: dict[str, dict[str, Label]] = defaultdict(dict)
    for lab in labels:
        by_item[lab.item_id][lab.annotator] = lab
    shared = {i: d for i, d in by_item.items() if len(d) >= 2}
    annotators = sorted({a for d in shared.values() for a in d})
    method = "cohen" if len(annotators) == 2 else "fleiss"
    res = Agreement(method=method, annotators=annotators, items=len(shared))
    for q in QUESTIONS:
        if method == "cohen":
            a, b = annotators
            xs = [d[a].answers[q] for d in shared.values()]
            ys = [d[b].answers[q] for d in shared.values()]
            res.kappa[q] = cohen_kappa(xs, ys)
        else:
            counts = [
                [
                    sum(not lab.answers[q] for lab in d.values()),
                    sum(lab.answers[q] for lab in d.values()),
                ]
                for d in shared.values()
            ]
            res.kappa[q] = fleiss_kappa(np.asarray(counts).reshape(-1, 2))
        agree = [len({lab.answers[q] for lab in d.values()}) == 1 for d in shared.values()]
        res.percent_agreement[q] = float(np.mean(agree)) if agree else float("nan")
        yes = [lab.answers[q] for lab in labels]
        res.yes_rate[q] = float(np.mean(yes)) if yes else float("nan")
    return res
