"""Benchmark: batched perplexity scoring against the naive one-sentence-at-a-time loop.

Run by hand (numbers depend on the machine and its load; both methods run in the same
process, on the same sentences, so their ratio is what to compare)::

    python bench/refine.py                    # Gemma 3 270M, batch 32, 256 sentences
    python bench/refine.py --model gpt2 --n 128 --naive-n 64

The two methods run in interleaved rounds (``--rounds``), so a change in the machine's
load during the run affects both alike.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="gemma3-270m")
    ap.add_argument("--n", type=int, default=256, help="sentences for the batched scorer")
    ap.add_argument("--naive-n", type=int, default=128, help="sentences for the naive loop")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=4, help="interleaved batched/naive rounds")
    ap.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
    args = ap.parse_args()

    import numpy as np
    import torch
    from rich.console import Console
    from rich.table import Table

    from cosmo.refine.intentionqa import intentionqa_candidates
    from cosmo.refine.perplexity import PerplexityScorer, naive_perplexities
    from cosmo.refine.text import tail_sentence

    cands = intentionqa_candidates(args.data / "intentionqa" / "task1.jsonl")
    rng = np.random.default_rng(0)
    pick = rng.choice(len(cands), size=min(args.n, len(cands)), replace=False)
    texts = [tail_sentence(cands[i]) for i in pick]

    scorer = PerplexityScorer(args.model, batch_size=args.batch_size)
    t = time.perf_counter()
    model, tok = scorer.load()
    load_s = time.perf_counter() - t
    scorer.score(texts[: args.batch_size])  # warm-up
    naive_perplexities(model, tok, texts[:4])

    # interleaved rounds, so a change in the machine's load hits both methods alike
    n_naive = min(args.naive_n, len(texts))
    rounds = max(1, args.rounds)
    batched_parts, naive_parts = [], []
    batched_s = naive_s = 0.0
    for r in range(rounds):
        b = texts[r * len(texts) // rounds : (r + 1) * len(texts) // rounds]
        nv = texts[r * n_naive // rounds : (r + 1) * n_naive // rounds]
        t = time.perf_counter()
        batched_parts.append(scorer.score(b))
        batched_s += time.perf_counter() - t
        t = time.perf_counter()
        naive_parts.append(naive_perplexities(model, tok, nv))
        naive_s += time.perf_counter() - t
    batched, naive = np.concatenate(batched_parts), np.concatenate(naive_parts)
    rel = np.abs(batched[:n_naive] - naive) / naive
    b_rate = len(texts) / batched_s
    n_rate = n_naive / naive_s
    table = Table(
        title=f"Perplexity scoring, {args.model}, torch threads={torch.get_num_threads()}"
    )
    for col in ("method", "sentences", "seconds", "sentences/s", "speed-up"):
        table.add_column(col, justify="right")
    table.add_row(
        "naive HF loop (1 at a time)", str(n_naive), f"{naive_s:.2f}", f"{n_rate:.1f}", "1.0×"
    )
    table.add_row(
        f"batched (bs={args.batch_size}, length-sorted)",
        str(len(texts)),
        f"{batched_s:.2f}",
        f"{b_rate:.1f}",
        f"{b_rate / n_rate:.1f}×",
    )
    console = Console()
    console.print(table)
    console.print(
        f"model load {load_s:.1f} s; batched vs naive perplexity: median relative difference "
        f"{np.median(rel):.2e}, max {rel.max():.2e}"
    )
    console.print(_profile(scorer, texts[: args.batch_size]))


def _profile(scorer: Any, texts: list[str]) -> str:
    """Where one batch's time goes: decoder, output head at real positions, full head."""
    import time

    import torch

    model, tok = scorer.load()
    enc = scorer._encode(texts)
    width = max(len(e) for e in enc)
    ids = torch.tensor([e + [tok.pad_token_id] * (width - len(e)) for e in enc])
    mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in enc])
    with torch.inference_mode():
        t = time.perf_counter()
        hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
        dec = time.perf_counter() - t
        real = hidden[:, :-1][mask[:, 1:].bool()]
        t = time.perf_counter()
        torch.logsumexp(model.get_output_embeddings()(real), -1)
        head = time.perf_counter() - t
        t = time.perf_counter()
        torch.log_softmax(model.get_output_embeddings()(hidden), -1)
        full = time.perf_counter() - t
    return (
        f"one batch of {len(texts)} ({int(mask.sum())} tokens, {len(real)} scored positions): "
        f"decoder {dec:.2f} s, output head + logsumexp on scored positions {head:.2f} s "
        f"(on every position with log_softmax, as before: {full:.2f} s)"
    )


if __name__ == "__main__":
    main()
