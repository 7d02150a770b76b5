"""Score fusion of a neural session model and V-SKNN.

Session-kNN and GNNs make different mistakes (kNN copies what co-occurred in recent similar
sessions; the GNN generalises through learned item vectors), so a convex combination of their
normalised scores beats both. Both score vectors are turned into distributions over all items
(softmax for the neural model, sum-normalisation for kNN) and mixed:

    p(i | s) = w · softmax(τ · gnn(s))_i + (1 - w) · knn(s)_i / Σ_j knn(s)_j

``w`` and the temperature ``τ`` (how peaked the neural distribution is next to kNN's) are chosen
on held-out *training* sessions (:func:`choose_weight`, :func:`choose_fusion`), never on test
targets. The kNN part is any model with ``score(prefixes)`` (:class:`VSKNN` or :class:`STAN`).
Prefixes without any kNN neighbour fall back to the neural model alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from cosmo.gnn.session.data import SessionCases
from cosmo.gnn.session.metrics import RankMetrics, rank_metrics, ranks_from_scores
from cosmo.gnn.session.srgnn import SRGNN
from cosmo.gnn.session.train import score_prefixes

__all__ = [
    "DEFAULT_GRID",
    "HybridRecommender",
    "KNNScorer",
    "choose_fusion",
    "choose_weight",
    "fuse_scores",
    "fused_ranks",
    "search_fusion",
]

DEFAULT_GRID: tuple[float, ...] = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


class KNNScorer(Protocol):
    """A fitted session-kNN model (:class:`VSKNN`, :class:`~cosmo.gnn.session.stan.STAN`)."""

    def score(self, prefixes: Sequence[Sequence[int]]) -> np.ndarray: ...

    def score_sparse(self, prefixes: Sequence[Sequence[int]]) -> sp.csr_matrix: ...


def fuse_scores(
    neural: torch.Tensor,
    knn: np.ndarray | torch.Tensor,
    weight: float,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Mix neural logits (multiplied by ``temperature``) and kNN scores.

    Shapes:
        neural: ``[B, num_items + 1]`` logits, knn: ``[B, num_items + 1]`` non-negative scores
        → ``[B, num_items + 1]`` fused probabilities (column 0 is padding).
    """
    p = torch.softmax(neural[:, 1:] * temperature, dim=-1)
    k = torch.as_tensor(knn, dtype=p.dtype)[:, 1:]
    total = k.sum(-1, keepdim=True)
    has = total > 0
    k = torch.where(has, k / total.clamp_min(1e-12), p)
    fused = weight * p + (1.0 - weight) * k
    return torch.cat([torch.zeros_like(fused[:, :1]), fused], dim=1)


def _batches(n: int, size: int, progress: bool, desc: str) -> tqdm:
    return tqdm(range(0, n, size), desc=desc, disable=not progress, unit="batch")


def fused_ranks(
    neural: torch.Tensor,
    knn: sp.csr_matrix,
    targets: np.ndarray,
    weights: Sequence[float],
    temperature: float = 1.0,
    depth: int = 200,
) -> dict[float, np.ndarray]:
    """Target ranks under :func:`fuse_scores` for several weights at once, exact up to ``depth``.

    Only the ``depth`` items the neural model likes most and the items kNN scores can beat the
    target: any other item ``i`` has fused score ``w · p_i ≤ w · p_(depth)``. When the target's
    fused score is not above that bound, ``depth`` items beat or tie it and its rank is reported
    as ``depth`` (a miss for every cut-off below ``depth``). This makes a grid of weights cost
    one softmax and one top-k per batch instead of a dense fusion and ranking per weight.

    Shapes:
        neural: ``[B, num_items + 1]`` logits, knn: sparse ``[B, num_items + 1]`` non-negative
        scores, targets: ``[B]`` → ``{weight: ranks [B]}``.
    """
    b = neural.shape[0]
    rows = torch.arange(b)
    t = torch.as_tensor(targets, dtype=torch.long)
    p = torch.softmax(neural[:, 1:].float() * temperature, dim=-1)
    p = torch.cat([torch.zeros(b, 1), p], dim=1)
    total = torch.as_tensor(np.asarray(knn.sum(axis=1)).ravel(), dtype=torch.float32)
    has = total > 0
    kcoo = knn.tocoo()
    kr = torch.as_tensor(kcoo.row, dtype=torch.long)
    kc = torch.as_tensor(kcoo.col, dtype=torch.long)
    kv = torch.as_tensor(kcoo.data, dtype=torch.float32) / total.clamp_min(1e-12)[kr]
    kn = torch.zeros_like(p)
    kn[kr, kc] = kv
    top_p, top_i = p.topk(depth, dim=1)
    in_top = torch.zeros_like(p, dtype=torch.bool)
    in_top[rows[:, None], top_i] = True
    extra = ~in_top[kr, kc] & (kc != t[kr])  # kNN items outside the neural top, not the target
    er, ec = kr[extra], kc[extra]
    top_k = kn.gather(1, top_i)
    not_target = top_i != t[:, None]
    p_t, k_t = p[rows, t], kn[rows, t]
    out: dict[float, np.ndarray] = {}
    for w in weights:
        wr = torch.where(has, torch.tensor(float(w)), torch.tensor(1.0))
        f_t = wr * p_t + (1 - wr) * k_t
        f_top = wr[:, None] * top_p + (1 - wr[:, None]) * top_k
        beat = ((f_top >= f_t[:, None]) & not_target).sum(1)
        f_extra = wr[er] * p[er, ec] + (1 - wr[er]) * kn[er, ec]
        beat += torch.bincount(er[f_extra >= f_t[er]], minlength=b)
        rank = beat + 1
        rank = torch.where(f_t <= wr * top_p[:, -1], rank.clamp_min(depth), rank)
        out[w] = rank.numpy().astype(np.int64)
    return out


