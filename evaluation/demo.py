"""Demo stage ``evaluation``: IntentionQA accuracy with and without the knowledge graph.

When the shared data is there, scores the first questions of both IntentionQA tasks with
plain MiniLM similarity, a learned scorer, and the learned scorer with the knowledge graph
of the training pairs (pair-grouped cross-validation); prints one table.
:func:`intentionqa_table` is also what ``cosmo eval intentionqa`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from cosmo.core.embeddings import SentenceTransformerEmbedder, TextVectors
from cosmo.core.errors import InputError
from cosmo.evaluation.intentionqa import accuracy, baseline_predict, query_text
from cosmo.evaluation.iqa_scorer import cross_validate
from cosmo.ingest.intentionqa import load_questions
from cosmo.kg.export import read_export

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext

__all__ = ["DEMO_IQA_QUESTIONS", "intentionqa_table", "run"]

DEMO_IQA_QUESTIONS = 150


def intentionqa_table(
    data: Path,
    *,
    limit: int | None = None,
    kg_export: Path | None = None,
    cache: Path | None = None,
    folds: int = 5,
) -> Table:
    """Accuracy of each method on both tasks, as a rich table."""
    if not (data / "task1.jsonl").exists():
        raise InputError("IntentionQA task1.jsonl not found; pass --data", file=str(data))
    vectors = TextVectors(SentenceTransformerEmbedder())
    cache_file = cache / "evaluation" / "intentionqa_minilm.npz" if cache else None
    if cache_file is not None:
        vectors.load(cache_file)
    external = read_export(kg_export) if kg_export else None
    rows: dict[str, list[float]] = {}
    for task in (1, 2):
        qs = load_questions(data / f"task{task}.jsonl", limit=limit)
        vectors.add(
            [
                x
                for q in qs
                for x in (q.item_a_name, q.item_b_name, q.intention, query_text(q), *q.options)
            ]
        )
        if cache_file is not None:
            vectors.save(cache_file)
        rows.setdefault("MiniLM similarity, no KG", []).append(
            accuracy(qs, baseline_predict(qs, vectors))
        )
        rows.setdefault("learned scorer, no KG", []).append(
            accuracy(qs, cross_validate(qs, vectors, use_kg=False, folds=folds))
        )
        rows.setdefault("learned scorer + KG of training pairs", []).append(
            accuracy(qs, cross_validate(qs, vectors, use_kg=True, folds=folds))
        )
        if external is not None:
            rows.setdefault(f"learned scorer + KG {kg_export}", []).append(
                accuracy(
                    qs, cross_validate(qs, vectors, use_kg=True, kg_tables=external, folds=folds)
                )
            )
    n = "all" if limit is None else f"first {limit}"
    table = Table(
        title=f"IntentionQA accuracy ({n} questions; random 0.25; {folds}-fold CV by co-buy pair)"
    )
    table.add_column("method")
    table.add_column("task 1", justify="right")
    table.add_column("task 2", justify="right")
    for name, accs in rows.items():
        table.add_row(name, *(f"{a:.3f}" for a in accs))
    return table


def run(ctx: DemoContext[Any]) -> None:
    """Score a slice of IntentionQA with and without the knowledge graph (needs the data)."""
    data = ctx.shared_data / "intentionqa" if ctx.shared_data is not None else None
    if data is None or not (data / "task1.jsonl").exists():
        ctx.console.print("[yellow]evaluation: skipped[/]: no IntentionQA in the shared data")
        return
    ctx.console.print(
        intentionqa_table(data, limit=DEMO_IQA_QUESTIONS, cache=ctx.settings.cache_dir, folds=3)
    )
