"""Demo stage ``gnn``: graph → PyG, a few GraphSAGE epochs, embeddings written back, IntentionQA.

Reads the graph the ``kg`` stage loaded (``ctx.store``), writes
``ctx.artifacts["embeddings"]`` (Parquet), puts product vectors into the graph with a vector
index, and when the shared data is there, scores a slice of IntentionQA with and without
the knowledge graph.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext
    from cosmo.kg.store import GraphStore

__all__ = ["intentionqa_table", "run"]

DEMO_EPOCHS = 30
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
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.core.errors import InputError
    from cosmo.gnn.intentionqa import TextVectors, accuracy, baseline_predict, query_text
    from cosmo.gnn.iqa_scorer import cross_validate
    from cosmo.ingest.intentionqa import load_questions
    from cosmo.kg.export import read_export

    if not (data / "task1.jsonl").exists():
        raise InputError("IntentionQA task1.jsonl not found; pass --data", file=str(data))
    vectors = TextVectors(SentenceTransformerEmbedder())
    cache_file = cache / "gnn" / "intentionqa_minilm.npz" if cache else None
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


def run(ctx: DemoContext[GraphStore]) -> None:
    """Export, train a small GraphSAGE, write embeddings back, score IntentionQA."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.gnn.embed import TrainConfig
    from cosmo.gnn.pipeline import export_graph, train_and_embed
    from cosmo.kg.export import read_store

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = ctx.workdir / "gnn"
    tables = read_store(ctx.store)
    counts = tables.counts()
    ctx.console.print("graph: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if counts["products"] < 2 or counts["co_buy"] + counts["knowledge"] + counts["search_buy"] == 0:
        ctx.console.print(
            "[yellow]the graph has too few products or edges to train on; skipping GraphSAGE[/]"
        )
    else:
        data, maps, _ = export_graph(
            tables, SentenceTransformerEmbedder(), out, source="demo graph"
        )
        report, path, written = train_and_embed(
            data, maps, out, config=TrainConfig(epochs=DEMO_EPOCHS, out=64), store=ctx.store
        )
        ctx.artifacts["embeddings"] = path
        ctx.console.print(
            f"[green]✓[/] GraphSAGE {DEMO_EPOCHS} epochs: loss {report.losses[0]:.3f} → "
            f"{report.losses[-1]:.3f}, held-out link AUC {report.val_auc:.3f}; "
            f"{written} product vectors in the graph, {path}"
        )
    if ctx.shared_data is not None and (ctx.shared_data / "intentionqa" / "task1.jsonl").exists():
        ctx.console.print(
            intentionqa_table(
                ctx.shared_data / "intentionqa",
                limit=DEMO_IQA_QUESTIONS,
                cache=ctx.settings.cache_dir,
                folds=3,
            )
        )
