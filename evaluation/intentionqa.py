"""IntentionQA (Ding et al., 2024) as an end-to-end check of the knowledge graph.

* **Task 1** (IntentUnderstand): given co-bought products A and B, pick the intention that
  explains the purchase among the options (usually 4).
* **Task 2** (IntentUtilize): given product A and the intention, pick product B among 4.

Honesty rules this module keeps: ``gold`` is read only by :func:`accuracy` and by training
code on the training split; every split is by co-buy pair (``item_a_id``, ``item_b_id``),
so no question of a held-out pair ever reaches the knowledge graph or a trained scorer.

:func:`kg_from_questions` turns the questions of *training* pairs into the six KG tables
(relations from :func:`cosmo.ingest.intentionqa.parse_assertion`), the same format
``cosmo kg export`` writes, so the scorers read "the knowledge graph" and not the
benchmark. The questions themselves are read by :func:`cosmo.ingest.intentionqa.load_questions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cosmo.core.schema import RELATION_TAIL_TYPES, intention_id
from cosmo.ingest.intentionqa import Question, parse_assertion

if TYPE_CHECKING:
    from cosmo.core.embeddings import TextVectors
    from cosmo.kg.export import KGTables

__all__ = [
    "accuracy",
    "baseline_predict",
    "group_folds",
    "kg_from_questions",
    "query_text",
]


def kg_from_questions(questions: Iterable[Question]) -> KGTables:
    """The knowledge graph of these (training) questions: products, co-buy edges, intentions.

    Every question contributes the edge ``product -[relation]-> intention`` for both of its
    products, as COSMO's loader does for a co-buy pair; typicality is not in the question
    record, so it is left empty.
    """
    from cosmo.kg.export import KGTables

    products: dict[str, str] = {}
    co_buy: dict[tuple[str, str], int] = {}
    intentions: dict[str, tuple[str, str]] = {}
    knowledge: dict[tuple[str, str, str], list[str]] = {}
    for q in questions:
        products[q.item_a_id] = q.item_a_name
        products[q.item_b_id] = q.item_b_name
        a, b = sorted(q.pair)
        co_buy[(a, b)] = co_buy.get((a, b), 0) + 1
        rel, _ = parse_assertion(q.intention)
        tail_type = RELATION_TAIL_TYPES[rel]
        iid = intention_id(q.intention, tail_type)
        intentions[iid] = (q.intention, tail_type)
        for head in (q.item_a_id, q.item_b_id):
            knowledge.setdefault((head, rel, iid), []).append(f"cb:{a}|{b}")
    return KGTables.from_frames(
        "intentionqa",
        products=pd.DataFrame(
            [
                {"id": k, "title": v, "type": None, "domain": None, "brand": None}
                for k, v in products.items()
            ]
        ),
        intentions=pd.DataFrame(
            [
                {"id": k, "text": t, "tail_type": tt, "aliases": []}
                for k, (t, tt) in intentions.items()
            ]
        ),
        co_buy=pd.DataFrame([{"a": a, "b": b, "count": c} for (a, b), c in co_buy.items()]),
        knowledge=pd.DataFrame(
            [
                {
                    "head_label": "Product",
                    "head_id": h,
                    "relation": r,
                    "intention_id": i,
                    "plausibility": 1.0,
                    "typicality": None,
                    "frequency": len(src),
                    "sources": sorted(set(src)),
                }
                for (h, r, i), src in knowledge.items()
            ]
        ),
    )


def query_text(q: Question) -> str:
    """What the no-KG baseline embeds: ``"A ; B"`` (task 1) or ``"A ; intention"`` (task 2)."""
    return f"{q.item_a_name} ; {q.item_b_name if q.task == 1 else q.intention}"


def baseline_predict(questions: Sequence[Question], vectors: TextVectors) -> np.ndarray:
    """Plain MiniLM similarity, no KG: the option closest to :func:`query_text` wins."""
    vectors.add([query_text(q) for q in questions] + [o for q in questions for o in q.options])
    preds = np.zeros(len(questions), dtype=np.int64)
    for n, q in enumerate(questions):
        sims = vectors(list(q.options)) @ vectors([query_text(q)])[0]
        preds[n] = int(np.argmax(sims))
    return preds


def accuracy(questions: Sequence[Question], predictions: Sequence[int] | np.ndarray) -> float:
    """Share of questions answered right (the only place besides training that reads gold)."""
    if len(questions) != len(predictions):
        raise ValueError("one prediction per question is needed")
    if not questions:
        return float("nan")
    return float(np.mean([int(p) == q.gold for q, p in zip(questions, predictions, strict=True)]))


def group_folds(questions: Sequence[Question], k: int = 5, *, seed: int = 0) -> list[np.ndarray]:
    """Fold number of each question, grouped by co-buy pair (a pair never spans two folds)."""
    pairs = sorted({q.pair for q in questions})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    fold_of = {pairs[i]: n % k for n, i in enumerate(order)}
    folds = np.array([fold_of[q.pair] for q in questions])
    return [np.nonzero(folds == f)[0] for f in range(k)]
