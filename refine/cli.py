"""``cosmo refine`` and ``cosmo classify train | score | evaluate``.

Also registers the annotation (``cosmo annotate``) and COSMO-LM (``cosmo instruct``)
commands when those subpackages are installed.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated

import typer

from cosmo.core.clitools import console, settings_of

__all__ = ["register"]

classify_app = typer.Typer(help="Train and apply the quality classifier.", no_args_is_help=True)


def _default_out(ctx: typer.Context, name: str) -> Path:
    return settings_of(ctx).artifacts_dir / "refine" / name


def refine_cmd(
    ctx: typer.Context,
    candidates: Annotated[
        Path | None, typer.Option(help="candidates.parquet (or .jsonl/.csv) from generation")
    ] = None,
    intentionqa: Annotated[
        Path | None,
        typer.Option(help="Use IntentionQA task1.jsonl as input instead (gold + distractors)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder")] = None,
    classifier: Annotated[
        Path | None, typer.Option(help="A classifier from `cosmo classify train` (.npz)")
    ] = None,
    perplexity: Annotated[bool, typer.Option(help="Run the perplexity filter")] = True,
    perplexity_model: Annotated[
        str | None, typer.Option(help="Causal LM for perplexity (default: gemma3-270m)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N candidates")] = None,
) -> None:
    """Filter candidates into knowledge triples, with a funnel report."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.refine.run import load_input, run_refine
    from cosmo.refine.settings import RefineSettings

    settings = settings_of(ctx)
    rs = RefineSettings()
    if perplexity_model:
        rs = rs.model_copy(update={"perplexity_model": perplexity_model})
    cands, source = load_input(candidates, intentionqa, limit=limit)
    out_dir = out or _default_out(ctx, "run")
    result, paths = run_refine(
        cands,
        out_dir,
        embedder=SentenceTransformerEmbedder(),
        settings=rs,
        cache_dir=settings.cache_dir,
        classifier_path=classifier,
        use_perplexity=perplexity,
        inputs={"candidates": source},
    )
    for r in result.reports:
        console.print(f"  {r.stage:<12} {r.n_in:>7,} → {r.n_out:>7,}  ({r.n_dropped:,} dropped)")
    console.print(
        f"[green]✓[/] {result.n_input:,} candidates → {len(result.triples):,} triples in "
        f"{paths['triples']}; funnel report {paths['html']}"
    )


@classify_app.command("train")
def classify_train(
    ctx: typer.Context,
    labels: Annotated[
        Path,
        typer.Option(
            help="Annotations (.jsonl/.csv): candidate_id or item_id, annotator, five answers"
        ),
    ],
    candidates: Annotated[
        Path | None, typer.Option(help="Candidates the labels refer to (if rows carry no text)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Model file (.npz)")] = None,
    holdout: Annotated[float, typer.Option(help="Share of pairs held out for the report")] = 0.2,
) -> None:
    """Train the plausibility/typicality classifier on annotations; write a calibration report."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.refine.run import train_classifier

    model = out or _default_out(ctx, "classifier.npz")
    metrics = train_classifier(
        labels, model, SentenceTransformerEmbedder(), candidates_path=candidates, holdout=holdout
    )
    for t, m in metrics["holdout"].items():
        console.print(
            f"  {t:<13} held-out n={m['n']} AUC={m['auc']} Brier={m['brier']} ECE={m['ece']}"
        )
    console.print(f"[green]✓[/] classifier {model}; calibration report {metrics['report']}")


@classify_app.command("score")
def classify_score(
    ctx: typer.Context,
    candidates: Annotated[Path, typer.Option(help="candidates.parquet (or .jsonl/.csv)")],
    model: Annotated[Path | None, typer.Option(help="Model file from `classify train`")] = None,
    out: Annotated[Path | None, typer.Option(help="Scores file (.parquet/.jsonl/.csv)")] = None,
) -> None:
    """Add P(plausible) and P(typical) to every candidate."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.refine.run import score_candidates

    path = model or _default_out(ctx, "classifier.npz")
    dest = out or _default_out(ctx, "scores.parquet")
    n = score_candidates(candidates, path, dest, SentenceTransformerEmbedder())
    console.print(f"[green]✓[/] scored {n:,} candidates → {dest}")


@classify_app.command("evaluate")
def classify_evaluate(
    data: Annotated[Path, typer.Option(help="IntentionQA task1.jsonl")],
    test_share: Annotated[float, typer.Option(help="Share of co-buy pairs held out")] = 0.25,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train on part of IntentionQA (split by pair), report Spearman/AUC on the rest."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.refine.evaluate import evaluate_intentionqa

    m = evaluate_intentionqa(data, SentenceTransformerEmbedder(), test_share=test_share, seed=seed)
    m.pop("calibration")
    console.print_json(json.dumps(m))


def register(app: typer.Typer) -> None:
    """Add the refinement commands (and annotate/instruct when present) to ``app``."""
    app.command("refine")(refine_cmd)
    app.add_typer(classify_app, name="classify")
    for name in ("cosmo.refine.annotation.cli", "cosmo.refine.instruct.cli"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        module.register(app)
