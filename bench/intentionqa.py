"""IntentionQA accuracy of cosmo's scorers, with and without the knowledge graph.

Run by hand (a few minutes on 2 CPU cores; MiniLM vectors are cached under the state dir)::

    python bench/intentionqa.py [--data ../shared/data/intentionqa] [--kg-export DIR]
                                [--limit N] [--out results.json]

Methods (every trained one: 5 folds grouped by co-buy pair, gold read only to score and to
train on the training folds):

* ``minilm``: plain MiniLM cosine, no KG, no training (the published anchor 0.672 / 0.870);
* ``learned``: a linear scorer over frozen MiniLM features, no KG;
* ``learned+kg``: the same plus KG features, the KG built from the training pairs only;
* ``learned+kg (shuffled)``: control: the same KG with intention texts permuted;
* ``learned+kg (export)``: with ``--kg-export``, a KG made by the cosmo pipeline.

Per KG method the accuracy on the questions whose products the KG knows is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from cosmo.core.embeddings import SentenceTransformerEmbedder, TextVectors
from cosmo.core.settings import Settings
from cosmo.evaluation.intentionqa import accuracy, baseline_predict, query_text
from cosmo.evaluation.iqa_scorer import cross_validate
from cosmo.ingest.intentionqa import load_questions
from cosmo.kg.export import read_export


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, default=Path("../shared/data/intentionqa"))
    ap.add_argument("--kg-export", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(args.threads)
    console = Console()
    cache = Settings().cache_dir / "evaluation" / "intentionqa_minilm.npz"
    vectors = TextVectors(SentenceTransformerEmbedder())
    vectors.load(cache)
    external = read_export(args.kg_export) if args.kg_export else None
    results: dict[str, dict[str, float]] = {}
    for task in (1, 2):
        qs = load_questions(args.data / f"task{task}.jsonl", limit=args.limit)
        t = time.perf_counter()
        vectors.add(
            [
                x
                for q in qs
                for x in (q.item_a_name, q.item_b_name, q.intention, query_text(q), *q.options)
            ]
        )
        vectors.save(cache)
        console.print(
            f"task {task}: {len(qs)} questions, vectors ready in {time.perf_counter() - t:.0f} s"
        )
        minilm = baseline_predict(qs, vectors)
        res: dict[str, float] = {"minilm": accuracy(qs, minilm)}
        learned = cross_validate(qs, vectors, use_kg=False)
        res["learned"] = accuracy(qs, learned)
        runs = [("learned+kg", {}), ("learned+kg (shuffled)", {"shuffle_kg": True})]
        if external is not None:
            runs.append(("learned+kg (export)", {"kg_tables": external}))
        for name, kw in runs:
            cov: list[bool] = []
            preds = cross_validate(qs, vectors, use_kg=True, coverage=cov, **kw)  # type: ignore[arg-type]
            res[name] = accuracy(qs, preds)
            mask = np.array(cov, dtype=bool)
            sub = [q for q, m in zip(qs, mask, strict=True) if m]
            res[f"{name} | covered"] = accuracy(sub, preds[mask]) if sub else float("nan")
            res[f"{name} | coverage"] = float(mask.mean())
            if name == "learned+kg" and sub:
                res["minilm | covered"] = accuracy(sub, minilm[mask])
                res["learned | covered"] = accuracy(sub, learned[mask])
        results[f"task{task}"] = res
        console.print(f"task {task} done in {time.perf_counter() - t:.0f} s: {res}")
    table = Table(title="IntentionQA accuracy (random 0.25)")
    table.add_column("method")
    table.add_column("task 1", justify="right")
    table.add_column("task 2", justify="right")
    for key in results["task1"]:
        table.add_row(
            key, *(f"{results[t].get(key, float('nan')):.3f}" for t in ("task1", "task2"))
        )
    console.print(table)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
