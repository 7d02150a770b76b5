"""Session-based recommendation on Diginetica: V-SKNN, SR-GNN and their fusion.

Run by hand (minutes to an hour on a small CPU box):

    python bench/session_rec.py                       # train SR-GNN, then evaluate everything
    python bench/session_rec.py --checkpoint .cosmo/session/srgnn.pt   # reuse a trained model

Protocol (no tuning on test targets): the last 10 % of the training sessions are held out.
SR-GNN trains on the first 90 % (best epoch picked on a sample of the held-out cases); the kNN
configuration and the fusion weight are chosen on the held-out cases with the kNN index built on
the first 90 %. For the test set the kNN index holds all training sessions. All metrics rank the
target among all 43,097 items. Prints a table and writes ``<out>/session_rec.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from cosmo.gnn.session.data import expand_prefixes, load_cases, load_sessions, split_validation
from cosmo.gnn.session.hybrid import HybridRecommender, choose_weight
from cosmo.gnn.session.sknn import VSKNN
from cosmo.gnn.session.train import (
    SessionTrainConfig,
    evaluate,
    load_session_model,
    train_session_model,
)

KNN_CONFIGS = [("linear", False), ("div", False), ("div", True), ("linear", True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/diginetica"))
    ap.add_argument("--out", type=Path, default=Path(".cosmo/session"))
    ap.add_argument("--checkpoint", type=Path, help="reuse a trained SR-GNN checkpoint")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--negatives", type=int, default=4096)
    ap.add_argument("--valid-cases", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--knn-config",
        help="weighting,idf (e.g. div,1) to skip the validation search over kNN configurations",
    )
    ap.add_argument("--kg-only", action="store_true", help="only the IntentionQA KG comparison")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.kg_only:
        kg_comparison(args.data.parent / "intentionqa" / "task1.jsonl")
        return

    train = load_sessions(args.data / "train_sessions.txt")
    test = load_cases(args.data / "test.tsv")
    num_items = max(max(max(s) for s in train), test.max_item)
    fit, valid = split_validation(train, 0.1)
    rng = np.random.default_rng(0)
    vsub = valid.subset(np.sort(rng.choice(len(valid), min(args.valid_cases, len(valid)), False)))
    rows: list[dict[str, object]] = []

    # --- V-SKNN: plain reference configuration, then the one chosen on validation
    best_cfg, best_val = KNN_CONFIGS[0], -1.0
    if args.knn_config:
        weighting, idf_flag = args.knn_config.split(",")
        best_cfg = (weighting, idf_flag.strip() in {"1", "true", "True"})
    for weighting, idf in [] if args.knn_config else KNN_CONFIGS:
        m = VSKNN(weighting=weighting, idf=idf).fit(fit, num_items).evaluate(valid)
        print(f"validation V-SKNN {weighting} idf={idf}: {m}", flush=True)
        if m.precision + m.mrr > best_val:
            best_cfg, best_val = (weighting, idf), m.precision + m.mrr
    for (weighting, idf), name in [
        (("linear", False), "V-SKNN (plain: linear, k=100, sample 500)"),
        (best_cfg, f"V-SKNN ({best_cfg[0]}, idf={best_cfg[1]}; chosen on validation)"),
    ]:
        t0 = time.perf_counter()
        knn = VSKNN(weighting=weighting, idf=idf).fit(train, num_items)
        m = knn.evaluate(test)
        secs = time.perf_counter() - t0
        rows.append({"model": name, **m.as_dict(), "train_s": 0.0, "eval_s": secs})
        print(rows[-1], flush=True)

    # --- SR-GNN
    if args.checkpoint:
        model = load_session_model(args.checkpoint)
        payload = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        history = payload.get("history")
        sidecar = args.checkpoint.with_suffix(".history.json")
        if history is None and sidecar.is_file():
            history = json.loads(sidecar.read_text())["history"]
        history = history or []
    else:
        cfg = SessionTrainConfig(
            epochs=args.epochs, num_negatives=args.negatives, num_threads=args.threads
        )
        result = train_session_model(
            expand_prefixes(fit),
            num_items,
            cfg,
            valid=valid,
            checkpoint=args.out / "srgnn.pt",
            on_epoch=lambda log: print(log, flush=True),
        )
        model = result.model
        history = [asdict(h) for h in result.history]
    train_s = sum(float(h["seconds"]) for h in history)
    per_epoch = train_s / max(len(history), 1)
    t0 = time.perf_counter()
    m = evaluate(model, test)
    rows.append(
        {
            "model": f"SR-GNN + NISER norm ({len(history)} epochs, sampled softmax)",
            **m.as_dict(),
            "train_s": train_s,
            "s_per_epoch": per_epoch,
            "eval_s": time.perf_counter() - t0,
        }
    )
    print(rows[-1], flush=True)

    # --- fusion, weight chosen on validation with a kNN index that excludes it
    knn_fit = VSKNN(weighting=best_cfg[0], idf=best_cfg[1]).fit(fit, num_items)
    grid = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0)
    w, wm = choose_weight(model, knn_fit, vsub, grid=grid)
    for g, gm in wm.items():
        print(f"validation fusion w={g}: {gm}", flush=True)
    knn = VSKNN(weighting=best_cfg[0], idf=best_cfg[1]).fit(train, num_items)
    t0 = time.perf_counter()
    m = HybridRecommender(model, knn, w).evaluate(test)
    rows.append(
        {
            "model": f"hybrid: SR-GNN × V-SKNN (w={w}, chosen on validation)",
            **m.as_dict(),
            "train_s": train_s,
            "s_per_epoch": per_epoch,
            "eval_s": time.perf_counter() - t0,
        }
    )
    (args.out / "session_rec.json").write_text(json.dumps(rows, indent=1))
    print()
    print(
        f"| model | P@20 | MRR@20 | train time | time/epoch | eval time ({test.max_item} items) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        spe = r.get("s_per_epoch")
        print(
            f"| {r['model']} | {r['P@20']:.2f} | {r['MRR@20']:.2f} | {float(r['train_s']):.0f} s"  # type: ignore[arg-type]
            f" | {'' if spe is None else f'{float(spe):.0f} s'} | {float(r['eval_s']):.0f} s |"  # type: ignore[arg-type]
        )


def kg_comparison(task1: Path) -> None:
    """SR-GNN vs the KG-enhanced variant on IntentionQA co-buy sessions (items with titles).

    Features: MiniLM embeddings of the title and of the intentions of the item's *training*
    pairs. Split by co-buy pair (80/20); test = ``[A] → B`` and ``[B] → A`` over all items.
    """
    from cosmo.embeddings import SentenceTransformerEmbedder
    from cosmo.gnn.session.kg_features import intentionqa_cobuy_sessions
    from cosmo.gnn.session.kg_srgnn import KGSRGNN

    t0 = time.perf_counter()
    d = intentionqa_cobuy_sessions(task1, SentenceTransformerEmbedder())
    print(f"features: {time.perf_counter() - t0:.0f} s, {d.num_items} items, {len(d.test)} test")
    train = expand_prefixes(d.train_sessions)
    cfg = SessionTrainConfig(
        epochs=10, batch_size=64, num_negatives=0, lr=5e-3, lr_decay=0.8, hidden=64
    )
    print("| model (IntentionQA co-buy) | P@20 | MRR@20 | train time |")
    print("|---|---:|---:|---:|")
    m = VSKNN().fit(d.train_sessions, d.num_items).evaluate(d.test)
    print(f"| V-SKNN | {m.precision:.2f} | {m.mrr:.2f} | 0 s |")
    feats = torch.as_tensor(d.item_features)
    for name, model in [
        ("SR-GNN", None),
        ("KG-SR-GNN (title + intention features)", KGSRGNN(d.num_items, feats, hidden=64)),
    ]:
        r = train_session_model(train, d.num_items, cfg, model=model, progress=False)
        m = evaluate(r.model, d.test, progress=False)
        print(f"| {name} | {m.precision:.2f} | {m.mrr:.2f} | {r.train_seconds:.0f} s |")


if __name__ == "__main__":
    main()
