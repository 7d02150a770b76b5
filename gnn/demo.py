"""Demo stage ``gnn``: graph → PyG, a few GraphSAGE epochs, embeddings written back.

Reads the graph the ``kg`` stage loaded (``ctx.store``), writes
``ctx.artifacts["embeddings"]`` (Parquet) and puts product vectors into the graph with a
vector index.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext
    from cosmo.kg.store import GraphStore

__all__ = ["run"]

DEMO_EPOCHS = 30


def run(ctx: DemoContext[GraphStore]) -> None:
    """Export, train a small GraphSAGE, write embeddings back."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.gnn.embed import TrainConfig
    from cosmo.gnn.pipeline import export_graph, train_and_embed
    from cosmo.kg.export import read_store

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    out = ctx.workdir / "gnn"
    tables = read_store(ctx.store)
    counts = tables.counts()
    ctx.count("gnn", **counts)
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
        ctx.count("gnn", vectors_written=written)
        ctx.console.print(
            f"[green]✓[/] GraphSAGE {DEMO_EPOCHS} epochs: loss {report.losses[0]:.3f} → "
            f"{report.losses[-1]:.3f}, held-out link AUC {report.val_auc:.3f}; "
            f"{written} product vectors in the graph, {path}"
        )
