"""Benchmark: COSMO-LM (LoRA-tuned Gemma 3 270M) against the untuned base, on held-out pairs.

Three steps, run by hand (``all`` runs them in order)::

    python bench/cosmo_lm.py build --out /tmp/cosmo-lm/inst.jsonl
    nice -n 15 python bench/cosmo_lm.py tune --data /tmp/cosmo-lm/inst.jsonl \\
        --adapter /tmp/cosmo-lm/adapter --minutes 30 --threads 2
    python bench/cosmo_lm.py eval --data /tmp/cosmo-lm/inst.jsonl --adapter /tmp/cosmo-lm/adapter

Data: IntentionQA task 1 (every line; gold intention = plausible, typical when FolkScope's
typicality >= 0.7, distractors = neither), the bundled annotation sample
(``refine/sample/annotations.jsonl``, same labelling; its labels win for the same
pair and tail), and the ingest sample's search-buy/co-buy tables. Train and held-out
are split by a hash of the co-buy pair (``split_of``), so no held-out pair, and none of
its IntentionQA questions, is ever trained on.

Tuning: a training mix drawn from the train split only (yes/no tasks balanced
50/50 per task), LoRA on attention and MLP projections; the adapter is checkpointed
every ``--checkpoint-every`` steps and when the time budget ends, so a stopped run
still leaves an adapter.

Evaluation (one loaded model, adapter disabled = base, enabled = tuned):

- yes/no tasks: accuracy (score > 0) and ROC AUC of ``logit(" yes") - logit(" no")``
  on a seeded sample of held-out examples per task, with the majority-class rate;
- typicality among gold intentions only: Spearman of the typicality score against
  FolkScope's typicality;
- IntentionQA task 1 on held-out questions: accuracy of picking the option with the
  highest mean log-probability per token after the generation prompt (chance 0.25).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TYPICAL = 0.7  # FolkScope typicality median: the bundled sample's threshold too
MIX = {"plausibility": 900, "typicality": 900, "co_purchase": 500, "search_rel": 104}
MIX_GENERATION = 300


def build(args: argparse.Namespace) -> None:
    from cosmo.core.schema import pair_key
    from cosmo.refine.instruct import (
        build_instructions,
        pairs_from_candidates,
        pairs_from_tables,
        reference_labels,
        write_examples,
    )
    from cosmo.refine.intentionqa import intentionqa_candidates
    from cosmo.refine.labels import candidates_for_labels, read_labels

    iqa = intentionqa_candidates(args.data_dir / "intentionqa" / "task1.jsonl", tails="sentence")
    labels: dict[str, dict[str, bool]] = reference_labels(iqa, typical_threshold=TYPICAL)
    rows = read_labels(args.annotations)
    ann = candidates_for_labels(rows)
    by_text = {(pair_key(c.behaviour, c.source, c.target), c.tail): c for c in iqa}
    replaced = 0
    cands = list(iqa)
    for c, (_, r) in zip(ann, rows.iterrows(), strict=True):
        lab = {q: bool(r[q] >= 0.5) for q in ("plausibility", "typicality")}
        old = by_text.get((pair_key(c.behaviour, c.source, c.target), c.tail))
        if old is not None:  # the same item: the annotation's labels win
            labels[old.candidate_id] = lab
            replaced += 1
        else:
            cands.append(c)
            labels[c.candidate_id] = lab
    sample = REPO / "ingest" / "sample"
    pairs = pairs_from_candidates(cands) + pairs_from_tables(
        sample / "catalogue.csv", sample / "search_buy.csv", sample / "co_buy.csv"
    )
    ex = build_instructions(cands, labels, pairs, seed=args.seed, heldout=args.heldout)
    write_examples(ex, args.out, seed=args.seed, heldout=args.heldout, typical=TYPICAL)
    gold = {c.candidate_id: c.reference_score for c in cands if c.reference_score is not None}
    (args.out.with_suffix(".gold.json")).write_text(json.dumps(gold))
    counts = Counter(f"{e.task}/{e.split}" for e in ex)
    print(f"{len(iqa)} IntentionQA candidates, {len(ann)} annotation rows ({replaced} same item)")
    print(
        f"wrote {len(ex)} examples to {args.out}: "
        + ", ".join(sorted(f"{k} {v}" for k, v in counts.items()))
    )


def _mix(examples: list[Any], seed: int) -> list[Any]:
    """The training mix: train split only, yes/no tasks balanced per task."""
    rng = random.Random(seed)
    train = [e for e in examples if e.split == "train"]
    out = []
    for task, n in MIX.items():
        for ans in ("yes", "no"):
            group = [e for e in train if e.task == task and e.answer == ans]
            out += rng.sample(group, min(n // 2, len(group)))
    gen = [e for e in train if e.task == "generation"]
    out += rng.sample(gen, min(MIX_GENERATION, len(gen)))
    rng.shuffle(out)
    return out


def tune_step(args: argparse.Namespace) -> None:
    import torch

    from cosmo.core.models import resolve_model
    from cosmo.refine.instruct import TuneConfig, read_examples, tune

    torch.set_num_threads(args.threads)
    mix = _mix(read_examples(args.data), args.seed)
    assert all(e.split == "train" for e in mix)
    print(
        f"training mix: {len(mix)} examples, "
        + ", ".join(f"{k} {v}" for k, v in sorted(Counter(e.task for e in mix).items()))
    )
    cfg = TuneConfig(
        r=args.r,
        alpha=2 * args.r,
        target_modules=(
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ),
        lr=args.lr,
        warmup_steps=10,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        max_length=args.max_length,
        seed=args.seed,
        device="cpu",
        checkpoint_every=args.checkpoint_every,
        time_budget_s=args.minutes * 60,
    )
    res = tune(mix, resolve_model(args.model), args.adapter, cfg, resume=args.resume)
    k = max(1, len(res.losses) // 10)
    smooth = [
        sum(res.losses[i : i + k]) / len(res.losses[i : i + k])
        for i in range(0, len(res.losses), k)
    ]
    print(
        f"{res.steps} steps in {res.seconds:.0f} s ({res.seconds_per_step:.1f} s/step); "
        f"loss (mean of {k} steps): " + " ".join(f"{v:.3f}" for v in smooth)
    )


def _iqa_questions(path: Path, heldout: float, seed: int) -> list[tuple[str, list[str], int]]:
    """Held-out IntentionQA task-1 questions: (context, options as tails, gold index)."""
    import html

    from cosmo.core.schema import pair_key
    from cosmo.refine.instruct import split_of

    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        a, b = str(row["item_a_id"]), str(row["item_b_id"])
        if split_of(pair_key("co_buy", a, b), heldout, seed) != "heldout":
            continue
        ctx = (
            f'A customer bought "{html.unescape(row["item_a_name"])}" and '
            f'"{html.unescape(row["item_b_name"])}" together.'
        )
        keys = sorted(row["options"])
        opts = [html.unescape(row["options"][k]).strip() for k in keys]
        out.append((ctx, opts, keys.index(row["gold_ind"])))
    return out


def _boot(base: list[float], tuned: list[float], gold: list[bool], seed: int) -> dict[str, Any]:
    """Accuracy and AUC of base and tuned with standard errors, and the paired difference
    (tuned - base) with its standard error, from 1,000 paired bootstrap resamples."""
    import numpy as np

    from cosmo.refine.instruct.evaluate import _metrics

    b, t, g = np.asarray(base), np.asarray(tuned), np.asarray(gold)
    rng = np.random.default_rng(seed)
    point = {"base": _metrics(b, g), "tuned": _metrics(t, g)}
    draws: dict[str, list[tuple[float, float]]] = {"base": [], "tuned": []}
    for _ in range(1000):
        i = rng.integers(0, len(g), len(g))
        if len(set(g[i].tolist())) < 2:
            continue
        draws["base"].append(_metrics(b[i], g[i]))  # type: ignore[arg-type]
        draws["tuned"].append(_metrics(t[i], g[i]))  # type: ignore[arg-type]
    out: dict[str, Any] = {}
    for k, name in ((0, "accuracy"), (1, "AUC")):
        bb = np.array([d[k] for d in draws["base"]], dtype=float)
        tt = np.array([d[k] for d in draws["tuned"]], dtype=float)
        out[name] = (
            point["base"][k],
            bb.std(),
            point["tuned"][k],
            tt.std(),
            (point["tuned"][k] or 0) - (point["base"][k] or 0),
            (tt - bb).std(),
        )
    return out


def _cells(v: tuple[float, ...]) -> list[str]:
    pb, sb, pt, st, d, sd = v
    return [f"{pb:.3f} ± {sb:.3f}", f"{pt:.3f} ± {st:.3f}", f"{d:+.3f} ± {sd:.3f}"]


def evaluate(args: argparse.Namespace) -> None:
    import numpy as np
    import torch
    from rich.console import Console
    from rich.table import Table
    from scipy.stats import spearmanr

    from cosmo.refine.instruct import (
        TEMPLATES,
        YES_NO_TASKS,
        answer_logprobs,
        load_tuned,
        read_examples,
        yes_no_scores,
    )

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    examples = read_examples(args.data)
    gold_typ: dict[str, float] = json.loads(args.data.with_suffix(".gold.json").read_text())
    info = json.loads((args.adapter / "cosmo-instruct.json").read_text())
    tok, model = load_tuned(args.adapter, device="cpu")
    rng = random.Random(args.seed)
    table = Table(title=f"COSMO-LM on held-out pairs: base vs LoRA-tuned ({info['steps']} steps)")
    for c in ("measure", "n", "base ± SE", "tuned ± SE", "tuned − base ± SE (paired)", "note"):
        table.add_column(c)
    for task in YES_NO_TASKS:
        ex = [e for e in examples if e.split == "heldout" and e.task == task]
        ex = rng.sample(ex, min(args.limit, len(ex)))
        if not ex:
            continue
        gold = [e.answer == "yes" for e in ex]
        with model.disable_adapter():
            base = yes_no_scores(tok, model, ex)
        tuned = yes_no_scores(tok, model, ex)
        stats = _boot(base, tuned, gold, args.seed)
        major = max(np.mean(gold), 1 - np.mean(gold))
        table.add_row(
            f"{task} accuracy", str(len(ex)), *_cells(stats["accuracy"]), f"majority {major:.3f}"
        )
        table.add_row(f"{task} AUC", str(len(ex)), *_cells(stats["AUC"]), "")
        if task == "typicality":
            idx = [i for i, e in enumerate(ex) if e.item_id in gold_typ]
            y = [gold_typ[ex[i].item_id or ""] for i in idx]
            rb = spearmanr([base[i] for i in idx], y).statistic
            rt = spearmanr([tuned[i] for i in idx], y).statistic
            table.add_row(
                "typicality Spearman, gold only",
                str(len(idx)),
                f"{rb:.3f}",
                f"{rt:.3f}",
                f"{rt - rb:+.3f}",
                "vs FolkScope typicality",
            )
    qs = _iqa_questions(args.data_dir / "intentionqa" / "task1.jsonl", args.heldout, args.seed)
    qs = rng.sample(qs, min(args.questions, len(qs)))
    prompts = [TEMPLATES["generation"][0].format(context=c) for c, opts, _ in qs for _ in opts]
    answers = [o for _, opts, _ in qs for o in opts]
    hits: list[list[float]] = []
    for adapter_on in (False, True):
        if adapter_on:
            lps = answer_logprobs(tok, model, prompts, answers)
        else:
            with model.disable_adapter():
                lps = answer_logprobs(tok, model, prompts, answers)
        mean = [s / n for s, n in lps]
        k, right = 0, []
        for _, opts, g in qs:
            right.append(float(np.argmax(mean[k : k + len(opts)]) == g))
            k += len(opts)
        hits.append(right)
    hb, ht = np.array(hits[0]), np.array(hits[1])
    n = max(len(qs), 1)
    table.add_row(
        "IntentionQA task 1 accuracy",
        str(len(qs)),
        f"{hb.mean():.3f} ± {hb.std() / np.sqrt(n):.3f}",
        f"{ht.mean():.3f} ± {ht.std() / np.sqrt(n):.3f}",
        f"{(ht - hb).mean():+.3f} ± {(ht - hb).std() / np.sqrt(n):.3f}",
        "chance 0.25; mean log p per token",
    )
    Console().print(table)
    print(
        f"adapter: {info['steps']} steps, batch {info['config']['batch_size']}, lr {info['config']['lr']}, "
        f"r {info['config']['r']}, {info['train_examples']} training examples, {info['seconds']:.0f} s tuning; "
        f"evaluation {time.perf_counter() - t0:.0f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("step", choices=("build", "tune", "eval", "all"))
    work = Path(tempfile.gettempdir()) / "cosmo-lm"
    ap.add_argument("--out", "--data", dest="data", type=Path, default=work / "inst.jsonl")
    ap.add_argument("--adapter", type=Path, default=work / "adapter")
    ap.add_argument("--data-dir", type=Path, default=DATA, help="the shared data folder")
    ap.add_argument(
        "--annotations", type=Path, default=REPO / "refine" / "sample" / "annotations.jsonl"
    )
    ap.add_argument("--model", default="gemma3-270m")
    ap.add_argument("--heldout", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=30.0, help="tuning time budget")
    ap.add_argument("--max-steps", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--r", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=160, help="tokens per example")
    ap.add_argument("--checkpoint-every", type=int, default=25)
    ap.add_argument("--resume", action="store_true", help="continue the checkpointed run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=400, help="held-out examples per yes/no task")
    ap.add_argument("--questions", type=int, default=200, help="held-out IntentionQA questions")
    args = ap.parse_args()
    args.out = args.data
    if args.step in ("build", "all"):
        build(args)
    if args.step in ("tune", "all"):
        tune_step(args)
    if args.step in ("eval", "all"):
        evaluate(args)


if __name__ == "__main__":
    main()
