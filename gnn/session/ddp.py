"""The session trainer on Ray Train: PyTorch DDP over ``workers`` processes (gloo on CPU).

Every worker walks the same shuffled order of the training cases; each global batch of
``batch_size`` cases is cut into ``workers`` contiguous shares, one per worker, and each
worker's loss is weighted by its share of the batch, so DDP's gradient average is the
gradient of the global batch: 1 and N workers follow the same loss curve (up to float
sums; dropout is the exception, its masks differ per worker). The item table is dense
here (DDP averages dense gradients), with one Adam over every parameter and the
full softmax or the sampled one (the negatives are drawn from a generator seeded per step,
the same on every worker). Rank 0 writes the checkpoint with :func:`save_session_model`,
so :func:`load_session_model` and the single-process evaluator read it unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cosmo.core.errors import ConfigError
from cosmo.gnn.ray_train import all_sum, fit_on_ray, report_epoch, worker_rank
from cosmo.gnn.session.data import SessionCases
from cosmo.gnn.session.graph import build_session_batch
from cosmo.gnn.session.srgnn import SRGNN
from cosmo.gnn.session.train import SessionTrainConfig, save_session_model

__all__ = ["train_session_ddp"]

CHECKPOINT = "model.pt"


def _batch_loss(
    model: Any,
    inner: SRGNN,
    part: SessionCases,
    batch_targets: Any,
    cfg: SessionTrainConfig,
    step: int,
) -> torch.Tensor:
    """This worker's share of the batch's loss; the encoder runs through ``model`` (DDP's forward).

    The sampled candidates are the whole batch's targets and the step's negatives, the same
    set on every worker, so the shares add up to the loss one process computes.
    """
    y = torch.as_tensor(part.targets)
    sessions = model(build_session_batch(part.prefixes))
    cand = torch.arange(inner.num_items + 1)
    if cfg.num_negatives > 0:
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        neg = torch.randint(1, inner.num_items + 1, (cfg.num_negatives,), generator=gen)
        cand = torch.unique(torch.cat([torch.as_tensor(batch_targets), neg]))
    scores = sessions @ inner.item_vectors(cand).t() * (inner.scale if inner.normalize else 1.0)
    return F.cross_entropy(scores, torch.searchsorted(cand, y))


def _worker_loop(config: dict[str, Any]) -> None:
    from ray.train.torch import prepare_model

    cfg: SessionTrainConfig = config["cfg"]
    train: SessionCases = config["train"]
    num_items: int = config["num_items"]
    rank, world = worker_rank()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.num_threads)
    base = SRGNN(num_items, hidden=cfg.hidden, num_steps=cfg.num_steps, normalize=cfg.normalize,
                 scale=cfg.scale, dropout=cfg.dropout, sparse=False)  # fmt: skip
    model = prepare_model(base)
    inner: SRGNN = model.module if hasattr(model, "module") else model
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    history: list[dict[str, float]] = []
    step = 0
    for epoch in range(1, cfg.epochs + 1):
        for g in opt.param_groups:
            g["lr"] = cfg.lr * cfg.lr_decay ** (epoch - 1)
        model.train()
        order = rng.permutation(len(train))
        total = torch.zeros(2, dtype=torch.float64)  # loss sum, cases
        for start in range(0, len(order), cfg.batch_size):
            batch = order[start : start + cfg.batch_size]
            mine = np.array_split(batch, world)[rank]
            step += 1
            if len(mine) == 0:  # a short last batch: this worker only joins the average
                loss = torch.stack([p.sum() for p in model.parameters()]).sum() * 0.0
            else:
                loss = _batch_loss(
                    model, inner, train.subset(mine), train.targets[batch], cfg, step
                )
                total += torch.tensor(
                    [float(loss.detach()) * len(mine), len(mine)], dtype=torch.float64
                )
                loss = loss * (len(mine) * world / len(batch))
            opt.zero_grad()
            loss.backward()
            opt.step()
        all_sum(total)
        history.append({"epoch": epoch, "loss": float(total[0] / total[1])})
        extra = {"config": asdict(cfg), "history": history, "workers": world}
        report_epoch(
            {"epoch": epoch, "loss": history[-1]["loss"]},
            last=epoch == cfg.epochs,
            filename=CHECKPOINT,
            save=partial(save_session_model, inner, extra=extra),
        )


def train_session_ddp(
    train: SessionCases,
    num_items: int,
    config: SessionTrainConfig | None,
    *,
    workers: int,
    checkpoint: Path,
    storage: Path | None = None,
    use_gpu: bool = False,
) -> list[dict[str, float]]:
    """Train with ``workers`` DDP processes under Ray's ``TorchTrainer``; return the loss curve.

    Ray must be initialised (or reachable as ``ray.init()`` finds it). The checkpoint is
    copied to ``checkpoint`` (atomically) for :func:`load_session_model`.
    """
    cfg = replace(config or SessionTrainConfig(), num_threads=1)
    if len(train) == 0:
        raise ConfigError("no training cases: sessions need at least two clicks")
    path = fit_on_ray(
        _worker_loop,
        {"cfg": cfg, "train": train, "num_items": num_items},
        workers=workers,
        name="train-session",
        filename=CHECKPOINT,
        checkpoint=checkpoint,
        storage=storage,
        use_gpu=use_gpu,
    )
    payload = torch.load(path, map_location="cpu", weights_only=False)
    return list(payload["history"])
