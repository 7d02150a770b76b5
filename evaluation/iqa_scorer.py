"""A learned IntentionQA scorer on frozen MiniLM vectors, with and without KG features.

Each option gets a feature vector; a linear layer scores it and a softmax over the options
is trained with cross-entropy on the *training pairs only*. :func:`cross_validate` does this
in k folds grouped by co-buy pair, building the knowledge graph of each fold from its
training questions, so every question is answered by a scorer and a KG that never saw its
pair.

Features (unit vectors, ``·`` is the cosine):

* no KG: ``query·option``, ``A·option``, ``(B | intention)·option`` and the element-wise
  product ``query ⊙ option`` (384 learned weights);
* KG, task 1: the best match of the option among the intentions the KG links to A, to B,
  and to A's and B's co-buy neighbours;
* KG, task 2: the best match of the given intention among the candidate's KG intentions,
  the best match between A's and the candidate's KG intentions, a KG co-buy edge between A
  and the candidate, and title matches between each product and the other's co-buy
  neighbours.

Whether a product is in the KG at all is never a feature: distractor products of task 2
come from other pairs and are in the training KG more often than the gold item, so presence
alone would leak. ``shuffle_kg=True`` permutes intention texts across the KG (presence kept,
content destroyed): the control that shows the gain comes from the knowledge itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cosmo.core.embeddings import TextVectors
from cosmo.evaluation.intentionqa import group_folds, kg_from_questions, query_text
from cosmo.ingest.intentionqa import Question
from cosmo.kg.export import KGTables

__all__ = ["KGIndex", "OptionScorer", "cross_validate", "features"]


@dataclass
class KGIndex:
    """Product → intention texts and product → co-buy neighbour titles, from KG tables."""

    intentions: dict[str, list[str]] = field(default_factory=dict)
    neighbours: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    by_title: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_tables(cls, tables: KGTables, *, shuffle_seed: int | None = None) -> KGIndex:
        text = dict(zip(tables.intentions["id"], tables.intentions["text"], strict=True))
        if shuffle_seed is not None:
            ids = list(text)
            perm = np.random.default_rng(shuffle_seed).permutation(len(ids))
            text = {ids[i]: text[ids[j]] for i, j in enumerate(perm)}
        kn = tables.knowledge[tables.knowledge["head_label"] == "Product"]
        intentions: dict[str, list[str]] = defaultdict(list)
        for h, i in zip(kn["head_id"], kn["intention_id"], strict=True):
            intentions[h].append(text[i])
        titles = dict(zip(tables.products["id"], tables.products["title"].fillna(""), strict=True))
        neighbours: dict[str, list[str]] = defaultdict(list)
        for a, b in zip(tables.co_buy["a"], tables.co_buy["b"], strict=True):
            neighbours[a].append(b)
            neighbours[b].append(a)
        return cls(dict(intentions), dict(neighbours), titles, {t: p for p, t in titles.items()})

    def knows(self, q: Question) -> bool:
        """Whether the KG has intentions for a product of the question (A, B or an option)."""
        if q.item_a_id in self.intentions or (q.task == 1 and q.item_b_id in self.intentions):
            return True
        return q.task == 2 and any(self.by_title.get(o) in self.intentions for o in q.options)

    def neighbour_intentions(self, pid: str) -> list[str]:
        return [t for n in self.neighbours.get(pid, []) for t in self.intentions.get(n, [])]


def _best(vectors: TextVectors, texts: Sequence[str], target: np.ndarray) -> float:
    """Highest cosine between ``target`` and any of ``texts`` (0 when there are none)."""
    return float((vectors(list(texts)) @ target).max()) if texts else 0.0


def _best_pair(vectors: TextVectors, xs: Sequence[str], ys: Sequence[str]) -> float:
    return float((vectors(list(xs)) @ vectors(list(ys)).T).max()) if xs and ys else 0.0


N_KG = 5


def features(q: Question, vectors: TextVectors, kg: KGIndex | None) -> np.ndarray:
    """``[n_options, 3 + dim + N_KG]`` features of one question (KG columns 0 without a KG)."""
    opts = vectors(list(q.options))
    qv = vectors([query_text(q)])[0]
    av = vectors([q.item_a_name])[0]
    other = vectors([q.item_b_name if q.task == 1 else q.intention])[0]
    base = np.stack([opts @ qv, opts @ av, opts @ other], 1)
    kgf = np.zeros((len(q.options), N_KG), dtype=np.float32)
    if kg is not None:
        a_int = kg.intentions.get(q.item_a_id, [])
        if q.task == 1:
            b_int = kg.intentions.get(q.item_b_id, [])
            near = kg.neighbour_intentions(q.item_a_id) + kg.neighbour_intentions(q.item_b_id)
            for j, o in enumerate(opts):
                ka, kb = _best(vectors, a_int, o), _best(vectors, b_int, o)
                kgf[j] = (ka, kb, max(ka, kb), _best(vectors, near, o), 0.0)
        else:
            iv = vectors([q.intention])[0]
            a_near = [kg.titles.get(n, "") for n in kg.neighbours.get(q.item_a_id, [])]
            for j, (pid, ov) in enumerate(zip(_option_ids(q, kg), opts, strict=True)):
                c_int = kg.intentions.get(pid, []) if pid else []
                c_near = [kg.titles.get(n, "") for n in kg.neighbours.get(pid, [])] if pid else []
                kgf[j] = (
                    _best(vectors, c_int, iv),
                    _best_pair(vectors, a_int, c_int),
                    float(pid in kg.neighbours.get(q.item_a_id, [])) if pid else 0.0,
                    _best(vectors, a_near, ov),
                    _best(vectors, c_near, av),
                )
    return np.concatenate([base, opts * qv, kgf], 1).astype(np.float32)


def _option_ids(q: Question, kg: KGIndex) -> list[str | None]:
    """Product ids of the task-2 options, found by exact title in the KG (None if absent)."""
    return [kg.by_title.get(o) for o in q.options]


class OptionScorer:
    """Linear option scorer trained with a softmax over each question's options."""

    def __init__(
        self,
        *,
        use_kg: bool,
        epochs: int = 300,
        lr: float = 0.02,
        weight_decay: float = 1e-3,
        seed: int = 0,
    ) -> None:
        self.use_kg = use_kg
        self.epochs, self.lr, self.weight_decay, self.seed = epochs, lr, weight_decay, seed
        self.losses: list[float] = []
        self._w: np.ndarray | None = None

    def _mask(self, x: np.ndarray) -> np.ndarray:
        return (
            x
            if self.use_kg
            else np.concatenate([x[..., :-N_KG], np.zeros_like(x[..., -N_KG:])], -1)
        )

    def fit(self, xs: Sequence[np.ndarray], golds: Sequence[int]) -> OptionScorer:
        import torch

        torch.manual_seed(self.seed)
        k = max(len(x) for x in xs)
        dim = xs[0].shape[1]
        x = torch.zeros(len(xs), k, dim)
        pad = torch.ones(len(xs), k, dtype=torch.bool)
        for n, f in enumerate(xs):
            x[n, : len(f)] = torch.as_tensor(self._mask(f))
            pad[n, : len(f)] = False
        y = torch.as_tensor(list(golds))
        lin = torch.nn.Linear(dim, 1)
        torch.nn.init.zeros_(lin.weight)
        with torch.no_grad():
            lin.weight[0, 0] = 10.0  # start at the plain-similarity baseline
        opt = torch.optim.Adam(lin.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for _ in range(self.epochs):
            opt.zero_grad()
            logits = lin(x).squeeze(-1).masked_fill(pad, -1e9)
            loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            self.losses.append(loss.item())
        self._w = torch.cat([lin.weight[0], lin.bias]).detach().numpy()
        return self

    def predict(self, xs: Sequence[np.ndarray]) -> np.ndarray:
        if self._w is None:
            raise RuntimeError("fit the scorer first")
        w, b = self._w[:-1], self._w[-1]
        return np.array([int(np.argmax(self._mask(f) @ w + b)) for f in xs])


def _kg(train: Sequence[Question], shuffle_seed: int | None) -> KGIndex:
    return KGIndex.from_tables(kg_from_questions(train), shuffle_seed=shuffle_seed)


def cross_validate(
    questions: Sequence[Question],
    vectors: TextVectors,
    *,
    use_kg: bool,
    folds: int = 5,
    shuffle_kg: bool = False,
    kg_tables: KGTables | None = None,
    seed: int = 0,
    coverage: list[bool] | None = None,
) -> np.ndarray:
    """Out-of-fold predictions for every question (folds grouped by co-buy pair).

    Args:
        use_kg: add the KG features. The KG is built from each fold's training questions,
            unless ``kg_tables`` is given: a KG made without the benchmark's answers (by the
            cosmo pipeline, say), used as is for every question.
        shuffle_kg: the content-ablation control (intention texts permuted across the KG).
        coverage: when a list is given, it receives for each question whether the KG knew
            anything about its products (filled in question order).
    """
    preds = np.zeros(len(questions), dtype=np.int64)
    fixed = (
        KGIndex.from_tables(kg_tables, shuffle_seed=seed if shuffle_kg else None)
        if use_kg and kg_tables is not None
        else None
    )
    covered = np.zeros(len(questions), dtype=bool)
    all_idx = np.arange(len(questions))
    for f, test_idx in enumerate(group_folds(questions, folds, seed=seed)):
        train_idx = np.setdiff1d(all_idx, test_idx)
        xs: dict[int, np.ndarray] = {}
        train = [questions[i] for i in train_idx]
        shuffle = seed + f if shuffle_kg else None
        # held-out questions: the KG of all training pairs
        kg = (fixed or _kg(train, shuffle)) if use_kg else None
        xs.update({int(i): features(questions[i], vectors, kg) for i in test_idx})
        if kg is not None:
            covered[test_idx] = [kg.knows(questions[i]) for i in test_idx]
        # training questions: a KG without their own pair (inner folds), as at test time
        for inner in group_folds(train, folds, seed=seed + 1):
            inner_set = set(inner.tolist())
            kg_in = (
                _kg([t for n, t in enumerate(train) if n not in inner_set], shuffle)
                if use_kg
                else None
            )
            xs.update({int(train_idx[n]): features(train[n], vectors, kg_in) for n in inner})
        scorer = OptionScorer(use_kg=use_kg, seed=seed).fit(
            [xs[i] for i in train_idx], [questions[i].gold for i in train_idx]
        )
        preds[test_idx] = scorer.predict([xs[i] for i in test_idx])
    if coverage is not None:
        coverage[:] = covered.tolist()
    return preds
