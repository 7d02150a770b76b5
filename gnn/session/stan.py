"""V-STAN: sequence- and time-aware session kNN (Garg et al., SIGIR 2019; Ludewig et al., 2021).

STAN refines session-kNN with three exponential decays, each turned off by ``None``:

1. ``lambda_prefix`` (λ₁): the prefix item at position ``p`` of ``n`` weighs
   ``exp((p - n) / λ₁)`` (recent clicks matter more);
2. ``lambda_recency`` (λ₂): a neighbour session's similarity is multiplied by
   ``exp(-(T - t) / λ₂)``, with ``t`` its index in the chronological training file and ``T``
   the number of training sessions (the file carries no timestamps, so "time" is the session
   index; every scored prefix is later than every training session);
3. ``lambda_position`` (λ₃): an item of a neighbour session counts with
   ``exp(-|q - m| / λ₃)``, where ``m`` is the neighbour's position of the most recent prefix
   item it shares and ``q`` the item's position (items near the shared click matter more).

Similarity is the cosine between the weighted prefix vector and the neighbour's binary item
vector (the "V" of V-STAN); item scores may be multiplied by IDF. Everything is vectorised
with scipy sparse / numpy over batches of prefixes, like :class:`~cosmo.gnn.session.sknn.VSKNN`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from cosmo.gnn.session.sknn import SparseKNNScorer

__all__ = ["STAN"]


class STAN(SparseKNNScorer):
    """V-STAN session kNN (see the module docstring for λ₁, λ₂, λ₃).

    The defaults are the values chosen on held-out Diginetica training sessions; λ₂ depends
    on how many sessions the data has (Diginetica: 160,000 for 186,670 sessions).

    Args:
        k: neighbours kept per prefix (by decayed similarity).
        sample_size: most recent candidate sessions considered per prefix.
        lambda_prefix: λ₁ in clicks, or ``None`` for equal prefix weights.
        lambda_recency: λ₂ in sessions, or ``None`` for no neighbour-recency decay.
        lambda_position: λ₃ in clicks, or ``None`` to count every neighbour item fully.
        idf: multiply item scores by ``idf ** idf`` (0 turns it off).
        batch_size: prefixes scored per sparse product.
    """

    def __init__(
        self,
        k: int = 200,
        sample_size: int = 500,
        lambda_prefix: float | None = 2.0,
        lambda_recency: float | None = None,
        lambda_position: float | None = 8.0,
        idf: float = 1.0,
        batch_size: int = 1024,
    ) -> None:
        self.k = k
        self.sample_size = sample_size
        self.lambda_prefix = lambda_prefix
        self.lambda_recency = lambda_recency
        self.lambda_position = lambda_position
        self.idf = idf
        self.batch_size = batch_size
        self.num_items = 0
        self._m: sp.csr_matrix | None = None  # [S, I] item positions + 1 (last occurrence)
        self._mt: sp.csr_matrix | None = None  # [I, S] binary
        self._norm = np.zeros(0, np.float32)
        self._idf = np.zeros(0, np.float32)
        self._recency = np.zeros(0, np.float32)

    def fit(self, sessions: Sequence[Sequence[int]], num_items: int | None = None) -> STAN:
        """Index the training sessions (in chronological order). Returns ``self``."""
        n_items = num_items or max(max(s) for s in sessions)
        rows: list[int] = []
        cols: list[int] = []
        pos: list[float] = []
        for r, s in enumerate(sessions):
            last = {int(it): p for p, it in enumerate(s, start=1)}
            rows.extend([r] * len(last))
            cols.extend(last)
            pos.extend(last.values())
        m = sp.csr_matrix(
            (np.asarray(pos, np.float32), (rows, cols)), shape=(len(sessions), n_items + 1)
        )
        m.sort_indices()
        self._m = m
        binary = m.copy()
        binary.data[:] = 1.0
        self._mt = binary.T.tocsr()
        lengths = np.diff(m.indptr).astype(np.float32)
        self._norm = np.sqrt(np.maximum(lengths, 1.0))
        df = np.asarray(binary.sum(axis=0)).ravel()
        self._idf = np.log(len(sessions) / np.maximum(df, 1.0)).astype(np.float32)
        age = (len(sessions) - np.arange(len(sessions))).astype(np.float64)
        lam = self.lambda_recency
        self._recency = (np.exp(-age / lam) if lam else np.ones_like(age)).astype(np.float32)
        self.num_items = n_items
        return self

    def _query(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        lam = self.lambda_prefix
        for r, p in enumerate(prefixes):
            n = len(p)
            weights: dict[int, float] = {}
            for i, item in enumerate(p, start=1):
                if 0 < item <= self.num_items:
                    weights[item] = math.exp((i - n) / lam) if lam else 1.0 + i * 1e-6
            rows.extend([r] * len(weights))
            cols.extend(weights)
            vals.extend(weights.values())
        q = sp.csr_matrix(
            (np.asarray(vals, dtype=np.float64), (rows, cols)),
            shape=(len(prefixes), self.num_items + 1),
        )
        q.sort_indices()
        return q

    def score_sparse(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix:
        """Scores of all items as a sparse ``[B, num_items + 1]`` matrix (column 0 unused)."""
        if self._m is None or self._mt is None:
            raise RuntimeError("call fit() before score()")
        b = len(prefixes)
        q = self._query(prefixes)
        qnorm = np.sqrt(np.asarray(q.multiply(q).sum(axis=1)).ravel())
        ov = (q @ self._mt).tocsr()
        ov.sort_indices()
        row = np.repeat(np.arange(b), np.diff(ov.indptr))
        keep = (ov.indptr[row + 1] - 1 - np.arange(ov.nnz)) < self.sample_size
        row, col, val = row[keep], ov.indices[keep], ov.data[keep]
        sim = val / (np.maximum(qnorm[row], 1e-12) * self._norm[col]) * self._recency[col]
        order = np.lexsort((-sim, row))
        row, col, sim = row[order], col[order], sim[order]
        starts = np.searchsorted(row, np.arange(b))
        top = (np.arange(row.size) - starts[row]) < self.k
        row, col, sim = row[top], col[top], sim[top]
        # expand each (prefix, neighbour) pair into the neighbour's items
        m = self._m
        lens = np.diff(m.indptr)[col]
        pair = np.repeat(np.arange(row.size), lens)
        offs = np.arange(pair.size) - np.repeat(np.cumsum(lens) - lens, lens)
        idx = m.indptr[col][pair] + offs
        item = m.indices[idx].astype(np.int64)
        where = m.data[idx]
        if self.lambda_position:
            # the prefix weight of each neighbour item; the shared one with the largest is the match
            width = self.num_items + 1
            qkey = np.repeat(np.arange(b), np.diff(q.indptr)) * width + q.indices
            key = row[pair] * width + item
            at = np.minimum(np.searchsorted(qkey, key), max(qkey.size - 1, 0))
            qw = np.where(qkey[at] == key, q.data[at], 0.0) if qkey.size else np.zeros(key.size)
            best = np.full(row.size, -1.0)
            np.maximum.at(best, pair, qw)
            is_match = (qw == best[pair]) & (qw > 0)
            match = np.zeros(row.size, np.float32)
            match[pair[is_match]] = where[is_match]
            weight = sim[pair] * np.exp(-np.abs(where - match[pair]) / self.lambda_position)
        else:
            weight = sim[pair]
        scores = sp.csr_matrix(
            (weight.astype(np.float32), (row[pair], item)), shape=(b, self.num_items + 1)
        )
        scores.sum_duplicates()
        if self.idf:
            scores = scores.multiply(self._idf[None, :] ** self.idf).tocsr()
        scores.eliminate_zeros()
        return scores
