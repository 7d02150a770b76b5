"""KG-enhanced SR-GNN: item embeddings informed by knowledge-graph item features.

COSMO improved session recommendation by giving the recommender the intentions that items share.
Here each item has a fixed feature vector from the knowledge graph (for example the MiniLM
embedding of its title together with the intentions linked to it, or a multi-hot vector of its
intention nodes) in an ``[num_items + 1, D]`` matrix. The model

- **initialises** the free item embeddings from the features' principal components, so items
  that share intentions start close together, and
- **augments** every item vector with a learned projection of its features,
  ``v_i = e_i + W f_i``, so items rarely or never seen in training sessions still get a useful
  vector through the intentions they share with others.

Everything else (session graph, gated graph convolution, attention readout) is SR-GNN's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cosmo.gnn.session.srgnn import SRGNN

__all__ = ["KGSRGNN"]


class KGSRGNN(SRGNN):
    r"""SR-GNN with item embeddings initialised and augmented from KG item features.

    Args:
        num_items: largest item id.
        item_features: ``[num_items + 1, D]`` feature matrix (row 0 is padding; rows of items
            without knowledge may be zero).
        hidden, num_steps, normalize, scale, dropout, sparse: as for :class:`SRGNN`.
        init_from_features: initialise the item table from the features' top principal components.

    Shapes:
        - **input:** a :class:`~cosmo.gnn.session.graph.SessionGraphBatch` with :math:`B` graphs
        - **output:** session embeddings :math:`(B, F)` from :meth:`forward`; item scores
          :math:`(B, \text{num\_items} + 1)` from :meth:`score`
    """

    def __init__(
        self,
        num_items: int,
        item_features: Tensor,
        hidden: int = 100,
        num_steps: int = 1,
        normalize: bool = True,
        scale: float = 12.0,
        dropout: float = 0.1,
        sparse: bool = False,
        init_from_features: bool = True,
    ) -> None:
        if item_features.dim() != 2 or item_features.size(0) != num_items + 1:
            raise ValueError(
                f"item_features must be [num_items + 1, D] = [{num_items + 1}, D], "
                f"got {list(item_features.shape)}"
            )
        self.init_from_features = init_from_features
        self.feature_dim = item_features.size(1)
        super().__init__(num_items, hidden, num_steps, normalize, scale, dropout, sparse)
        self.register_buffer("item_features", item_features.detach().float().clone())
        self.feature_proj = nn.Linear(self.feature_dim, hidden, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if not hasattr(self, "feature_proj"):
            return  # called from SRGNN.__init__ before the feature layers exist
        nn.init.xavier_uniform_(self.feature_proj.weight)
        if self.init_from_features:
            with torch.no_grad():
                feats = self.item_features - self.item_features[1:].mean(0, keepdim=True)
                q = min(self.hidden, feats.size(1), feats.size(0) - 1)
                _, _, v = torch.pca_lowrank(feats[1:], q=q, center=False)
                init = feats @ v  # [num_items + 1, q]
                init = init / init[1:].std().clamp_min(1e-6) / self.hidden**0.5
                w = self.embedding.weight
                w[:, :q].copy_(init)
                w[0].zero_()

    def item_vectors(self, items: Tensor) -> Tensor:
        w = self.embedding(items) + self.feature_proj(self.item_features[items])
        return F.normalize(w, dim=-1) if self.normalize else w
