"""Evaluating COSMO-LM: tuned against untuned on held-out yes/no examples.

Each held-out example of a yes/no task (plausibility, typicality, co-purchase, search
relevance) is scored by the next-token logits after the prompt: ``score = logit(" yes") -
logit(" no")``. We report accuracy (score > 0 means yes) and ROC AUC per task, for the base
model (adapter disabled) and the tuned one, from one loaded model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosmo.refine.instruct.data import InstructExample
from cosmo.refine.instruct.tune import logits_at

__all__ = ["YES_NO_TASKS", "EvalResult", "answer_logprobs", "evaluate_adapter", "yes_no_scores"]

YES_NO_TASKS: tuple[str, ...] = ("plausibility", "typicality", "co_purchase", "search_rel")


@dataclass
class EvalResult:
    task: str
    n: int
    base_accuracy: float
    tuned_accuracy: float
    base_auc: float | None
    tuned_auc: float | None

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def yes_no_scores(
    tok: Any, model: Any, examples: Sequence[InstructExample], batch_size: int = 16
) -> list[float]:
    """``logit(" yes") - logit(" no")`` at the end of each prompt (right padding)."""
    import torch

    yes = tok(" yes", add_special_tokens=False)["input_ids"][0]
    no = tok(" no", add_special_tokens=False)["input_ids"][0]
    scores: list[float] = []
    pad = tok.pad_token_id
    for i in range(0, len(examples), batch_size):
        chunk = [
            tok(e.prompt, add_special_tokens=True)["input_ids"]
            for e in examples[i : i + batch_size]
        ]
        width = max(len(c) for c in chunk)
        ids = torch.tensor([c + [pad] * (width - len(c)) for c in chunk], device=model.device)
        mask = torch.tensor(
            [[1] * len(c) + [0] * (width - len(c)) for c in chunk], device=model.device
        )
        last = torch.tensor([len(c) - 1 for c in chunk], device=model.device)
        with torch.no_grad():
            rows = logits_at(model, ids, mask, torch.arange(len(chunk), device=model.device), last)
        scores += (rows[:, yes] - rows[:, no]).tolist()
    return scores


def answer_logprobs(
    tok: Any,
    model: Any,
    prompts: Sequence[str],
    answers: Sequence[str],
    batch_size: int = 16,
) -> list[tuple[float, int]]:
    """``(sum of log p, token count)`` of each answer (``" " + answer``) after its prompt.

    Used to pick among options (IntentionQA task 1): the option with the highest mean
    log-probability per token wins. Right padding; the output head runs only at the
    answer positions.
    """
    import torch

    out: list[tuple[float, int]] = []
    pad = tok.pad_token_id
    dev = model.device
    for i in range(0, len(prompts), batch_size):
        seqs, spans = [], []
        for p, a in zip(prompts[i : i + batch_size], answers[i : i + batch_size], strict=True):
            pi = tok(p, add_special_tokens=True)["input_ids"]
            ai = tok(" " + a, add_special_tokens=False)["input_ids"]
            seqs.append(pi + ai)
            spans.append((len(pi), len(ai)))
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [pad] * (width - len(s)) for s in seqs], device=dev)
        mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=dev)
        rows = torch.tensor([r for r, (_, n) in enumerate(spans) for _ in range(n)], device=dev)
        cols = torch.tensor([s - 1 + j for s, n in spans for j in range(n)], device=dev)
        with torch.no_grad():
            logits = logits_at(model, ids, mask, rows, cols)
        lp = torch.log_softmax(logits, dim=-1).gather(1, ids[rows, cols + 1][:, None])[:, 0]
        k = 0
        for _, n in spans:
            out.append((float(lp[k : k + n].sum()), n))
            k += n
    return out


def _metrics(scores: Sequence[float], gold: Sequence[bool]) -> tuple[float, float | None]:
    from sklearn.metrics import roc_auc_score

    acc = sum((s > 0) == g for s, g in zip(scores, gold, strict=True)) / max(len(gold), 1)
    auc = float(roc_auc_score(gold, scores)) if len(set(gold)) == 2 else None
    return float(acc), auc


def evaluate_adapter(
    examples: Sequence[InstructExample],
    adapter_dir: Path,
    base_model: str | None = None,
    *,
    tasks: Sequence[str] = YES_NO_TASKS,
    limit_per_task: int | None = None,
    device: str | None = None,
    batch_size: int = 16,
) -> list[EvalResult]:
    """Tuned vs untuned on the held-out examples of each yes/no task."""
    from cosmo.refine.instruct.serve import load_tuned

    tok, model = load_tuned(adapter_dir, base_model, device=device)
    out = []
    for task in tasks:
        ex = [
            e
            for e in examples
            if e.split == "heldout" and e.task == task and e.answer in ("yes", "no")
        ]
        ex = ex[:limit_per_task] if limit_per_task else ex
        if not ex:
            continue
        gold = [e.answer == "yes" for e in ex]
        with model.disable_adapter():
            base = yes_no_scores(tok, model, ex, batch_size)
        tuned = yes_no_scores(tok, model, ex, batch_size)
        (ba, bauc), (ta, tauc) = _metrics(base, gold), _metrics(tuned, gold)
        out.append(EvalResult(task, len(ex), ba, ta, bauc, tauc))
    return out
