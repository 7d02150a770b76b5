"""Ranking metrics for next-item prediction over all items: P@K (hit rate) and MRR@K."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["RankMetrics", "rank_metrics", "ranks_from_scores"]


@dataclass(frozen=True)
class RankMetrics:
    """P@K and MRR@K in percent, as session-recommendation papers report them."""

    k: int
    precision: float
    mrr: float
    cases: int

    def as_dict(self) -> dict[str, float | int]:
        return {f"P@{self.k}": self.precision, f"MRR@{self.k}": self.mrr, "cases": self.cases}

    def __str__(self) -> str:
        return f"P@{self.k} {self.precision:.2f}  MRR@{self.k} {self.mrr:.2f}  ({self.cases} cases)"


def ranks_from_scores(
    scores: torch.Tensor | np.ndarray, targets: torch.Tensor | np.ndarray
) -> np.ndarray:
    """1-based rank of each target among all items (ties count against the target).

    Shapes:
        scores: ``[B, num_items + 1]`` (column ``i`` scores item id ``i``; column 0 is padding
        and ignored), targets: ``[B]`` → ranks ``[B]``.
    """
    s = torch.as_tensor(scores).float().clone()
    t = torch.as_tensor(targets, dtype=torch.long)
    s[:, 0] = -torch.inf
    target_score = s.gather(1, t.view(-1, 1))
    ranks = (s > target_score).sum(1) + (s == target_score).sum(1)
    return ranks.numpy().astype(np.int64)


def rank_metrics(ranks: np.ndarray, k: int = 20) -> RankMetrics:
    """P@K (share of cases whose target ranks ≤ K) and MRR@K (reciprocal rank, 0 beyond K)."""
    r = np.asarray(ranks)
    if r.size == 0:
        return RankMetrics(k, 0.0, 0.0, 0)
    hit = r <= k
    return RankMetrics(
        k=k,
        precision=float(hit.mean() * 100.0),
        mrr=float(np.where(hit, 1.0 / r, 0.0).mean() * 100.0),
        cases=int(r.size),
    )
