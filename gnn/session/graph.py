"""Session graphs built in plain PyTorch (no pyg-lib or torch-sparse needed).

A prefix ``[i1, i2, ..., in]`` becomes a small directed graph: one node per distinct item (in
order of first click) and an edge ``u → v`` for each consecutive click pair (duplicates merged).
SR-GNN normalises incoming edges by the node's in-degree and outgoing edges by its out-degree;
the two weights are stored per edge. Many prefixes are concatenated into one disjoint batch graph
with a ``batch`` vector, as :class:`torch_geometric.data.Batch` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["SessionGraphBatch", "build_session_batch"]


@dataclass
class SessionGraphBatch:
    """A batch of session graphs.

    Attributes:
        items: item id of every node ``[N]``.
        edge_index: directed click transitions ``[2, E]`` (source, target), batch-global node ids.
        in_weight: ``1 / in-degree(target)`` per edge ``[E]``.
        out_weight: ``1 / out-degree(source)`` per edge ``[E]``.
        batch: graph index of every node ``[N]``.
        last: node index of each session's last click ``[B]``.
        num_graphs: ``B``.
        position: clicks between each node's last occurrence and the end of its prefix ``[N]``
            (0 for the last click).
    """

    items: torch.Tensor
    edge_index: torch.Tensor
    in_weight: torch.Tensor
    out_weight: torch.Tensor
    batch: torch.Tensor
    last: torch.Tensor
    num_graphs: int
    position: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> SessionGraphBatch:
        return SessionGraphBatch(
            self.items.to(device),
            self.edge_index.to(device),
            self.in_weight.to(device),
            self.out_weight.to(device),
            self.batch.to(device),
            self.last.to(device),
            self.num_graphs,
            None if self.position is None else self.position.to(device),
        )


def build_session_batch(prefixes: Sequence[Sequence[int]]) -> SessionGraphBatch:
    """Build the disjoint batch graph of ``prefixes`` (each a non-empty list of item ids)."""
    items: list[int] = []
    src: list[int] = []
    dst: list[int] = []
    batch: list[int] = []
    last: list[int] = []
    position: list[int] = []
    for g, seq in enumerate(prefixes):
        if len(seq) == 0:
            raise ValueError(f"prefix {g} is empty")
        offset = len(items)
        local: dict[int, int] = {}
        back: list[int] = []  # per node: clicks from its last occurrence to the end
        for k, it in enumerate(seq):
            if it not in local:
                local[it] = len(local)
                items.append(int(it))
                back.append(0)
            back[local[it]] = len(seq) - 1 - k
        batch.extend([g] * len(local))
        position.extend(back)
        pairs = {(local[a], local[b]) for a, b in itertools.pairwise(seq)}
        for a, b in pairs:
            src.append(a + offset)
            dst.append(b + offset)
        last.append(local[seq[-1]] + offset)
    n = len(items)
    s = np.asarray(src, dtype=np.int64)
    d = np.asarray(dst, dtype=np.int64)
    in_deg = np.bincount(d, minlength=n).astype(np.float32)
    out_deg = np.bincount(s, minlength=n).astype(np.float32)
    return SessionGraphBatch(
        items=torch.as_tensor(items, dtype=torch.long),
        edge_index=torch.as_tensor(np.stack([s, d]), dtype=torch.long).view(2, -1),
        in_weight=torch.as_tensor(1.0 / in_deg[d] if d.size else np.zeros(0, np.float32)),
        out_weight=torch.as_tensor(1.0 / out_deg[s] if s.size else np.zeros(0, np.float32)),
        batch=torch.as_tensor(batch, dtype=torch.long),
        last=torch.as_tensor(last, dtype=torch.long),
        num_graphs=len(prefixes),
        position=torch.as_tensor(position, dtype=torch.long),
    )
