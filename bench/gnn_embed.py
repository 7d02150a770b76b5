"""GraphSAGE link prediction on the IntentionQA knowledge graph: time per epoch and AUC.

Run by hand::

    python bench/gnn_embed.py [--data ../shared/data/intentionqa] [--epochs 50] [--threads 2]

Builds the KG of every task-1 question (products, co-buy edges, product → intention
edges), MiniLM features (cached under the state dir), trains full-batch for each output
size and prints seconds per epoch, first/last loss and held-out link ROC-AUC.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from cosmo.core.embeddings import SentenceTransformerEmbedder, TextVectors
from cosmo.core.settings import Settings
from cosmo.evaluation.intentionqa import kg_from_questions
from cosmo.gnn.data import build_hetero
from cosmo.gnn.embed import TrainConfig, train_link_prediction
from cosmo.ingest.intentionqa import load_questions


class _Cached:
    def __init__(self, vectors: TextVectors) -> None:
        self.vectors = vectors
        self.dim = vectors.embedder.dim

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        return self.vectors(list(texts))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=Path("../shared/data/intentionqa"))
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    console = Console()
    cache = Settings().cache_dir / "evaluation" / "intentionqa_minilm.npz"
    vectors = TextVectors(SentenceTransformerEmbedder())
    vectors.load(cache)
    t = time.perf_counter()
    data, _ = build_hetero(
        kg_from_questions(load_questions(args.data / "task1.jsonl")), _Cached(vectors)
    )
    vectors.save(cache)
    console.print(f"graph built in {time.perf_counter() - t:.1f} s: {data}")
    table = Table(title=f"GraphSAGE link prediction, {args.epochs} epochs, {args.threads} threads")
    for col in ("out dim", "s/epoch", "first loss", "last loss", "held-out AUC"):
        table.add_column(col, justify="right")
    for dim in (32, 64, 128):
        _, rep = train_link_prediction(data, TrainConfig(epochs=args.epochs, out=dim))
        table.add_row(
            str(dim),
            f"{rep.seconds_per_epoch:.3f}",
            f"{rep.losses[0]:.3f}",
            f"{rep.losses[-1]:.3f}",
            f"{rep.val_auc:.3f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
