"""The GraphSAGE link-prediction trainer on Ray Train: DDP over ``workers`` processes.

Training is full-batch (see :mod:`cosmo.gnn.embed`): every worker encodes the whole graph
(the message passing needs all of it) and draws the same corruptions from the same seeded
generator, then scores and back-propagates only its share of each edge type's supervised
edges (:func:`cosmo.gnn.embed.link_loss` with its rank). The shares add up to the loss one
process computes, and the share is scaled by the number of workers so DDP's gradient
average is the one-process gradient: 1 and N workers follow the same loss curve (dropout
included: every worker's forward draws the same masks). What N workers divide is the
scoring and the backward pass through it; the encoder's forward runs on each. Rank 0
saves the encoder with :func:`cosmo.gnn.embed.save_model`, so
:func:`cosmo.gnn.embed.load_model` reads it unchanged.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosmo.gnn.embed import (
    TrainConfig,
    TrainReport,
    held_out_auc,
    link_loss,
    load_model,
    new_model,
    save_model,
    split_edges,
)
from cosmo.gnn.ray_train import all_sum, fit_on_ray, report_epoch, worker_rank

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["train_link_prediction_ddp"]

CHECKPOINT = "sage.pt"


def _worker_loop(config: dict[str, Any]) -> None:
    import torch
    from ray.train.torch import prepare_model

    data: HeteroData = config["data"]
    cfg: TrainConfig = config["cfg"]
    rank, world = worker_rank()
    torch.set_num_threads(1)
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    base = new_model(data, cfg)
    # edge types without message-passing edges leave their convolutions unused
    model = prepare_model(base, parallel_strategy_kwargs={"find_unused_parameters": True})
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    mp, train, val = split_edges(data, cfg, gen)
    report = TrainReport(supervised_edges={"__".join(et): int(e.shape[1]) for et, e in train.items()})  # fmt: skip
    t0 = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        opt.zero_grad()
        share = link_loss(model(data.x_dict, mp), data, train, gen, rank=rank, world=world)
        (share * world).backward()  # DDP averages the workers' gradients: this sums them
        opt.step()
        report.losses.append(float(all_sum(share.detach().clone())))
        last = epoch == cfg.epochs
        if last:
            report.seconds_per_epoch = (time.perf_counter() - t0) / cfg.epochs
            report.val_auc = held_out_auc(base, data, mp, val, gen)
        report_epoch(
            {"epoch": epoch, "loss": report.losses[-1]},
            last=last,
            filename=CHECKPOINT,
            save=lambda path: save_model(base, cfg, report, path),
        )


def train_link_prediction_ddp(
    data: HeteroData,
    config: TrainConfig | None = None,
    *,
    workers: int,
    checkpoint: Path,
    use_gpu: bool = False,
) -> TrainReport:
    """Train with ``workers`` DDP processes; the encoder ends at ``checkpoint`` (+ manifest).

    Ray must be initialised (or reachable as ``ray.init()`` finds it).
    """
    cfg = config or TrainConfig()
    new_model(data, cfg)  # a graph without edges fails here, before any worker starts
    path = fit_on_ray(
        _worker_loop,
        {"data": data, "cfg": cfg},
        workers=workers,
        name="train-sage",
        filename=CHECKPOINT,
        checkpoint=checkpoint,
        use_gpu=use_gpu,
    )
    report = TrainReport(**_report_of(path))
    save_model(load_model(path), cfg, report, path)  # the manifest beside it, as one process
    return report


def _report_of(path: Path) -> dict[str, Any]:
    import torch

    blob = torch.load(path, map_location="cpu", weights_only=False)
    return dict(blob["report"])
