"""Demo stage: refine the demo's candidates, unattended, with the bundled annotations.

Reads ``ctx.artifacts["candidates"]`` (from generation). Without it, builds candidates from
IntentionQA (gold intentions and distractors of the first co-buy pairs) when the shared
data is there. Trains the quality classifier on ``refine/sample/annotations.jsonl``
(labels derived from IntentionQA, see ``refine/sample/README.md``), runs every filter and
writes ``ctx.artifacts["triples"]`` and ``ctx.artifacts["funnel_report"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext

__all__ = ["DEMO_MAX_CANDIDATES", "SAMPLE_ANNOTATIONS", "run"]

SAMPLE_ANNOTATIONS = Path(__file__).resolve().parent / "sample" / "annotations.jsonl"
DEMO_MAX_CANDIDATES = 400
"""Enough to show every stage at work; perplexity on 2 CPU cores stays well under a minute."""
DEMO_INTENTIONQA_PAIRS = 50


def run(ctx: DemoContext[Any]) -> None:
    from cosmo.core.artifacts import read_candidates
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.refine.intentionqa import intentionqa_candidates
    from cosmo.refine.run import run_refine, train_classifier
    from cosmo.refine.settings import RefineSettings

    out_dir = ctx.workdir / "refine"
    inputs: dict[str, Path] = {}
    if "candidates" in ctx.artifacts:
        inputs["candidates"] = ctx.artifacts["candidates"]
        cands = read_candidates(ctx.artifacts["candidates"])
        ctx.console.print(f"refine: {len(cands):,} candidates from generation")
    elif ctx.shared_data is not None:
        src = ctx.shared_data / "intentionqa" / "task1.jsonl"
        ctx.console.print(
            "refine: no candidates from generation; using IntentionQA intentions and "
            f"distractors of {DEMO_INTENTIONQA_PAIRS} co-buy pairs instead"
        )
        inputs["intentionqa"] = src
        cands = intentionqa_candidates(src, limit_pairs=DEMO_INTENTIONQA_PAIRS)
    else:
        ctx.console.print(
            "[yellow]refine: skipped[/]: no candidates from generation and no shared data "
            "(set COSMO_SHARED_DATA to the folder holding intentionqa/)"
        )
        return
    if len(cands) > DEMO_MAX_CANDIDATES:
        ctx.console.print(f"refine: keeping the first {DEMO_MAX_CANDIDATES} for the demo")
        cands = cands[:DEMO_MAX_CANDIDATES]

    embedder = SentenceTransformerEmbedder()
    model = out_dir / "classifier.npz"
    metrics = train_classifier(SAMPLE_ANNOTATIONS, model, embedder, holdout=0.25)
    for t, m in metrics["holdout"].items():
        ctx.console.print(f"refine: classifier {t}: held-out AUC {m['auc']}, Brier {m['brier']}")
    result, paths = run_refine(
        cands,
        out_dir,
        embedder=embedder,
        settings=RefineSettings(),
        cache_dir=ctx.settings.cache_dir,
        classifier_path=model,
        inputs=inputs,
    )
    for r in result.reports:
        ctx.console.print(f"  {r.stage:<12} {r.n_in:>6,} → {r.n_out:>6,}")
    ctx.count("refine", candidates=result.n_input, triples=len(result.triples),
              **{f"after_{r.stage}": r.n_out for r in result.reports})  # fmt: skip
    ctx.artifacts["triples"] = paths["triples"]
    ctx.artifacts["funnel_report"] = paths["html"]
    ctx.artifacts["funnel_chart"] = paths["png"]
    ctx.artifacts["classifier"] = model
    ctx.console.print(
        f"[green]✓[/] refine: {result.n_input:,} candidates → {len(result.triples):,} triples; "
        f"report {paths['html']}"
    )
