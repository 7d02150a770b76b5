"""SR-GNN with reversed-position embeddings in its attention readout.

SR-GNN's session graph forgets the order of clicks except for the last one. GCE-GNN (Wang et
al., SIGIR 2020) showed that a *reversed* position embedding (distance from the end of the
session, so the same embedding means "the click before last" in every session) lets the
readout weigh recent clicks more than old ones. This variant keeps SR-GNN (gated graph
convolution, last-click + attention readout, NISER normalisation) and adds a learned
embedding of each node's reversed position (of its last occurrence, capped at
``max_positions - 1``) to the node representation the attention scores, so the attention
weights depend on recency as well as content. The weighted sum itself is over the node
vectors, as in SR-GNN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.utils import scatter, softmax

from cosmo.gnn.session.graph import SessionGraphBatch
from cosmo.gnn.session.srgnn import SRGNN

__all__ = ["PosSRGNN"]


class PosSRGNN(SRGNN):
    r"""SR-GNN whose attention readout also sees each node's reversed position.

    Args:
        num_items, hidden, num_steps, normalize, scale, dropout, sparse: as for :class:`SRGNN`.
        max_positions: distinct positions embedded; older clicks share the last one.

    Shapes:
        - **input:** a :class:`SessionGraphBatch` with :math:`N` nodes (and ``position``
          :math:`(N,)`) and :math:`B` graphs
        - **output:** session embeddings :math:`(B, F)` from :meth:`forward`; item scores
          :math:`(B, \text{num\_items} + 1)` from :meth:`score`
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
        max_positions: int = 20,
    ) -> None:
        self.max_positions = max_positions
        super().__init__(num_items, hidden, num_steps, normalize, scale, dropout, sparse)
        self.pos = nn.Embedding(max_positions, hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if hasattr(self, "pos"):  # SRGNN.__init__ calls this before the embedding exists
            nn.init.normal_(self.pos.weight, std=0.1 / self.hidden**0.5)

    def forward(self, data: SessionGraphBatch) -> Tensor:
        if data.position is None:
            raise ValueError(
                "PosSRGNN needs node positions: build batches with build_session_batch"
            )
        x = self.dropout(self.item_vectors(data.items))
        h = self.conv(x, data.edge_index, data.in_weight, data.out_weight)
        h_last = h[data.last]  # [B, F]
        p = self.pos(data.position.clamp_max(self.max_positions - 1))  # [N, F]
        e = self.att(torch.sigmoid(self.lin_last(h_last)[data.batch] + self.lin_node(h + p)))
        alpha = softmax(e, data.batch, num_nodes=data.num_graphs, dim=0)
        s_global = scatter(alpha * h, data.batch, 0, dim_size=data.num_graphs, reduce="sum")
        s = self.lin_out(torch.cat([h_last, s_global], dim=-1))
        return F.normalize(s, dim=-1) if self.normalize else s
