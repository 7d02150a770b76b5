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

from typing import Any

from torch import Tensor, nn

from cosmo.gnn.session.graph import SessionGraphBatch
from cosmo.gnn.session.srgnn import SRGNN

__all__ = ["PosSRGNN"]


class PosSRGNN(SRGNN):
    r"""SR-GNN whose attention readout also sees each node's reversed position.

    Args:
        num_items: largest item id.
        max_positions: distinct positions embedded; older clicks share the last one.
        **kwargs: ``hidden``, ``num_steps``, ``normalize``, ``scale``, ``dropout``, ``sparse``
            as for :class:`SRGNN`.

    Shapes:
        - **input:** a :class:`SessionGraphBatch` with :math:`N` nodes (and ``position``
          :math:`(N,)`) and :math:`B` graphs
        - **output:** session embeddings :math:`(B, F)` from :meth:`forward`; item scores
          :math:`(B, \text{num\_items} + 1)` from :meth:`score`
    """

    def __init__(self, num_items: int, max_positions: int = 20, **kwargs: Any) -> None:
        self.max_positions = max_positions
        super().__init__(num_items, **kwargs)
        self.pos = nn.Embedding(max_positions, self.hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if hasattr(self, "pos"):  # SRGNN.__init__ calls this before the embedding exists
            nn.init.normal_(self.pos.weight, std=0.1 / self.hidden**0.5)

    def attention_keys(self, h: Tensor, data: SessionGraphBatch) -> Tensor:
        if data.position is None:
            raise ValueError(
                "PosSRGNN needs node positions: build batches with build_session_batch"
            )
        return h + self.pos(data.position.clamp_max(self.max_positions - 1))
