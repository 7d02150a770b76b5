"""IntentionQA (Ding et al., 2024) as an end-to-end check of the knowledge graph.

* **Task 1** (IntentUnderstand): given co-bought products A and B, pick the intention that
  explains the purchase among the options (usually 4).
* **Task 2** (IntentUtilize): given product A and the intention, pick product B among 4.

Honesty rules this module keeps: ``gold`` is read only by :func:`accuracy` and by training
code on the training split; every split is by co-buy pair (``item_a_id``, ``item_b_id``),
so no question of a held-out pair ever reaches the knowledge graph or a trained scorer.

:func:`kg_from_questions` turns the questions of *training* pairs into the six KG tables
(a crude relation split from the assertion wording), the same format ``cosmo kg export``
writes, so the scorers read "the knowledge graph" and not the benchmark.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.schema import RELATION_TAIL_TYPES, intention_id

if TYPE_CHECKING:
    from cosmo.core.embeddings import Embedder
    from cosmo.gnn.tables import KGTables

__all__ = [
    "Question",
    "TextVectors",
    "accuracy",
    "baseline_predict",
    "group_folds",
    "intention_text",
    "kg_from_questions",
    "load_task",
    "query_text",
    "relation_of",
]

_LETTERS = "ABCDEFGH"
_PREFIX = re.compile(r"^PersonX bought a product of Item A and a product of Item B\s*", re.I)


@dataclass(frozen=True)
class Question:
    """One IntentionQA question (task 1 or 2). ``gold`` is for scoring and training only."""

    id: str
    task: int
    item_a_id: str
    item_b_id: str
    item_a_name: str
    item_b_name: str
    intention: str
    """Task 2: the given intention (input). Task 1: the gold assertion (never an input)."""
    options: tuple[str, ...]
    gold: int

    @property
    def pair(self) -> tuple[str, str]:
        return (self.item_a_id, self.item_b_id)


def intention_text(assertion: str) -> str:
    """``"PersonX bought ... because they both are X."`` → ``"because they both are X."``."""
    return _PREFIX.sub("", assertion.strip())


def load_task(path: Path, *, limit: int | None = None) -> list[Question]:
    """Read ``task1.jsonl`` or ``task2.jsonl`` (the task number is taken from the file name).

    Raises:
        InputError: a line is not JSON or lacks a field (file, line and field named).
    """
    path = Path(path)
    task = 2 if "2" in path.stem else 1
    out: list[Question] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read ({e})", file=str(path)) from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"not JSON ({e.msg})", file=str(path), line=n) from e
        for f in (
            "id",
            "item_a_id",
            "item_b_id",
            "item_a_name",
            "item_b_name",
            "assertion",
            "options",
            "gold_ind",
        ):
            if f not in r:
                raise InputError("missing field", file=str(path), line=n, field=f)
        letters = sorted(r["options"])
        if r["gold_ind"] not in letters:
            raise InputError(
                f"gold_ind {r['gold_ind']!r} is not an option",
                file=str(path),
                line=n,
                field="gold_ind",
            )
        out.append(
            Question(
                id=str(r["id"]),
                task=task,
                item_a_id=str(r["item_a_id"]),
                item_b_id=str(r["item_b_id"]),
                item_a_name=str(r["item_a_name"]),
                item_b_name=str(r["item_b_name"]),
                intention=intention_text(str(r["assertion"])),
                options=tuple(str(r["options"][k]) for k in letters),
                gold=letters.index(r["gold_ind"]),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


_RELATION_RULES: tuple[tuple[str, str], ...] = (
    (r"\bcapable of\b", "CAPABLE_OF"),
    (r"\ba type of\b|\bdefined as\b", "IS_A"),
    (r"\bused (?:for|to)\b", "USED_FOR_FUNC"),
    (r"\bused (?:by|for (?:a|an|the) )", "USED_FOR_AUD"),
    (r"\bworn\b|\bused as\b|\bbe used as\b", "USED_AS"),
    (r"\bfound in\b|\bused in\b", "USED_IN_LOC"),
    (r"\bused with\b|\bwith each other\b", "USED_WITH"),
    (r"\brelated to\b|\bmanner of\b|\binterested\b", "xINTERESTED_IN"),
    (r"\bhave a property\b", "IS_A"),
)


def relation_of(intention: str) -> str:
    """A crude COSMO relation for an IntentionQA assertion, from its wording."""
    low = intention.lower()
    for pattern, rel in _RELATION_RULES:
        if re.search(pattern, low):
            return rel
    return "xWANT"


def kg_from_questions(questions: Iterable[Question]) -> KGTables:
    """The knowledge graph of these (training) questions: products, co-buy edges, intentions.

    Every question contributes the edge ``product -[relation]-> intention`` for both of its
    products, as COSMO's loader does for a co-buy pair; typicality is not in the question
    record, so it is left empty.
    """
    from cosmo.gnn.tables import KGTables

    products: dict[str, str] = {}
    co_buy: dict[tuple[str, str], int] = {}
    intentions: dict[str, tuple[str, str]] = {}
    knowledge: dict[tuple[str, str, str], list[str]] = {}
    for q in questions:
        products[q.item_a_id] = q.item_a_name
        products[q.item_b_id] = q.item_b_name
        a, b = sorted(q.pair)
        co_buy[(a, b)] = co_buy.get((a, b), 0) + 1
        rel = relation_of(q.intention)
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


class TextVectors:
    """Embeds each distinct text once and hands out unit vectors by text."""

    def __init__(
        self, embedder: Embedder, texts: Iterable[str] = (), *, batch_size: int = 64
    ) -> None:
        self.embedder = embedder
        self.batch_size = batch_size
        self._index: dict[str, int] = {}
        self._vecs = np.zeros((0, embedder.dim), dtype=np.float32)
        self.add(texts)

    def add(self, texts: Iterable[str]) -> None:
        new = [t for t in dict.fromkeys(texts) if t not in self._index]
        if not new:
            return
        vecs = np.asarray(self.embedder.embed(new, batch_size=self.batch_size), dtype=np.float32)
        for t in new:
            self._index[t] = len(self._index)
        self._vecs = np.concatenate([self._vecs, vecs.reshape(len(new), -1)])

    def save(self, path: Path) -> None:
        """Keep the vectors (``.npz``) so later runs embed only new texts."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, texts=np.array(list(self._index), dtype=object), vecs=self._vecs)
        tmp.replace(path)

    def load(self, path: Path) -> int:
        """Add the vectors saved by :meth:`save` (same model!); returns how many."""
        if not path.exists():
            return 0
        z = np.load(path, allow_pickle=True)
        texts, vecs = list(z["texts"]), z["vecs"]
        if vecs.shape[1:] != (self.embedder.dim,):
            return 0
        keep = [n for n, t in enumerate(texts) if t not in self._index]
        for n in keep:
            self._index[texts[n]] = len(self._index)
        self._vecs = np.concatenate([self._vecs, vecs[keep].astype(np.float32)])
        return len(keep)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.add(texts)
        return self._vecs[[self._index[t] for t in texts]] if texts else self._vecs[:0]


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
