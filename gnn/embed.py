"""Train :class:`~cosmo.gnn.sage.HeteroSAGE` by link prediction and export node embeddings.

Full-batch training (no pyg-lib / torch-sparse needed): every epoch encodes the whole
graph, scores the supervised edges of each type (dot product of the two end embeddings)
against as many corrupted edges (random destination of the same type), and minimises
binary cross-entropy. A share of the edges of every type is held out of both message
passing and supervision; the held-out ROC-AUC against random corruptions is reported.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cosmo.core.manifest import Manifest

if TYPE_CHECKING:
    import torch
    from torch_geometric.data import HeteroData
    from torch_geometric.typing import EdgeType

    from cosmo.gnn.data import IdMaps
    from cosmo.gnn.sage import HeteroSAGE

__all__ = [
    "TrainConfig",
    "TrainReport",
    "embed_nodes",
    "held_out_auc",
    "link_loss",
    "load_model",
    "new_model",
    "save_model",
    "split_edges",
    "train_link_prediction",
    "write_embeddings_parquet",
]


@dataclass(frozen=True)
class TrainConfig:
    hidden: int = 128
    out: int = 64
    layers: int = 2
    dropout: float = 0.1
    epochs: int = 50
    lr: float = 0.01
    holdout: float = 0.1
    seed: int = 0


@dataclass
class TrainReport:
    losses: list[float] = field(default_factory=list)
    val_auc: float = float("nan")
    seconds_per_epoch: float = 0.0
    supervised_edges: dict[str, int] = field(default_factory=dict)


def _target_types(data: HeteroData) -> list[EdgeType]:
    """Edge types to supervise: the forward types (not ``rev_*``) that have edges."""
    return [
        et
        for et in data.edge_types
        if not et[1].startswith("rev_") and data[et].edge_index.shape[1] > 0
    ]


def _split(data: HeteroData, holdout: float, gen: torch.Generator) -> tuple[dict, dict, dict]:
    """Message-passing edges (held-out edges and their reverses removed), train and val edges."""
    import torch

    mp: dict = {}
    train: dict = {}
    val: dict = {}
    for et in _target_types(data):
        ei = data[et].edge_index
        perm = torch.randperm(ei.shape[1], generator=gen)
        n_val = round(ei.shape[1] * holdout) if ei.shape[1] >= 10 else 0
        val[et], train[et] = ei[:, perm[:n_val]], ei[:, perm[n_val:]]
        mp[et] = train[et]
        src, rel, dst = et
        rev = (dst, f"rev_{rel}", src)
        if rev in data.edge_types:
            mp[rev] = train[et].flip(0)
    return mp, train, val


def _scores(h: dict, et: EdgeType, ei: torch.Tensor) -> torch.Tensor:
    return (h[et[0]][ei[0]] * h[et[2]][ei[1]]).sum(-1)


def _corrupt(
    data: HeteroData, et: EdgeType, ei: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    import torch

    neg = ei.clone()
    neg[1] = torch.randint(0, int(data[et[2]].num_nodes), (ei.shape[1],), generator=gen)
    return neg


def new_model(data: HeteroData, cfg: TrainConfig) -> HeteroSAGE:
    """A fresh encoder for ``data`` (seeded by the caller)."""
    from cosmo.core.errors import PipelineError
    from cosmo.gnn.sage import HeteroSAGE

    if not _target_types(data):
        raise PipelineError(
            "the graph has no edges to learn from; load behaviour and knowledge first"
        )
    in_dim = next(iter(data.x_dict.values())).shape[1]
    return HeteroSAGE(data.metadata(), in_dim, cfg.hidden, cfg.out, cfg.layers, cfg.dropout)


def split_edges(
    data: HeteroData, cfg: TrainConfig, gen: torch.Generator
) -> tuple[dict, dict, dict]:
    """Message-passing, train and held-out edges (see :func:`_split`)."""
    return _split(data, cfg.holdout, gen)


def link_loss(
    h: dict,
    data: HeteroData,
    train: dict,
    gen: torch.Generator,
    *,
    rank: int = 0,
    world: int = 1,
) -> torch.Tensor:
    """The epoch's loss: per edge type, BCE of its edges against as many corruptions; mean.

    Every caller draws the same corruptions (all of them, from ``gen``); with ``world`` > 1
    this returns worker ``rank``'s share (a contiguous slice of each type's edges), and the
    shares of all workers add up to the loss one process computes.
    """
    import torch

    parts = []
    for et, pos in train.items():
        neg = _corrupt(data, et, pos, gen)
        mine = torch.tensor_split(torch.arange(pos.shape[1]), world)[rank]
        logits = torch.cat([_scores(h, et, pos[:, mine]), _scores(h, et, neg[:, mine])])
        labels = torch.cat([torch.ones(len(mine)), torch.zeros(len(mine))])
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="sum")
        parts.append(bce / (2 * pos.shape[1]))
    return torch.stack(parts).sum() / len(parts)


def held_out_auc(
    model: HeteroSAGE, data: HeteroData, mp: dict, val: dict, gen: torch.Generator
) -> float:
    """ROC-AUC of the held-out edges against random corruptions (``nan`` when none)."""
    import torch
    from sklearn.metrics import roc_auc_score

    model.eval()
    with torch.no_grad():
        h = model(data.x_dict, mp)
        ys, ss = [], []
        for et, pos in val.items():
            if pos.shape[1] == 0:
                continue
            neg = _corrupt(data, et, pos, gen)
            ss += [_scores(h, et, pos), _scores(h, et, neg)]
            ys += [torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])]
    if not ys:
        return float("nan")
    return float(roc_auc_score(torch.cat(ys).numpy(), torch.cat(ss).numpy()))


def train_link_prediction(
    data: HeteroData, config: TrainConfig | None = None, *, progress: bool = False
) -> tuple[HeteroSAGE, TrainReport]:
    """Train the encoder; returns it (in eval mode) and a report with losses and held-out AUC."""
    import torch

    cfg = config or TrainConfig()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = new_model(data, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    mp, train, val = split_edges(data, cfg, gen)
    report = TrainReport(
        supervised_edges={"__".join(et): int(e.shape[1]) for et, e in train.items()}
    )
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.epochs, desc="GraphSAGE link prediction", unit="epoch")
    t0 = time.perf_counter()
    for _ in range(cfg.epochs):
        model.train()
        opt.zero_grad()
        loss = link_loss(model(data.x_dict, mp), data, train, gen)
        loss.backward()
        opt.step()
        report.losses.append(loss.item())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
    if bar is not None:
        bar.close()
    report.seconds_per_epoch = (time.perf_counter() - t0) / max(cfg.epochs, 1)
    report.val_auc = held_out_auc(model, data, mp, val, gen)
    return model, report


def save_model(model: HeteroSAGE, config: TrainConfig, report: TrainReport, path: Path) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pt.tmp")
    torch.save(
        {
            "state_dict": model.state_dict(),
            "config": asdict(config),
            "metadata": (model.node_types, model.edge_types),
            "in_channels": model.skips[0][model.node_types[0]].in_features,  # type: ignore[index]
            "report": asdict(report),
        },
        tmp,
    )
    tmp.replace(path)
    m = Manifest(stage="gnn.train", parameters=asdict(config))
    m.notes.update(
        {
            "val_auc": report.val_auc,
            "seconds_per_epoch": report.seconds_per_epoch,
            "first_loss": report.losses[0] if report.losses else None,
            "last_loss": report.losses[-1] if report.losses else None,
        }
    )
    m.counts.update(report.supervised_edges)
    m.write(path)
    return path


def load_model(path: Path) -> HeteroSAGE:
    """Load what :func:`save_model` wrote."""
    import torch

    from cosmo.core.errors import InputError
    from cosmo.gnn.sage import HeteroSAGE

    if not path.exists():
        raise InputError("model not found; run `cosmo gnn train` first", file=str(path))
    blob: dict[str, Any] = torch.load(path, weights_only=False)
    cfg = blob["config"]
    model = HeteroSAGE(
        blob["metadata"],
        blob["in_channels"],
        cfg["hidden"],
        cfg["out"],
        cfg["layers"],
        cfg["dropout"],
    )
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def embed_nodes(model: HeteroSAGE, data: HeteroData) -> dict[str, np.ndarray]:
    """L2-normalised embeddings of every node, by node type (message passing on all edges)."""
    import torch

    model.eval()
    with torch.no_grad():
        h = model(data.x_dict, data.edge_index_dict)
    return {
        t: torch.nn.functional.normalize(v, dim=-1).numpy().astype(np.float32) for t, v in h.items()
    }


def write_embeddings_parquet(
    embeddings: dict[str, np.ndarray], maps: IdMaps, path: Path, *, manifest: Manifest | None = None
) -> Path:
    """One row per node: ``node_type``, ``id``, ``embedding`` (list of float32); manifest last."""
    frames = [
        pd.DataFrame({"node_type": t, "id": maps.ids[t], "embedding": list(v)})
        for t, v in embeddings.items()
        if len(v)
    ]
    df = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["node_type", "id", "embedding"])
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)
    m = manifest or Manifest(stage="gnn.embed")
    for t, v in embeddings.items():
        m.counts[f"embeddings.{t}"] = len(v)
    m.write(path)
    return path
