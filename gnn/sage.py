"""Heterogeneous GraphSAGE encoder for the cosmo knowledge graph.

One :class:`~torch_geometric.nn.SAGEConv` per edge type inside a
:class:`~torch_geometric.nn.HeteroConv` per layer (the explicit form of ``to_hetero``),
plus a per-type linear skip so that a node type that receives no messages (say, queries
in a graph without search-buy edges) still gets an embedding.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor
from torch_geometric.nn import HeteroConv, SAGEConv
from torch_geometric.typing import EdgeType, Metadata, NodeType

__all__ = ["HeteroSAGE"]


class HeteroSAGE(torch.nn.Module):
    r"""GraphSAGE over several node and edge types.

    .. math::
        h_v^{(l+1)} = W_{\mathrm{skip}}^{(l)} h_v^{(l)} + \sum_{r} \mathrm{SAGE}_r^{(l)}
        \big(h_v^{(l)}, \{h_u^{(l)} : u \in N_r(v)\}\big)

    Args:
        metadata: ``(node_types, edge_types)`` of the graph (``data.metadata()``).
        in_channels: size of the input features (same for every node type, e.g. 384).
        hidden_channels: size of the hidden layers.
        out_channels: size of the output embeddings.
        num_layers: number of message-passing layers (at least 1).
        dropout: dropout between layers.

    Shapes:
        - **input:** ``x_dict`` {node type: :math:`(|V_t|, F_{in})`},
          ``edge_index_dict`` {edge type: :math:`(2, |E_r|)`}
        - **output:** {node type: :math:`(|V_t|, F_{out})`}
    """

    def __init__(
        self,
        metadata: Metadata,
        in_channels: int,
        hidden_channels: int = 128,
        out_channels: int = 64,
        num_layers: int = 2,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        self.node_types: list[NodeType] = list(metadata[0])
        self.edge_types: list[EdgeType] = list(metadata[1])
        self.dropout = dropout
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = torch.nn.ModuleList()
        self.skips = torch.nn.ModuleList()
        for d_in, d_out in itertools.pairwise(dims):
            self.convs.append(
                HeteroConv(
                    {
                        et: SAGEConv((d_in, d_in), d_out, root_weight=False)
                        for et in self.edge_types
                    },
                    aggr="sum",
                )
            )
            self.skips.append(
                torch.nn.ModuleDict({t: torch.nn.Linear(d_in, d_out) for t in self.node_types})
            )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()  # type: ignore[operator]
        for skip in self.skips:
            for lin in skip.values():  # type: ignore[operator]
                lin.reset_parameters()

    def forward(
        self, x_dict: dict[NodeType, Tensor], edge_index_dict: dict[EdgeType, Tensor]
    ) -> dict[NodeType, Tensor]:
        h = x_dict
        edges = {et: ei for et, ei in edge_index_dict.items() if et in self.edge_types}
        last = len(self.convs) - 1
        for n, (conv, skip) in enumerate(zip(self.convs, self.skips, strict=True)):
            msg = conv(h, edges) if edges else {}
            out: dict[NodeType, Tensor] = {}
            for t in self.node_types:
                o = skip[t](h[t])  # type: ignore[index]
                if t in msg:
                    o = o + msg[t]
                if n < last:
                    o = torch.nn.functional.dropout(
                        torch.relu(o), p=self.dropout, training=self.training
                    )
                out[t] = o
            h = out
        return h

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({len(self.node_types)} node types, {len(self.edge_types)} edge types, {len(self.convs)} layers)"