@torch.no_grad()
def search_fusion(
    model: SRGNN,
    knns: Mapping[str, KNNScorer],
    valid: SessionCases,
    grid: Sequence[float] = DEFAULT_GRID,
    temperatures: Sequence[float] = (1.0,),
    k: int = 20,
    batch_size: int = 1024,
    progress: bool = True,
) -> tuple[tuple[str, float, float], dict[tuple[str, float, float], RankMetrics]]:
    """Pick the kNN model, fusion weight and temperature maximising P@k + MRR@k on ``valid``.

    Every kNN model must be fitted on training sessions that exclude the validation sessions.
    The neural scores are computed once per batch for all candidates. Returns the best
    ``(name, weight, temperature)`` and the metrics of every combination (ranks from
    :func:`fused_ranks`, exact for every ``k`` below its depth).
    """
    keys = [(n, w, t) for n in knns for t in temperatures for w in grid]
    ranks: dict[tuple[str, float, float], list[np.ndarray]] = {key: [] for key in keys}
    depth = max(200, k + 1)
    for start in _batches(len(valid), batch_size, progress, "fusion weights"):
        part = valid.subset(range(start, min(start + batch_size, len(valid))))
        neural = score_prefixes(model, part.prefixes)
        for name, knn in knns.items():
            ks = knn.score_sparse(part.prefixes)
            for t in temperatures:
                for w, r in fused_ranks(neural, ks, part.targets, grid, t, depth).items():
                    ranks[(name, w, t)].append(r)
    metrics = {key: rank_metrics(np.concatenate(r), k) for key, r in ranks.items()}
    best = max(keys, key=lambda key: metrics[key].precision + metrics[key].mrr)
    return best, metrics


def choose_fusion(
    model: SRGNN,
    knn: KNNScorer,
    valid: SessionCases,
    grid: Sequence[float] = DEFAULT_GRID,
    temperatures: Sequence[float] = (1.0,),
    k: int = 20,
    batch_size: int = 1024,
    progress: bool = True,
) -> tuple[tuple[float, float], dict[tuple[float, float], RankMetrics]]:
    """Pick the fusion weight and temperature maximising P@k + MRR@k on validation cases.

    ``knn`` must be fitted on training sessions that exclude the validation sessions.
    Returns the best ``(weight, temperature)`` and the metrics of every pair of the grid.
    """
    (_, w, t), metrics = search_fusion(
        model, {"knn": knn}, valid, grid, temperatures, k, batch_size, progress
    )
    return (w, t), {(g, tt): m for (_, g, tt), m in metrics.items()}


def choose_weight(
    model: SRGNN,
    knn: KNNScorer,
    valid: SessionCases,
    grid: Sequence[float] = DEFAULT_GRID,
    k: int = 20,
    batch_size: int = 1024,
    progress: bool = True,
) -> tuple[float, dict[float, RankMetrics]]:
    """Pick the fusion weight (temperature 1) maximising P@k + MRR@k on validation cases.

    ``knn`` must be fitted on training sessions that exclude the validation sessions.
    Returns the best weight and the metrics of every weight in ``grid``.
    """
    (w, _), metrics = choose_fusion(
        model, knn, valid, grid, (1.0,), k=k, batch_size=batch_size, progress=progress
    )
    return w, {g: m for (g, _), m in metrics.items()}


@dataclass
class HybridRecommender:
    """A neural session model and session kNN, fused with weight ``weight`` on the neural part
    (whose logits are multiplied by ``temperature``)."""

    model: SRGNN
    knn: KNNScorer
    weight: float = 0.5
    temperature: float = 1.0

    @torch.no_grad()
    def score(self, prefixes: list[list[int]]) -> torch.Tensor:
        """Fused scores ``[B, num_items + 1]`` for ``prefixes``."""
        return fuse_scores(
            score_prefixes(self.model, prefixes),
            self.knn.score(prefixes),
            self.weight,
            self.temperature,
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
