"""Session-based recommendation on Diginetica: V-SKNN, V-STAN, SR-GNN and their fusion.

Run by hand (minutes to an hour on a small CPU box):

    python bench/session_rec.py                       # train SR-GNN, then evaluate everything
    python bench/session_rec.py --checkpoint .cosmo/session/srgnn.pt   # reuse a trained model
    python bench/session_rec.py --checkpoint .cosmo/session/srgnn.pt \
        --resume-epochs 2 --resume-lr 4e-4           # train a saved model further first
    python bench/session_rec.py --tune-stan          # redo the V-STAN search on validation
    python bench/session_rec.py --checkpoint .cosmo/session/srgnn_e5.pt --final-epochs 1
                                  # + one epoch on all training sessions for the test set
    python bench/session_rec.py --train-only --seed 1 [--model pos] --epochs 3 \
        --resume-epochs 2 --resume-lr 1e-3 --final-epochs 1    # one ensemble member
    python bench/session_rec.py --checkpoint a_e5.pt,b_e5.pt --final-checkpoint a_full.pt,b_full.pt
                                  # evaluate members as one ensemble (mean scores)

Protocol (no tuning on test targets): the last 10 % of the training sessions are held out.
SR-GNN trains on the first 90 % (best epoch picked on a sample of the held-out cases); the kNN
configuration (V-SKNN weighting, V-STAN decays), the kNN model used in the fusion, the fusion
weight and the temperature are chosen on the held-out cases with the kNN index built on the
first 90 %. For the test set the kNN index holds all training sessions. All metrics rank the
target among all 43,097 items. Prints a table and writes ``<out>/session_rec.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cosmo.gnn.session.data import (
    SessionCases,
    expand_prefixes,
    load_cases,
    load_sessions,
    split_validation,
)
from cosmo.gnn.session.ensemble import SessionEnsemble, load_session_models
from cosmo.gnn.session.hybrid import HybridRecommender, KNNScorer, search_fusion
from cosmo.gnn.session.pos_srgnn import PosSRGNN
from cosmo.gnn.session.repeat import RepeatMix
from cosmo.gnn.session.sknn import VSKNN
from cosmo.gnn.session.srgnn import SRGNN
from cosmo.gnn.session.stan import STAN
from cosmo.gnn.session.train import (
    SessionTrainConfig,
    evaluate,
    load_session_model,
    train_session_model,
)

KNN_CONFIGS = [("linear", False), ("div", False), ("div", True), ("linear", True)]

#: V-STAN configuration chosen by :func:`tune_stan` on the validation cases (coordinate search).
STAN_CONFIG: dict[str, Any] = {
    "k": 200,
    "sample_size": 500,
    "lambda_prefix": 2.0,
    "lambda_recency": 160_000.0,
    "lambda_position": 8.0,
    "idf": 1.0,
}
STAN_GRID: list[tuple[str, list[Any]]] = [
    ("lambda_prefix", [1.0, 2.0, 4.0, None]),
    ("lambda_position", [1.0, 2.0, 4.0, 8.0, None]),
    ("idf", [0.0, 0.5, 1.0, 1.5]),
    ("lambda_recency", [None, 20_000.0, 40_000.0, 80_000.0, 160_000.0]),
    ("sample_size", [300, 500, 1000, 3000]),
    ("k", [50, 100, 200, 400]),
]
WEIGHTS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
TEMPERATURES = (0.75, 1.0, 1.5)
#: (ρ, λ) of the repeat mixes tried on top of V-STAN (see ``cosmo.gnn.session.repeat``)
REPEAT_MIXES = ((0.1, 1.0), (0.2, 1.0), (0.35, 1.0), (0.35, 2.0), (0.5, 2.0))


def tune_stan(fit: list[list[int]], valid: SessionCases, num_items: int) -> dict[str, Any]:
    """Coordinate search of the V-STAN decays on validation cases (index: ``fit`` only)."""
    cfg = {**STAN_CONFIG, "lambda_recency": None, "lambda_position": 2.0, "idf": 0.0}
    cfg.update(k=100, sample_size=1000)
    for key, values in STAN_GRID:
        scores = {}
        for v in values:
            m = STAN(**{**cfg, key: v}).fit(fit, num_items).evaluate(valid)
            print(f"validation V-STAN {key}={v}: {m}", flush=True)
            scores[v] = m.precision + m.mrr
        cfg[key] = max(values, key=lambda v: scores[v])
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data/diginetica"))
    ap.add_argument("--out", type=Path, default=Path(".cosmo/session"))
    ap.add_argument(
        "--checkpoint",
        type=_paths,
        help="reuse a trained SR-GNN checkpoint (several, comma-separated: their ensemble)",
    )
    ap.add_argument("--resume-epochs", type=int, default=0, help="train the checkpoint further")
    ap.add_argument("--resume-lr", type=float, default=4e-4)
    ap.add_argument(
        "--final-epochs",
        type=int,
        default=0,
        help="train the validation-selected model this many more epochs on all training "
        "sessions (validation included) and use that one on the test set",
    )
    ap.add_argument("--final-lr", type=float, default=1.6e-4)
    ap.add_argument(
        "--final-checkpoint",
        type=_paths,
        help="the model for the test set (e.g. trained further on all training sessions; "
        "several, comma-separated: their ensemble); the fusion is still chosen with "
        "--checkpoint, which never saw the validation sessions",
    )
    ap.add_argument("--seed", type=int, default=0, help="training seed (names the checkpoints)")
    ap.add_argument(
        "--model",
        choices=["srgnn", "pos"],
        default="srgnn",
        help="the neural model trained: SR-GNN, or SR-GNN with reversed-position attention",
    )
    ap.add_argument(
        "--train-only",
        action="store_true",
        help="only train: --epochs, then --resume-epochs, then --final-epochs on all sessions",
    )
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=100, help="embedding size of a new model")
    ap.add_argument("--negatives", type=int, default=4096)
    ap.add_argument("--valid-cases", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--knn-config",
        help="weighting,idf (e.g. div,1) to skip the validation search over kNN configurations",
    )
    ap.add_argument("--tune-stan", action="store_true", help="redo the V-STAN validation search")
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
    if args.train_only:
        model, history = _srgnn(args, fit, valid, num_items)
        if args.resume_epochs and not args.checkpoint:
            args.checkpoint = [args.out / _name(args, "srgnn.pt")]
            model, history = _srgnn(args, fit, valid, num_items)
        if args.final_epochs:
            _train_final(args, model, history, train, num_items)
        return

    # --- kNN: plain V-SKNN, the V-SKNN chosen on validation, V-STAN
    best_cfg, best_val = KNN_CONFIGS[0], -1.0
    if args.knn_config:
        weighting, idf_flag = args.knn_config.split(",")
        best_cfg = (weighting, idf_flag.strip() in {"1", "true", "True"})
    for weighting, idf in [] if args.knn_config else KNN_CONFIGS:
        m = VSKNN(weighting=weighting, idf=idf).fit(fit, num_items).evaluate(valid)
        print(f"validation V-SKNN {weighting} idf={idf}: {m}", flush=True)
        if m.precision + m.mrr > best_val:
            best_cfg, best_val = (weighting, idf), m.precision + m.mrr
    stan_cfg = tune_stan(fit, valid, num_items) if args.tune_stan else dict(STAN_CONFIG)
    print(f"V-STAN configuration: {stan_cfg}", flush=True)
    makers: list[tuple[Callable[[], Any], str]] = [
        (lambda: VSKNN(weighting="linear"), "V-SKNN (plain: linear, k=100, sample 500)"),
        (
            lambda: VSKNN(weighting=best_cfg[0], idf=best_cfg[1]),
            f"V-SKNN ({best_cfg[0]}, idf={best_cfg[1]}; chosen on validation)",
        ),
        (lambda: STAN(**stan_cfg), "V-STAN (decays chosen on validation)"),
    ]
    for make, name in makers:
        t0 = time.perf_counter()
        m = make().fit(train, num_items).evaluate(test)
        rows.append(
            {"model": name, **m.as_dict(), "train_s": 0.0, "eval_s": time.perf_counter() - t0}
        )
        print(rows[-1], flush=True)

    # --- SR-GNN
    model, history = _srgnn(args, fit, valid, num_items)
    train_s = sum(float(h["seconds"]) for h in history)
    per_epoch = train_s / max(len(history), 1)
    t0 = time.perf_counter()
    m = evaluate(model, test)
    rows.append(
        {
            "model": f"{_kind(model)} + NISER norm ({len(history)} epochs in all, sampled softmax)",
            **m.as_dict(),
            "train_s": train_s,
            "s_per_epoch": per_epoch,
            "eval_s": time.perf_counter() - t0,
        }
    )
    print(rows[-1], flush=True)

    # --- fusion: kNN model, weight and temperature chosen on validation (kNN index: fit only)
    def knn_set(sessions: list[list[int]]) -> dict[str, KNNScorer]:
        stan = STAN(**stan_cfg).fit(sessions, num_items)
        out: dict[str, KNNScorer] = {
            "V-SKNN": VSKNN(weighting=best_cfg[0], idf=best_cfg[1]).fit(sessions, num_items),
            "V-STAN": stan,
        }
        for rho, decay in REPEAT_MIXES:
            out[f"V-STAN + repeat (ρ={rho}, λ={decay})"] = RepeatMix(stan, rho, decay)
        return out

    t0 = time.perf_counter()
    (kname, w, tau), wm = search_fusion(model, knn_set(fit), vsub, WEIGHTS, TEMPERATURES)
    ranked = sorted(wm.items(), key=lambda kv: -(kv[1].precision + kv[1].mrr))
    for (n, g, t), gm in ranked[:12]:
        print(f"validation fusion {n} w={g} τ={t}: {gm}", flush=True)
    for n in dict.fromkeys(key[0] for key in wm):
        n_best = max(
            (kv for kv in ranked if kv[0][0] == n), key=lambda kv: kv[1].precision + kv[1].mrr
        )
        print(f"validation best with {n}: {n_best[0][1:]} {n_best[1]}", flush=True)
    print(f"fusion search: {time.perf_counter() - t0:.0f} s; chosen {kname}, w={w}, τ={tau}")
    knn = knn_set(train)[kname]
    final, final_s = model, 0.0
    if args.final_epochs and not args.final_checkpoint:
        args.final_checkpoint = [_train_final(args, model, history, train, num_items)]
    if args.final_checkpoint:
        final = load_session_models(args.final_checkpoint)
        seconds = [_train_seconds(p) for p in args.final_checkpoint]
        final_s = sum(seconds)
        if isinstance(final, SessionEnsemble):
            for p, member, member_s in zip(
                args.final_checkpoint, final.members, seconds, strict=True
            ):
                t0 = time.perf_counter()
                m = evaluate(member, test)  # type: ignore[arg-type]
                rows.append(
                    {"model": f"member {p.name}", **m.as_dict(), "train_s": member_s}
                    | {"eval_s": time.perf_counter() - t0}
                )
                print(rows[-1], flush=True)
        t0 = time.perf_counter()
        m = evaluate(final, test)
        rows.append(
            {
                "model": f"{_kind(final)}, then one more epoch on all training sessions",
                **m.as_dict(),
                "train_s": train_s + final_s,
                "s_per_epoch": per_epoch,
                "eval_s": time.perf_counter() - t0,
            }
        )
        print(rows[-1], flush=True)
    t0 = time.perf_counter()
    m = HybridRecommender(final, knn, w, tau).evaluate(test)
    rows.append(
        {
            "model": f"hybrid: {_kind(final)}"
            f"{' (all sessions)' if args.final_checkpoint else ''} × "
            f"{kname} (w={w}, τ={tau}, chosen on validation)",
            **m.as_dict(),
            "train_s": train_s + final_s,
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


def _paths(text: str) -> list[Path]:
    return [Path(p) for p in text.split(",") if p.strip()]


def _kind(model: Any) -> str:
    """``SR-GNN``, another model's class name, or what an ensemble holds, e.g.
    ``ensemble (mean scores) of 3 SRGNN + 2 PosSRGNN``."""
    if not isinstance(model, SessionEnsemble):
        return "SR-GNN" if type(model) is SRGNN else type(model).__name__
    kinds = [type(m).__name__ for m in model.members]
    held = " + ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
    return f"ensemble (mean scores) of {held}"


def _name(args: argparse.Namespace, name: str) -> str:
    """Checkpoint file name; seeds other than 0 get a ``_s<seed>`` suffix, the
    reversed-position variant ``pos`` instead of ``srgnn``."""
    if args.model == "pos":
        name = name.replace("srgnn", "pos")
    if args.hidden != 100:
        name = name.replace(".pt", f"_h{args.hidden}.pt")
    return name if args.seed == 0 else name.replace(".pt", f"_s{args.seed}.pt")


def _history(path: Path) -> list[dict[str, Any]]:
    payload = torch.load(path, map_location="cpu", weights_only=False)
    history = payload.get("history") or []
    sidecar = path.with_suffix(".history.json")
    if not history and sidecar.is_file():
        history = json.loads(sidecar.read_text())["history"]
    return list(history)


def _train_seconds(path: Path) -> float:
    return sum(float(h["seconds"]) for h in _history(path))


def _config(args: argparse.Namespace, epochs: int, lr: float, seed: int) -> SessionTrainConfig:
    """Training settings of one stage (the first stage's seed is ``--seed``; later stages add
    the epochs done and ``1000 × --seed``, so every stage of every member samples anew)."""
    return SessionTrainConfig(
        epochs=epochs,
        lr=lr,
        num_negatives=args.negatives,
        num_threads=args.threads,
        seed=seed,
        hidden=args.hidden,
    )


def _train_final(
    args: argparse.Namespace,
    model: SRGNN,
    history: list[dict[str, Any]],
    train: list[list[int]],
    num_items: int,
) -> Path:
    """The validation-selected model, trained further on all sessions (validation included)."""
    final = copy.deepcopy(model)
    final.embedding.sparse = True
    cfg = _config(args, args.final_epochs, args.final_lr, len(history) + 100 + 1000 * args.seed)
    out = args.out / _name(args, "srgnn_full.pt")
    train_session_model(
        expand_prefixes(train),
        num_items,
        cfg,
        model=final,
        checkpoint=out,
        on_epoch=lambda log: print(log, flush=True),
    )
    return out


def _srgnn(
    args: argparse.Namespace, fit: list[list[int]], valid: SessionCases, num_items: int
) -> tuple[SRGNN, list[dict[str, Any]]]:
    """Train SR-GNN on ``fit`` (or load ``--checkpoint``, optionally training it further)."""
    history: list[dict[str, Any]] = []
    if args.checkpoint and len(args.checkpoint) > 1:
        if args.resume_epochs:
            raise SystemExit("--resume-epochs trains one checkpoint at a time")
        for p in args.checkpoint:
            history += _history(p)
        return load_session_models(args.checkpoint), history
    if args.checkpoint:
        model = load_session_model(args.checkpoint[0])
        history = _history(args.checkpoint[0])
        if not args.resume_epochs:
            return model, history
        model.embedding.sparse = True
        cfg = _config(args, args.resume_epochs, args.resume_lr, len(history) + 1 + 1000 * args.seed)
        out = args.out / _name(args, f"srgnn_e{len(history) + args.resume_epochs}.pt")
    else:
        model = (
            PosSRGNN(num_items, hidden=args.hidden, sparse=True) if args.model == "pos" else None
        )
        cfg = _config(args, args.epochs, SessionTrainConfig.lr, args.seed)
        out = args.out / _name(args, "srgnn.pt")
    result = train_session_model(
        expand_prefixes(fit),
        num_items,
        cfg,
        valid=valid,
        model=model,
        checkpoint=out,
        on_epoch=lambda log: print(log, flush=True),
    )
    full = history + [asdict(h) for h in result.history]
    if out.is_file():  # the saved checkpoint keeps the whole history, resumed epochs included
        payload = torch.load(out, map_location="cpu", weights_only=False)
        payload["history"] = full
        torch.save(payload, out)
    return result.model, full


def kg_comparison(task1: Path) -> None:
    """SR-GNN vs the KG-enhanced variant on IntentionQA co-buy sessions (items with titles).

    Features: MiniLM embeddings of the title and of the intentions of the item's *training*
    pairs. Split by co-buy pair (80/20); test = ``[A] → B`` and ``[B] → A`` over all items.
    """
    from cosmo.core.embeddings import SentenceTransformerEmbedder
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
