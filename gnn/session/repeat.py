"""Repeat-aware kNN scores: session kNN mixed with the session's own recent clicks.

About a fifth of Diginetica's next clicks go back to an item already in the prefix (a
tenth to the last one). RepeatNet (Ren et al., AAAI 2019) models this "repeat mode"
explicitly. :class:`RepeatMix` adds the simplest version of it to any session kNN: the kNN
scores, normalised to a distribution, are mixed with a distribution over the prefix's own
items that decays with their distance from the end,

    r(i | s) ∝ exp((last position of i in s − |s|) / λ)        (items of s only)
    mix(i | s) = (1 − ρ) · knn(i | s) / Σ_j knn(j | s) + ρ · r(i | s)

``ρ`` and ``λ`` are chosen on held-out training sessions with the rest of the fusion
(:func:`cosmo.gnn.session.hybrid.choose_fusion`), never on test targets. The result plugs in
wherever a kNN model does (``score`` / ``score_sparse``), e.g. in
:class:`~cosmo.gnn.session.hybrid.HybridRecommender`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

__all__ = ["RepeatMix", "repeat_scores"]


class _SparseScorer(Protocol):
    num_items: int

    def score_sparse(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix: ...


def repeat_scores(
    prefixes: Sequence[Sequence[int]], num_items: int, decay: float = 1.0
) -> sp.csr_matrix:
    """The prefix-item distribution ``r`` above as a sparse ``[B, num_items + 1]`` matrix."""
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, p in enumerate(prefixes):
        n = len(p)
        w: dict[int, float] = {}
        for i, item in enumerate(p, start=1):
            if 0 < item <= num_items:
                w[int(item)] = math.exp((i - n) / decay)
        total = sum(w.values()) or 1.0
        rows.extend([r] * len(w))
        cols.extend(w)
        vals.extend(v / total for v in w.values())
    return sp.csr_matrix(
        (np.asarray(vals, np.float32), (rows, cols)), shape=(len(prefixes), num_items + 1)
    )


@dataclass
class RepeatMix:
    """A session kNN whose normalised scores are mixed with the prefix's own items.

    Args:
        knn: a fitted :class:`~cosmo.gnn.session.sknn.VSKNN` or
            :class:`~cosmo.gnn.session.stan.STAN`.
        rho: share of the repeat distribution (0 = the kNN alone, normalised).
        decay: λ of the repeat distribution, in clicks.
    """

    knn: _SparseScorer
    rho: float = 0.1
    decay: float = 1.0

    @property
    def num_items(self) -> int:
        return self.knn.num_items

    def score_sparse(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix:
        """Mixed scores, a sparse ``[B, num_items + 1]`` matrix (rows sum to 1, or to ρ when
        kNN found no neighbour)."""
        k = self.knn.score_sparse(prefixes).tocsr().astype(np.float32)
        total = np.asarray(k.sum(axis=1)).ravel()
        k = sp.diags(np.where(total > 0, 1.0 / np.maximum(total, 1e-12), 0.0)) @ k
        if self.rho <= 0:
            return k.tocsr()
        r = repeat_scores(prefixes, self.num_items, self.decay)
        # a row without neighbours is the repeat part alone once fusion normalises it
        out = ((1.0 - self.rho) * k + self.rho * r).tocsr()
        out.eliminate_zeros()
        return out

    def score(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray:
        """Dense mixed scores ``[B, num_items + 1]`` float32."""
        return np.asarray(self.score_sparse(prefixes).todense(), dtype=np.float32)
