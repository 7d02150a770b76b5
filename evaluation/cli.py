"""``cosmo eval ...``: how much the knowledge graph helps, on public benchmarks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cosmo.core.clitools import console, settings_of

__all__ = ["eval_app", "register"]

eval_app = typer.Typer(
    help="Evaluate the knowledge graph on public benchmarks.", no_args_is_help=True
)


DataOption = Annotated[Path, typer.Option(help="IntentionQA folder (task1.jsonl, task2.jsonl)")]
"""``--data``: where the IntentionQA files are."""


@eval_app.command("intentionqa")
def intentionqa(
    ctx: typer.Context,
    data: DataOption = Path("../shared/data/intentionqa"),
    limit: Annotated[int | None, typer.Option(help="First N questions per task")] = None,
    kg_export: Annotated[
        Path | None, typer.Option(help="Also score with this KG export (made without the answers)")
    ] = None,
) -> None:
    """IntentionQA accuracy: plain MiniLM, learned scorer, learned scorer + KG (pair-grouped CV)."""
    from cosmo.evaluation.demo import intentionqa_table

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    console.print(
        intentionqa_table(data, limit=limit, kg_export=kg_export, cache=settings_of(ctx).cache_dir)
    )


@eval_app.command("own-pipeline")
def own_pipeline(
    ctx: typer.Context,
    data: DataOption = Path("../shared/data/intentionqa"),
    pairs: Annotated[int, typer.Option(min=1, help="Held-out co-buy pairs to sample")] = 200,
    cpu_minutes: Annotated[
        float, typer.Option(min=0.0, help="CPU-time budget of generation and refinement")
    ] = 60.0,
    train: Annotated[int, typer.Option(min=10, help="Training questions per task")] = 600,
    seed: Annotated[int, typer.Option(help="Seed of the pair sample")] = 0,
    max_new_tokens: Annotated[int, typer.Option(min=8, help="Tokens per completion")] = 48,
) -> None:
    """IntentionQA on held-out pairs with knowledge from cosmo's own pipeline (vs no KG, shuffled)."""
    from cosmo.evaluation.own_pipeline import own_pipeline_table, run_own_pipeline

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    know, results = run_own_pipeline(
        data,
        pairs=pairs,
        cpu_minutes=cpu_minutes,
        cache_dir=settings_of(ctx).cache_dir,
        train_limit=train,
        seed=seed,
        max_new_tokens=max_new_tokens,
    )
    console.print(own_pipeline_table(know, results))


def register(app: typer.Typer) -> None:
    """Add ``cosmo eval``."""
    app.add_typer(eval_app, name="eval")
