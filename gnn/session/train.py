"""Training and evaluation of the neural session recommenders (SR-GNN and its KG variant).

CPU-friendly choices:

- **sampled softmax**: each batch scores its targets against ``num_negatives`` uniformly sampled
  items (plus the batch's other targets) instead of all items; full softmax over 43k items costs
  ~8x more per step on CPU. ``num_negatives=0`` trains with the full softmax.
- sparse gradients for the item table (``SparseAdam``), dense ``Adam`` for the rest;
- one intra-op thread by default: on a small shared machine more threads mostly wait on
  each other (measured ~10x slower per step with 2 threads on a loaded 2-core box).

Evaluation always scores **all** items.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from cosmo.core.errors import ConfigError
from cosmo.gnn.session.data import SessionCases
from cosmo.gnn.session.graph import build_session_batch
from cosmo.gnn.session.metrics import RankMetrics, rank_metrics, ranks_from_scores
from cosmo.gnn.session.srgnn import SRGNN

__all__ = [
    "EpochLog",
    "SessionTrainConfig",
    "TrainResult",
    "evaluate",
    "load_session_model",
    "rank_cases",
    "save_session_model",
    "score_prefixes",
    "train_session_model",
]


@dataclass
class SessionTrainConfig:
    """Hyper-parameters of :func:`train_session_model`."""

    hidden: int = 100
    num_steps: int = 1
    normalize: bool = True
    scale: float = 12.0
    dropout: float = 0.1
    epochs: int = 3
    batch_size: int = 512
    lr: float = 3e-3
    lr_decay: float = 0.4
    num_negatives: int = 4096
    seed: int = 0
    num_threads: int = 1
    valid_cases: int = 10_000
    max_minutes: float | None = None


@dataclass
class EpochLog:
    epoch: int
    loss: float
    seconds: float
    valid: dict[str, float | int] | None = None


@dataclass
class TrainResult:
    """A trained model with its per-epoch history."""

    model: SRGNN
    config: SessionTrainConfig
    history: list[EpochLog] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def train_seconds(self) -> float:
        return sum(h.seconds for h in self.history)

    @property
    def seconds_per_epoch(self) -> float:
        return self.train_seconds / max(len(self.history), 1)


def _optimizers(model: SRGNN, lr: float) -> list[torch.optim.Optimizer]:
    sparse = [p for n, p in model.named_parameters() if n == "embedding.weight"]
    dense = [p for n, p in model.named_parameters() if n != "embedding.weight"]
    opts: list[torch.optim.Optimizer] = [torch.optim.Adam(dense, lr=lr)]
    if model.embedding.sparse:
        opts.append(torch.optim.SparseAdam(sparse, lr=lr))
    else:
        opts[0].add_param_group({"params": sparse})
    return opts


def train_session_model(
    train: SessionCases,
    num_items: int,
    config: SessionTrainConfig | None = None,
    *,
    valid: SessionCases | None = None,
    model: SRGNN | None = None,
    checkpoint: str | Path | None = None,
    progress: bool = True,
    on_epoch: Callable[[EpochLog], None] | None = None,
) -> TrainResult:
    """Train a session recommender on prefix → next-item cases.

    Args:
        train: training cases (see :func:`cosmo.gnn.session.data.expand_prefixes`).
        num_items: largest item id.
        config: hyper-parameters.
        valid: held-out cases; after each epoch the model is scored on up to
            ``config.valid_cases`` of them and the best epoch's weights are kept.
        model: a model to train (e.g. :class:`~cosmo.gnn.session.kg_srgnn.KGSRGNN`); default a
            new :class:`SRGNN` with sparse item gradients.
        checkpoint: where to save the best weights (``.pt``); written after each better epoch.
        on_epoch: called with each epoch's log.
    """
    cfg = config or SessionTrainConfig()
    if len(train) == 0:
        raise ConfigError("no training cases: sessions need at least two clicks")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.num_threads)
    try:
        model = model if model is not None else _new_model(cfg, num_items)
        opts = _optimizers(model, cfg.lr)
        result = TrainResult(model=model, config=cfg)
        best = -math.inf
        best_state: dict[str, torch.Tensor] | None = None
        vsub = None
        if valid is not None and len(valid):
            n = min(len(valid), cfg.valid_cases)
            vsub = valid.subset(np.sort(rng.choice(len(valid), n, replace=False)))
        deadline = time.monotonic() + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
        for epoch in range(1, cfg.epochs + 1):
            log = _epoch(model, opts, train, num_items, cfg, rng, epoch, deadline, progress)
            if vsub is not None:
                m = evaluate(model, vsub, progress=False)
                log.valid = m.as_dict()
                score = m.mrr + m.precision
            else:
                score = -log.loss
            result.history.append(log)
            if on_epoch:
                on_epoch(log)
            if score > best:
                best = score
                result.best_epoch = epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                if checkpoint is not None:
                    history = [asdict(h) for h in result.history]
                    extra: dict[str, object] = {"config": asdict(cfg), "history": history}
                    save_session_model(model, checkpoint, extra=extra)
            if time.monotonic() > deadline:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        return result
    finally:
        torch.set_num_threads(threads)


def _new_model(cfg: SessionTrainConfig, num_items: int) -> SRGNN:
    """A new SR-GNN with sparse item gradients."""
    return SRGNN(
        num_items,
        hidden=cfg.hidden,
        num_steps=cfg.num_steps,
        normalize=cfg.normalize,
        scale=cfg.scale,
        dropout=cfg.dropout,
        sparse=True,
    )


def _epoch(
    model: SRGNN,
    opts: list[torch.optim.Optimizer],
    train: SessionCases,
    num_items: int,
    cfg: SessionTrainConfig,
    rng: np.random.Generator,
    epoch: int,
    deadline: float,
    progress: bool,
) -> EpochLog:
    """One pass over the training cases in a random order (stops early at the deadline)."""
    lr = cfg.lr * cfg.lr_decay ** (epoch - 1)
    for opt in opts:
        for g in opt.param_groups:
            g["lr"] = lr
    model.train()
    order = rng.permutation(len(train))
    t0 = time.monotonic()
    total, count = 0.0, 0
    batches = range(0, len(order), cfg.batch_size)
    bar = tqdm(batches, desc=f"epoch {epoch}", disable=not progress, unit="batch")
    for start in bar:
        idx = order[start : start + cfg.batch_size]
        part = train.subset(idx)
        graph = build_session_batch(part.prefixes)
        y = torch.as_tensor(part.targets)
        if cfg.num_negatives > 0:
            neg = torch.randint(1, num_items + 1, (cfg.num_negatives,))
            cand = torch.unique(torch.cat([y, neg]))
            loss = F.cross_entropy(model.score(graph, cand), torch.searchsorted(cand, y))
        else:
            loss = F.cross_entropy(model.score(graph), y)
        for opt in opts:
            opt.zero_grad()
        loss.backward()
        for opt in opts:
            opt.step()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
        if count // cfg.batch_size % 50 == 0:
            bar.set_postfix(loss=f"{total / count:.3f}")
        if time.monotonic() > deadline:
            break
    return EpochLog(epoch, total / max(count, 1), time.monotonic() - t0)


@torch.no_grad()
def score_prefixes(model: SRGNN, prefixes: list[list[int]]) -> torch.Tensor:
    """All-item scores ``[B, num_items + 1]`` for ``prefixes`` (model in eval mode)."""
    model.eval()
    return model.score(build_session_batch(prefixes))


def rank_cases(
    model: SRGNN, cases: SessionCases, batch_size: int = 1024, progress: bool = True
) -> np.ndarray:
    """1-based rank of each target among all items."""
    if cases.max_item > model.num_items:
        raise ConfigError(
            f"the cases use item id {cases.max_item} but the model knows ids up to "
            f"{model.num_items}; train it with num_items ≥ {cases.max_item} (--num-items)"
        )
    out = []
    for start in tqdm(
        range(0, len(cases), batch_size), desc="score", disable=not progress, unit="batch"
    ):
        part = cases.subset(range(start, min(start + batch_size, len(cases))))
        scores = score_prefixes(model, part.prefixes)
        out.append(ranks_from_scores(scores, part.targets))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def evaluate(
    model: SRGNN, cases: SessionCases, k: int = 20, batch_size: int = 1024, progress: bool = True
) -> RankMetrics:
    """P@k and MRR@k of ``model`` on ``cases``, ranking all items."""
    return rank_metrics(rank_cases(model, cases, batch_size, progress), k)


def save_session_model(
    model: SRGNN, path: str | Path, extra: dict[str, object] | None = None
) -> Path:
    """Save weights and constructor arguments (a plain ``torch.save`` dict)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "kind": type(model).__name__,
        "num_items": model.num_items,
        "hidden": model.hidden,
        "num_steps": model.conv.num_steps,
        "normalize": model.normalize,
        "scale": model.scale,
        "state_dict": model.state_dict(),
        **(extra or {}),
    }
    tmp = p.with_suffix(p.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(p)
    return p


def load_session_model(path: str | Path) -> SRGNN:
    """Load a model saved by :func:`save_session_model` (SR-GNN or the KG variant)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"no session model at {p}; train one with `cosmo gnn train-session`")
    payload = torch.load(p, map_location="cpu", weights_only=False)
    kw = dict(
        hidden=payload["hidden"],
        num_steps=payload["num_steps"],
        normalize=payload["normalize"],
        scale=payload["scale"],
    )
    model: SRGNN
    if payload["kind"] == "KGSRGNN":
        from cosmo.gnn.session.kg_srgnn import KGSRGNN

        feats = payload["state_dict"]["item_features"]
        model = KGSRGNN(payload["num_items"], feats, **kw)
    elif payload["kind"] == "PosSRGNN":
        from cosmo.gnn.session.pos_srgnn import PosSRGNN

        positions = int(payload["state_dict"]["pos.weight"].shape[0])
        model = PosSRGNN(payload["num_items"], max_positions=positions, **kw)
    else:
        model = SRGNN(payload["num_items"], **kw)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model
