"""V-SKNN: vector multiplication session-based kNN (Ludewig & Jannach, 2018), vectorised.

For a session prefix ``s`` the model

1. weights the prefix items by position (later clicks count more),
2. takes the ``sample_size`` most recent training sessions that share an item with ``s``
   (training sessions are assumed to be in chronological order, as the Diginetica file is),
3. keeps the ``k`` most similar of those by cosine similarity between the weighted prefix vector
   and the neighbour's binary item vector,
4. scores every item by the summed similarity of the neighbours that contain it
   (optionally times the item's IDF).

Everything runs as scipy sparse matrix products over batches of prefixes, so the full
Diginetica test set (60,858 prefixes) takes seconds, not minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from cosmo.gnn.session.data import SessionCases
from cosmo.gnn.session.metrics import RankMetrics, rank_metrics

__all__ = ["VSKNN", "WEIGHTINGS", "sparse_ranks"]

#: Positional weight of the item at 1-based position ``i`` of a prefix of length ``n``.
WEIGHTINGS: dict[str, Callable[[int, int], float]] = {
    "same": lambda i, n: 1.0,
    "linear": lambda i, n: i / n,
    "div": lambda i, n: 1.0 / (n - i + 1),
    "log": lambda i, n: 1.0 / math.log10(n - i + 1 + 1.7),
    "quadratic": lambda i, n: 1.0 / (n - i + 1) ** 2,
}


def sparse_ranks(scores: sp.csr_matrix, targets: np.ndarray) -> np.ndarray:
    """1-based target ranks from sparse scores (ties against the target; unscored = 0).

    Shapes:
        scores: ``[B, num_items + 1]`` with column 0 unused, targets: ``[B]`` → ``[B]``.
    """
    b, width = scores.shape
    rows = np.arange(b)
    target = np.asarray(scores[rows, targets]).ravel()
    row_of = np.repeat(rows, np.diff(scores.indptr))
    greater = np.bincount(row_of, weights=scores.data > target[row_of], minlength=b)
    equal = np.bincount(row_of, weights=scores.data == target[row_of], minlength=b)
    unscored = (width - 1) - np.diff(scores.indptr)
    # a target nobody scored ties with every unscored item
    ranks = greater + np.where(target > 0, equal, unscored)
    return ranks.astype(np.int64)


class SparseKNNScorer:
    """Dense scores, ranks and metrics for a kNN model that implements ``score_sparse``.

    Subclasses set ``batch_size`` and implement ``score_sparse(prefixes) -> csr [B, I + 1]``.
    """

    batch_size: int

    def score_sparse(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix:
        raise NotImplementedError

    def score(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        """Scores of all items for each prefix.

        Shapes:
            prefixes: ``B`` lists of item ids → ``[B, num_items + 1]`` float32 (column 0 unused).
        """
        return np.asarray(self.score_sparse(prefixes).todense(), dtype=np.float32)

    def rank(self, cases: SessionCases) -> np.ndarray:
        """1-based rank of each case's target among all items."""
        out = []
        for start in range(0, len(cases), self.batch_size):
            part = cases.subset(range(start, min(start + self.batch_size, len(cases))))
            out.append(sparse_ranks(self.score_sparse(part.prefixes), part.targets))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def evaluate(self, cases: SessionCases, k: int = 20) -> RankMetrics:
        """P@k and MRR@k of this model on ``cases``."""
        return rank_metrics(self.rank(cases), k)


class VSKNN(SparseKNNScorer):
    """Session-kNN with positional prefix weights (V-SKNN).

    Args:
        k: neighbours kept per prefix (by cosine similarity).
        sample_size: most recent candidate sessions considered per prefix.
        weighting: positional weighting of the prefix, one of :data:`WEIGHTINGS`.
        idf: multiply item scores by the item's inverse document frequency.
        batch_size: prefixes scored per sparse product.
    """

    def __init__(
        self,
        k: int = 100,
        sample_size: int = 500,
        weighting: str = "div",
        idf: bool = False,
        batch_size: int = 1024,
    ) -> None:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {sorted(WEIGHTINGS)}, got {weighting!r}")
        self.k = k
        self.sample_size = sample_size
        self.weighting = weighting
        self.idf = idf
        self.batch_size = batch_size
        self._m: sp.csr_matrix | None = None
        self._mt: sp.csr_matrix | None = None
        self._norm: np.ndarray | None = None
        self._idf: np.ndarray | None = None
        self.num_items = 0

    def fit(self, sessions: Sequence[Sequence[int]], num_items: int | None = None) -> VSKNN:
        """Index the training sessions (in chronological order). Returns ``self``."""
        n_items = num_items or max(max(s) for s in sessions)
        rows: list[int] = []
        cols: list[int] = []
        for r, s in enumerate(sessions):
            items = set(s)
            rows.extend([r] * len(items))
            cols.extend(items)
        data = np.ones(len(rows), dtype=np.float32)
        m = sp.csr_matrix((data, (rows, cols)), shape=(len(sessions), n_items + 1))
        m.sum_duplicates()
        m.data[:] = 1.0
        self._m = m
        self._mt = m.T.tocsr()
        lengths = np.asarray(m.sum(axis=1)).ravel()
        self._norm = np.sqrt(np.maximum(lengths, 1.0)).astype(np.float32)
        df = np.asarray(m.sum(axis=0)).ravel()
        self._idf = np.log(len(sessions) / np.maximum(df, 1.0)).astype(np.float32)
        self.num_items = n_items
        return self

    def _query(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        w = WEIGHTINGS[self.weighting]
        for r, p in enumerate(prefixes):
            n = len(p)
            weights: dict[int, float] = {}
            for i, item in enumerate(p, start=1):
                if 0 < item <= self.num_items:
                    weights[item] = w(i, n)  # a repeated item keeps its latest weight
            rows.extend([r] * len(weights))
            cols.extend(weights)
            vals.extend(weights.values())
        return sp.csr_matrix(
            (np.asarray(vals, dtype=np.float32), (rows, cols)),
            shape=(len(prefixes), self.num_items + 1),
        )

    def score_sparse(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix:
        """Like :meth:`score` but as a sparse ``[B, num_items + 1]`` matrix (zeros not stored)."""
        if self._m is None or self._mt is None or self._norm is None or self._idf is None:
            raise RuntimeError("call fit() before score()")
        q = self._query(prefixes)
        qnorm = np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel()).astype(np.float32)
        # weighted overlap with every session that shares an item: [B, S]
        ov = (q @ self._mt).tocsr()
        ov.sort_indices()
        counts = np.diff(ov.indptr)
        row = np.repeat(np.arange(len(prefixes)), counts)
        # keep the `sample_size` most recent sessions: the highest session indices of each row
        from_end = ov.indptr[row + 1] - 1 - np.arange(ov.nnz)
        keep = from_end < self.sample_size
        row, col, val = row[keep], ov.indices[keep], ov.data[keep]
        sim = val / (np.maximum(qnorm[row], 1e-12) * self._norm[col])
        # keep the k most similar of those
        order = np.lexsort((-sim, row))
        row, col, sim = row[order], col[order], sim[order]
        starts = np.searchsorted(row, np.arange(len(prefixes)))
        within = np.arange(row.size) - starts[row]
        top = within < self.k
        nb = sp.csr_matrix(
            (sim[top], (row[top], col[top])), shape=(len(prefixes), self._m.shape[0])
        )
        scores = (nb @ self._m).tocsr()
        if self.idf:
            scores = scores.multiply(self._idf[None, :]).tocsr()
        scores.eliminate_zeros()
        return scores
