"""SR-GNN: session-based recommendation with graph neural networks (Wu et al., AAAI 2019).

The prefix becomes a session graph (:mod:`cosmo.gnn.session.graph`), a gated graph convolution
refines the item embeddings of its nodes, and a soft-attention readout combines the last click
(short-term interest) with an attention-weighted sum over all nodes (long-term interest). Items
are scored by inner product with the shared item embedding table.

``normalize=True`` adds NISER's normalisation (Gupta et al., 2019): item and session
embeddings are L2-normalised and the scores scaled by ``scale``. It trains faster and reduces
popularity bias; it is the default here because CPU training budgets allow few epochs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from cosmo.gnn.session.gated_conv import SessionGatedConv
from cosmo.gnn.session.graph import SessionGraphBatch

__all__ = ["SRGNN"]


class SRGNN(nn.Module):
    r"""SR-GNN next-item recommender.

    Args:
        num_items: largest item id (ids are ``1..num_items``; row 0 of the table is padding).
        hidden: embedding size.
        num_steps: gated graph convolution steps.
        normalize: NISER normalisation of item and session embeddings.
        scale: score scale used with ``normalize``.
        dropout: dropout on the node embeddings before the convolution.
        sparse: sparse gradients for the item table (train it with ``torch.optim.SparseAdam``;
            much faster on CPU together with sampled-softmax training).

    Shapes:
        - **input:** a :class:`SessionGraphBatch` with :math:`N` nodes and :math:`B` graphs
        - **output:** session embeddings :math:`(B, F)` from :meth:`forward`; item scores
          :math:`(B, \text{num\_items} + 1)` from :meth:`score` (column 0 is padding)
    """

    def __init__(
        self,
        num_items: int,
        hidden: int = 100,
        num_steps: int = 1,
        normalize: bool = True,
        scale: float = 12.0,
        dropout: float = 0.1,
        sparse: bool = False,
    ) -> None:
        super().__init__()
        self.num_items = num_items
        self.hidden = hidden
        self.normalize = normalize
        self.scale = scale
        self.embedding = nn.Embedding(num_items + 1, hidden, padding_idx=0, sparse=sparse)
        self.dropout = nn.Dropout(dropout)
        self.conv = SessionGatedConv(hidden, num_steps)
        self.lin_last = nn.Linear(hidden, hidden)
        self.lin_node = nn.Linear(hidden, hidden, bias=False)
        self.att = nn.Linear(hidden, 1, bias=False)
        self.lin_out = nn.Linear(2 * hidden, hidden, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / self.hidden**0.5
        for p in self.parameters():
            nn.init.uniform_(p, -stdv, stdv)
        with torch.no_grad():
            self.embedding.weight[0].zero_()
        self.conv.reset_parameters()

    def item_vectors(self, items: Tensor) -> Tensor:
        """Embeddings of item ids ``[N]`` → ``[N, F]`` (normalised with ``normalize``).

        Used both as node inputs and as output item vectors; the KG variant overrides it.
        """
        w = self.embedding(items)
        return F.normalize(w, dim=-1) if self.normalize else w

    def forward(self, data: SessionGraphBatch) -> Tensor:
        x = self.dropout(self.item_vectors(data.items))
        h = self.conv(x, data.edge_index, data.in_weight, data.out_weight)
        h_last = h[data.last]  # [B, F]
        keys = self.attention_keys(h, data)
        e = self.att(torch.sigmoid(self.lin_last(h_last)[data.batch] + self.lin_node(keys)))
        alpha = softmax(e, data.batch, num_nodes=data.num_graphs, dim=0)
        s_global = scatter(alpha * h, data.batch, 0, dim_size=data.num_graphs, reduce="sum")
        s = self.lin_out(torch.cat([h_last, s_global], dim=-1))
        return F.normalize(s, dim=-1) if self.normalize else s

    def attention_keys(self, h: Tensor, data: SessionGraphBatch) -> Tensor:
        """Node representations ``[N, F]`` the attention readout scores (``h`` itself here;
        :class:`~cosmo.gnn.session.pos_srgnn.PosSRGNN` adds position embeddings)."""
        return h

    def score(self, data: SessionGraphBatch, candidates: Tensor | None = None) -> Tensor:
        """Scores of all items (or of ``candidates`` ``[C]`` item ids) for each session."""
        s = self(data)
        if candidates is None:
            candidates = torch.arange(self.num_items + 1, device=s.device)
        out = s @ self.item_vectors(candidates).t()
        return out * self.scale if self.normalize else out
