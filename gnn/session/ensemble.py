"""An ensemble of neural session models: the mean of their item scores.

Independently trained SR-GNNs (different seeds, so different negative samples, batch orders and
initialisations) make partly independent mistakes; averaging their logits is a product of their
softmax distributions, up to normalisation, and ranks better than any member. The ensemble
behaves like one model to :func:`~cosmo.gnn.session.train.evaluate`,
:func:`~cosmo.gnn.session.hybrid.search_fusion` and
:class:`~cosmo.gnn.session.hybrid.HybridRecommender`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from torch import Tensor, nn

from cosmo.core.errors import ConfigError
from cosmo.gnn.session.graph import SessionGraphBatch
from cosmo.gnn.session.srgnn import SRGNN

__all__ = ["SessionEnsemble", "load_ensemble", "load_session_models"]


class SessionEnsemble(nn.Module):
    r"""Mean of the item scores of several session models over the same item ids.

    Args:
        models: trained models (:class:`SRGNN` or its KG variant) sharing ``num_items``.
        weights: per-model weights of the mean (default: equal).

    Shapes:
        - **input:** a :class:`SessionGraphBatch` with :math:`B` graphs
        - **output:** item scores :math:`(B, \text{num\_items} + 1)` from :meth:`score`
          (or :math:`(B, C)` for ``candidates`` of size :math:`C`); :meth:`forward` is the same
    """

    def __init__(self, models: Sequence[SRGNN], weights: Sequence[float] | None = None) -> None:
        super().__init__()
        if not models:
            raise ConfigError("an ensemble needs at least one model")
        sizes = {m.num_items for m in models}
        if len(sizes) != 1:
            raise ConfigError(f"ensemble members disagree on the number of items: {sorted(sizes)}")
        w = [1.0] * len(models) if weights is None else [float(x) for x in weights]
        if len(w) != len(models) or min(w) < 0 or sum(w) <= 0:
            raise ConfigError("ensemble weights: one non-negative weight per model, not all 0")
        self.members = nn.ModuleList(models)
        self.num_items = sizes.pop()
        self.weights: list[float] = [x / sum(w) for x in w]

    def reset_parameters(self) -> None:
        for m in self.members:
            m.reset_parameters()  # type: ignore[operator]

    def forward(self, data: SessionGraphBatch, candidates: Tensor | None = None) -> Tensor:
        out: Tensor | None = None
        for w, m in zip(self.weights, self.members, strict=True):
            s = m.score(data, candidates) * w  # type: ignore[operator]
            out = s if out is None else out + s
        assert out is not None
        return out

    def score(self, data: SessionGraphBatch, candidates: Tensor | None = None) -> Tensor:
        """Weighted mean of the members' scores of all items (or of ``candidates``)."""
        return self(data, candidates)


def load_ensemble(paths: Sequence[str | Path]) -> SessionEnsemble:
    """Load models saved by :func:`~cosmo.gnn.session.train.save_session_model` as one ensemble."""
    from cosmo.gnn.session.train import load_session_model

    return SessionEnsemble([load_session_model(p) for p in paths]).eval()


def load_session_models(paths: Sequence[str | Path]) -> SRGNN | SessionEnsemble:
    """One checkpoint's model, or the ensemble (mean scores) of several."""
    if len(paths) == 1:
        from cosmo.gnn.session.train import load_session_model

        return load_session_model(paths[0])
    return load_ensemble(paths)
