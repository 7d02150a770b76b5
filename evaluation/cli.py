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


@eval_app.command("intentionqa")
def intentionqa(
    ctx: typer.Context,
    data: Annotated[
        Path, typer.Option(help="IntentionQA folder (task1.jsonl, task2.jsonl)")
    ] = Path("../shared/data/intentionqa"),
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


def register(app: typer.Typer) -> None:
    """Add ``cosmo eval``."""
    app.add_typer(eval_app, name="eval")
