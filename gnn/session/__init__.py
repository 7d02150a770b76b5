"""cosmo.gnn.session: session-based next-item recommendation.

- :class:`~cosmo.gnn.session.sknn.VSKNN`: vectorised session-kNN baseline (scipy sparse).
- :class:`~cosmo.gnn.session.stan.STAN`: V-STAN, session kNN with prefix, neighbour-recency
  and neighbour-position decays; :class:`~cosmo.gnn.session.repeat.RepeatMix` mixes any kNN
  with the session's own recent clicks.
- :class:`~cosmo.gnn.session.srgnn.SRGNN`: SR-GNN (session graph, gated graph convolution,
  attention readout), with NISER normalisation; :class:`~cosmo.gnn.session.pos_srgnn.PosSRGNN`
  adds reversed-position embeddings to its attention readout.
- :class:`~cosmo.gnn.session.kg_srgnn.KGSRGNN`: SR-GNN whose item embeddings are initialised
  and augmented from knowledge-graph item features.
- :class:`~cosmo.gnn.session.ensemble.SessionEnsemble`: the mean scores of several trained
  neural models (e.g. SR-GNNs of different seeds), usable wherever one model is.
- :class:`~cosmo.gnn.session.hybrid.HybridRecommender`: score fusion of a neural model and
  session kNN; :func:`~cosmo.gnn.session.hybrid.search_fusion` chooses the kNN model, weight
  and temperature on held-out training sessions.

Names are imported lazily so that ``import cosmo.gnn.session`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SessionCases": "data",
    "expand_prefixes": "data",
    "load_cases": "data",
    "load_sessions": "data",
    "split_validation": "data",
    "RankMetrics": "metrics",
    "rank_metrics": "metrics",
    "ranks_from_scores": "metrics",
    "VSKNN": "sknn",
    "STAN": "stan",
    "RepeatMix": "repeat",
    "SessionGraphBatch": "graph",
    "build_session_batch": "graph",
    "SessionGatedConv": "gated_conv",
    "SRGNN": "srgnn",
    "PosSRGNN": "pos_srgnn",
    "KGSRGNN": "kg_srgnn",
    "SessionEnsemble": "ensemble",
    "load_ensemble": "ensemble",
    "load_session_models": "ensemble",
    "HybridRecommender": "hybrid",
    "search_fusion": "hybrid",
    "CoBuySessions": "kg_features",
    "intentionqa_cobuy_sessions": "kg_features",
    "IntentSessions": "synthetic",
    "intent_sessions": "synthetic",
    "SessionTrainConfig": "train",
    "TrainResult": "train",
    "evaluate": "train",
    "load_session_model": "train",
    "save_session_model": "train",
    "train_session_model": "train",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"cosmo.gnn.session.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'cosmo.gnn.session' has no attribute {name!r}")
