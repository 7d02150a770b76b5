"""Score fusion of a neural session model and V-SKNN.

Session-kNN and GNNs make different mistakes (kNN copies what co-occurred in recent similar
sessions; the GNN generalises through learned item vectors), so a convex combination of their
normalised scores beats both. Both score vectors are turned into distributions over all items
(softmax for the neural model, sum-normalisation for kNN) and mixed:

    p(i | s) = w · softmax(gnn(s))_i + (1 - w) · knn(s)_i / Σ_j knn(s)_j

``w`` is chosen on held-out *training* sessions (:func:`choose_weight`), never on test targets.
Prefixes without any kNN neighbour fall back to the neural model alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from cosmo.gnn.session.data import SessionCases
from cosmo.gnn.session.metrics import RankMetrics, rank_metrics, ranks_from_scores
from cosmo.gnn.session.sknn import VSKNN
from cosmo.gnn.session.srgnn import SRGNN
from cosmo.gnn.session.train import score_prefixes

__all__ = ["DEFAULT_GRID", "HybridRecommender", "choose_weight", "fuse_scores"]

DEFAULT_GRID: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def fuse_scores(
    neural: torch.Tensor, knn: np.ndarray | torch.Tensor, weight: float
) -> torch.Tensor:
    """Mix neural logits and kNN scores.

    Shapes:
        neural: ``[B, num_items + 1]`` logits, knn: ``[B, num_items + 1]`` non-negative scores
        → ``[B, num_items + 1]`` fused probabilities (column 0 is padding).
    """
    p = torch.softmax(neural[:, 1:], dim=-1)
    k = torch.as_tensor(knn, dtype=p.dtype)[:, 1:]
    total = k.sum(-1, keepdim=True)
    has = total > 0
    k = torch.where(has, k / total.clamp_min(1e-12), p)
    fused = weight * p + (1.0 - weight) * k
    return torch.cat([torch.zeros_like(fused[:, :1]), fused], dim=1)


def _batches(n: int, size: int, progress: bool, desc: str) -> tqdm:
    return tqdm(range(0, n, size), desc=desc, disable=not progress, unit="batch")


@torch.no_grad()
def choose_weight(
    model: SRGNN,
    knn: VSKNN,
    valid: SessionCases,
    grid: Sequence[float] = DEFAULT_GRID,
    k: int = 20,
    batch_size: int = 1024,
    progress: bool = True,
) -> tuple[float, dict[float, RankMetrics]]:
    """Pick the fusion weight maximising P@k + MRR@k on validation cases.

    ``knn`` must be fitted on training sessions that exclude the validation sessions.
    Returns the best weight and the metrics of every weight in ``grid``.
    """
    ranks: dict[float, list[np.ndarray]] = {w: [] for w in grid}
    for start in _batches(len(valid), batch_size, progress, "fusion weights"):
        part = valid.subset(range(start, min(start + batch_size, len(valid))))
        neural = score_prefixes(model, part.prefixes)
        ks = knn.score(part.prefixes)
        for w in grid:
            ranks[w].append(ranks_from_scores(fuse_scores(neural, ks, w), part.targets))
    metrics = {w: rank_metrics(np.concatenate(r), k) for w, r in ranks.items()}
    best = max(grid, key=lambda w: metrics[w].precision + metrics[w].mrr)
    return best, metrics


@dataclass
class HybridRecommender:
    """A neural session model and V-SKNN, fused with weight ``weight`` on the neural part."""

    model: SRGNN
    knn: VSKNN
    weight: float = 0.5

    @torch.no_grad()
    def score(self, prefixes: list[list[int]]) -> torch.Tensor:
        """Fused scores ``[B, num_items + 1]`` for ``prefixes``."""
        return fuse_scores(
            score_prefixes(self.model, prefixes), self.knn.score(prefixes), self.weight
        )

    def evaluate(
        self, cases: SessionCases, k: int = 20, batch_size: int = 1024, progress: bool = True
    ) -> RankMetrics:
        """P@k and MRR@k over all items."""
        out = []
        for start in _batches(len(cases), batch_size, progress, "hybrid"):
            part = cases.subset(range(start, min(start + batch_size, len(cases))))
            out.append(ranks_from_scores(self.score(part.prefixes), part.targets))
        return rank_metrics(np.concatenate(out) if out else np.zeros(0, np.int64), k)
