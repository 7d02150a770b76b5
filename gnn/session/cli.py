"""``cosmo gnn train-session`` / ``cosmo gnn eval-session``: session recommendation commands.

:func:`register` adds both commands to the ``cosmo gnn`` sub-app (``cosmo.gnn.cli`` calls it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cosmo.core.clitools import console, settings_of
from cosmo.core.errors import InputError

__all__ = ["register"]


def _default_model_path(ctx: typer.Context) -> Path:
    return settings_of(ctx).artifacts_dir / "session" / "srgnn.pt"


def _load_features(path: Path, num_items: int):  # type: ignore[no-untyped-def]
    import numpy as np
    import torch

    if not path.is_file():
        raise InputError("item feature file not found", file=str(path))
    feats = np.load(path)
    if feats.ndim != 2 or feats.shape[0] != num_items + 1:
        raise InputError(
            f"expected a [num_items + 1, D] = [{num_items + 1}, D] matrix, got {list(feats.shape)}",
            file=str(path),
        )
    return torch.as_tensor(feats, dtype=torch.float32)


def train_session(
    ctx: typer.Context,
    sessions: Annotated[Path, typer.Option(help="Training sessions: item ids per line.")],
    out: Annotated[Path | None, typer.Option(help="Checkpoint path (.pt).")] = None,
    item_features: Annotated[
        Path | None,
        typer.Option(help="KG item features (.npy, [num_items + 1, D]): trains the KG variant."),
    ] = None,
    epochs: int = 3,
    batch_size: int = 512,
    negatives: Annotated[int, typer.Option(help="Sampled negatives; 0 = full softmax.")] = 4096,
    lr: float = 3e-3,
    hidden: int = 100,
    valid_fraction: Annotated[float, typer.Option(help="Last share of sessions held out.")] = 0.1,
    max_minutes: Annotated[float | None, typer.Option(help="Stop training after this.")] = None,
    threads: int = 1,
    seed: Annotated[int, typer.Option(help="Training seed (train several for an ensemble).")] = 0,
    positions: Annotated[
        bool, typer.Option(help="Train PosSRGNN (reversed-position attention) instead.")
    ] = False,
    num_items: Annotated[
        int | None, typer.Option(help="Largest item id (default: the largest in the sessions).")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="DDP workers (Ray Train).")] = None,
) -> None:
    """Train SR-GNN (or the KG-enhanced variant) on every prefix → next item."""
    from cosmo.core.manifest import Manifest
    from cosmo.gnn.session.data import expand_prefixes, load_sessions, split_validation
    from cosmo.gnn.session.kg_srgnn import KGSRGNN
    from cosmo.gnn.session.train import SessionTrainConfig, train_session_model

    path = out or _default_model_path(ctx)
    all_sessions = load_sessions(sessions)
    num_items = max(num_items or 0, max(max(s) for s in all_sessions))
    fit, valid = split_validation(all_sessions, valid_fraction)
    cfg = SessionTrainConfig(
        hidden=hidden,
        epochs=epochs,
        batch_size=batch_size,
        num_negatives=negatives,
        lr=lr,
        num_threads=threads,
        max_minutes=max_minutes,
        seed=seed,
    )
    if workers is not None:  # SR-GNN under Ray Train
        return _train_ddp(
            path, expand_prefixes(fit), num_items, cfg, workers, (positions, item_features)
        )
    model = None
    if positions and item_features is not None:
        raise InputError("--positions and --item-features are different models; pick one")
    if positions:
        from cosmo.gnn.session.pos_srgnn import PosSRGNN

        model = PosSRGNN(num_items, hidden=hidden, sparse=True)
    if item_features is not None:
        model = KGSRGNN(num_items, _load_features(item_features, num_items), hidden=hidden)
    console.print(f"training on {len(fit)} sessions, validating on {len(valid)} held-out cases")
    result = train_session_model(
        expand_prefixes(fit),
        num_items,
        cfg,
        valid=valid,
        model=model,
        checkpoint=path,
        on_epoch=lambda log: console.print(
            f"epoch {log.epoch}: loss {log.loss:.3f}, {log.seconds:.0f} s, valid {log.valid}"
        ),
    )
    manifest = Manifest(stage="gnn.session.train", parameters=asdict(cfg))
    manifest.add_input("sessions", sessions)
    manifest.count("sessions", len(all_sessions))
    manifest.count("epochs", len(result.history))
    manifest.write(path)
    console.print(
        f"saved {path} (best epoch {result.best_epoch}, "
        f"{result.seconds_per_epoch:.0f} s/epoch, {result.train_seconds:.0f} s in all)"
    )


def _train_ddp(
    path: Path, cases: Any, num_items: int, cfg: Any, workers: int, other: tuple[object, ...]
) -> None:
    """``train-session --workers N``: SR-GNN under Ray Train (the cluster of COSMO_PIPELINE_*)."""
    from cosmo.gnn.ray_train import ray_from_settings
    from cosmo.gnn.session.ddp import train_session_ddp

    if any(other):
        raise InputError("--workers trains SR-GNN; --positions and --item-features train alone")
    with ray_from_settings():
        history = train_session_ddp(cases, num_items, cfg, workers=workers, checkpoint=path)
    for h in history:
        console.print(f"epoch {h['epoch']}: loss {h['loss']:.3f}")
    console.print(f"saved {path} ({workers} DDP workers on Ray Train; the last epoch's weights)")


def eval_session(
    ctx: typer.Context,
    sessions: Annotated[Path, typer.Option(help="Training sessions (kNN index, validation).")],
    cases: Annotated[Path, typer.Option(help="Test cases: prefix<TAB>target per line.")],
    model_path: Annotated[
        list[Path] | None,
        typer.Option(
            help="Checkpoint from train-session; repeat it to evaluate the ensemble (mean "
            "scores) of several, e.g. SR-GNNs trained with different --seed."
        ),
    ] = None,
    knn_only: Annotated[bool, typer.Option(help="Evaluate V-SKNN alone.")] = False,
    weight: Annotated[
        float | None,
        typer.Option(help="Fusion weight of the neural model; default: chosen on validation."),
    ] = None,
    valid_fraction: float = 0.1,
    valid_cases: int = 20_000,
    k: int = 20,
) -> None:
    """Evaluate V-SKNN, V-STAN, the trained model and their fusion (P@k, MRR@k, all items).

    The fusion's kNN model (V-SKNN, V-STAN, or V-STAN mixed with the prefix's own items) and
    temperature, and its weight unless ``--weight`` is given, are chosen on the last
    ``valid_fraction`` of the training sessions.
    """
    import torch

    from cosmo.gnn.session.data import load_cases, load_sessions
    from cosmo.gnn.session.ensemble import load_session_models
    from cosmo.gnn.session.train import evaluate

    torch.set_num_threads(1)
    train = load_sessions(sessions)
    test = load_cases(cases)
    paths = model_path or [_default_model_path(ctx)]
    model: Any = None
    if not knn_only:
        model = load_session_models(paths)
    num_items = max(max(max(s) for s in train), test.max_item, model.num_items if model else 0)
    table = Table("model", f"P@{k}", f"MRR@{k}")
    knns = _knn_models(train, num_items, len(train))
    for name in ("V-SKNN", "V-STAN"):
        m = knns[name].evaluate(test, k)
        table.add_row(name, f"{m.precision:.2f}", f"{m.mrr:.2f}")
    if model is not None:
        m = evaluate(model, test, k)
        name = type(model).__name__
        if len(paths) > 1:
            name = f"{name} of {len(paths)} ({', '.join(p.name for p in paths)})"
        table.add_row(name, f"{m.precision:.2f}", f"{m.mrr:.2f}")
        fusion = _Fusion(weight, valid_fraction, valid_cases, k)
        table.add_row(*fusion.row(model, knns, train, test, num_items))
    console.print(table)


def _knn_models(index: list[list[int]], num_items: int, n_train: int) -> dict[str, Any]:
    """The kNN baselines (and the candidates for the fusion) fitted on ``index``."""
    from cosmo.gnn.session.repeat import RepeatMix
    from cosmo.gnn.session.sknn import VSKNN
    from cosmo.gnn.session.stan import STAN

    stan = STAN(lambda_recency=0.85 * n_train).fit(index, num_items)
    return {
        "V-SKNN": VSKNN(weighting="div", idf=True).fit(index, num_items),
        "V-STAN": stan,
        "V-STAN + repeat": RepeatMix(stan, rho=0.35, decay=2.0),
    }


@dataclass(frozen=True)
class _Fusion:
    """The hybrid of the model and a kNN, chosen on held-out training sessions."""

    weight: float | None
    valid_fraction: float
    valid_cases: int
    k: int

    def row(
        self, model: Any, knns: dict[str, Any], train: list[list[int]], test: Any, num_items: int
    ) -> tuple[str, str, str]:
        import numpy as np

        from cosmo.gnn.session.data import split_validation
        from cosmo.gnn.session.hybrid import HybridRecommender, search_fusion

        fit, valid = split_validation(train, self.valid_fraction)
        rng = np.random.default_rng(0)
        vsub = valid.subset(
            np.sort(rng.choice(len(valid), min(self.valid_cases, len(valid)), replace=False))
        )
        (name, w, tau), _ = search_fusion(
            model,
            _knn_models(fit, num_items, len(train)),
            vsub,
            grid=(self.weight,) if self.weight is not None else (0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
            temperatures=(0.75, 1.0, 1.5),
            k=self.k,
        )
        m = HybridRecommender(model, knns[name], w, tau).evaluate(test, self.k)
        return f"hybrid with {name} (w={w:.2f}, τ={tau})", f"{m.precision:.2f}", f"{m.mrr:.2f}"


def register(gnn_app: typer.Typer) -> None:
    """Add ``train-session`` and ``eval-session`` to the ``cosmo gnn`` sub-app."""
    gnn_app.command("train-session")(train_session)
    gnn_app.command("eval-session")(eval_session)
