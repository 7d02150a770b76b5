"""The gated graph convolution of SR-GNN (Wu et al., AAAI 2019)."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

__all__ = ["SessionGatedConv"]


class SessionGatedConv(nn.Module):
    r"""SR-GNN's gated graph layer on a directed session graph.

    Each step aggregates neighbours over incoming and outgoing edges separately (with SR-GNN's
    degree-normalised weights), concatenates the two, and updates the node state with a GRU cell:

    .. math::
        \mathbf{a}^{in}_v = \sum_{u \to v} \frac{1}{d^{in}_v} \mathbf{W}_{in} \mathbf{h}_u + \mathbf{b}_{in},\quad
        \mathbf{a}^{out}_v = \sum_{v \to w} \frac{1}{d^{out}_v} \mathbf{W}_{out} \mathbf{h}_w + \mathbf{b}_{out},\quad
        \mathbf{h}'_v = \mathrm{GRU}([\mathbf{a}^{in}_v \Vert \mathbf{a}^{out}_v], \mathbf{h}_v)

    Args:
        channels: node feature size.
        num_steps: propagation steps (weights shared across steps).

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F)`, edge indices :math:`(2, |\mathcal{E}|)`,
          in-weights :math:`(|\mathcal{E}|)`, out-weights :math:`(|\mathcal{E}|)`
        - **output:** node features :math:`(|\mathcal{V}|, F)`
    """

    def __init__(self, channels: int, num_steps: int = 1) -> None:
        super().__init__()
        self.channels = channels
        self.num_steps = num_steps
        self.lin_in = nn.Linear(channels, channels)
        self.lin_out = nn.Linear(channels, channels)
        self.gru = nn.GRUCell(2 * channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / self.channels**0.5
        for p in self.parameters():
            nn.init.uniform_(p, -stdv, stdv)

    def forward(
        self, x: Tensor, edge_index: Tensor, in_weight: Tensor, out_weight: Tensor
    ) -> Tensor:
        src, dst = edge_index[0], edge_index[1]
        n = x.size(0)
        for _ in range(self.num_steps):
            h_in = self.lin_in(x)
            h_out = self.lin_out(x)
            a_in = scatter(h_in[src] * in_weight.unsqueeze(-1), dst, 0, dim_size=n, reduce="sum")
            a_out = scatter(h_out[dst] * out_weight.unsqueeze(-1), src, 0, dim_size=n, reduce="sum")
            x = self.gru(torch.cat([a_in, a_out], dim=-1), x)
        return x

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels}, num_steps={self.num_steps})"
