"""Perplexity with a causal language model, in padded, length-sorted batches.

The default model is the packaged Gemma 3 270M (``gemma3-270m``); any Hugging Face causal
LM name or folder works (``gpt2``, ...). Fluent sentences score low, scrambled ones high::

    scorer = PerplexityScorer()            # nothing loaded yet
    scorer.score(["It is used for camping.", "camping for used is It."])
    # array([  ~30., ~3000.])

:func:`naive_perplexities` is the one-sentence-at-a-time loop, kept for the benchmark.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cosmo.core.errors import ModelError
from cosmo.core.models import LoadsOnUse
from cosmo.core.records import Candidate
from cosmo.refine.stage import Dropped, StageReport, StageResult
from cosmo.refine.text import tail_sentence

__all__ = ["PerplexityFilter", "PerplexityScorer", "naive_perplexities"]


class PerplexityScorer(LoadsOnUse):
    """Scores texts by perplexity under a causal LM. The model loads on first use.

    Args:
        model: ``"gemma3-270m"`` (packaged default), a hub name or a local folder.
        batch_size: sentences per forward pass.
        max_tokens: longer sentences are cut to this many tokens.
        device: ``"cpu"`` or ``"cuda"``.
        cache_dir: where the packaged Gemma is converted (default: the state folder).
        head_chunk: token positions per output-head matmul (bounds the logits' memory).
    """

    _loaded = ("_model", "_tok")

    def __init__(
        self,
        model: str = "gemma3-270m",
        *,
        batch_size: int = 32,
        max_tokens: int = 64,
        device: str = "cpu",
        cache_dir: Path | None = None,
        head_chunk: int = 256,
    ) -> None:
        self.model_name = model
        self.head_chunk = head_chunk
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.device = device
        self.cache_dir = cache_dir
        self._model: Any = None
        self._tok: Any = None

    def load(self) -> tuple[Any, Any]:
        """Load (once) and return ``(model, tokenizer)``."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from cosmo.core.models import resolve_model

            path = resolve_model(self.model_name, self.cache_dir)
            try:
                tok = AutoTokenizer.from_pretrained(path)
                model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
            except Exception as e:
                raise ModelError(
                    f"Could not load the causal LM {self.model_name!r} ({path}): {e}. "
                    "Name a local folder or a model in the Hugging Face cache."
                ) from e
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            model = model.to(self.device)  # type: ignore[arg-type]
            model.eval()
            self._model, self._tok = model, tok
        return self._model, self._tok

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        _, tok = self.load()
        ids: list[list[int]] = tok(list(texts), add_special_tokens=True)["input_ids"]
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        out = []
        for seq in ids:
            if bos is not None and (not seq or seq[0] != bos):
                seq = [bos, *seq]  # so the first word is predicted too
            out.append(seq[: self.max_tokens])
        return out

    def score(
        self, texts: Sequence[str], *, progress: Callable[[int], object] | None = None
    ) -> np.ndarray:
        """Perplexity of each text (same order). ``progress(n)`` is called per batch."""
        import torch

        if len(texts) == 0:
            return np.zeros(0, dtype=np.float64)
        model, tok = self.load()
        encoded = self._encode(texts)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = np.full(len(encoded), np.inf, dtype=np.float64)
        pad = int(tok.pad_token_id)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                width = max(len(encoded[i]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    seq = encoded[i]
                    ids[row, : len(seq)] = torch.tensor(seq)
                    mask[row, : len(seq)] = 1
                ids, mask = ids.to(self.device), mask.to(self.device)
                nll_sum, count = _token_nll(model, ids, mask, self.head_chunk)
                mean = nll_sum / count.clamp(min=1)
                out[idx] = torch.exp(mean).cpu().double().numpy()
                if progress is not None:
                    progress(len(idx))
        return out


def _token_nll(model: Any, ids: Any, mask: Any, chunk: int) -> tuple[Any, Any]:
    """Sum of next-token negative log-likelihoods and scored-token count per row.

    The decoder runs on the padded batch; the output head (262k rows for Gemma: most of
    the compute) then runs only at the positions that predict a real token — no padding,
    no last position — in chunks of ``chunk`` positions, and the log-softmax is reduced
    to ``logsumexp - target logit`` without keeping a log-probability tensor. Models
    without ``get_decoder``/``get_output_embeddings`` take the full forward pass.
    """
    import torch

    tmask = mask[:, 1:].bool()
    rows, cols = torch.nonzero(tmask, as_tuple=True)
    target = ids[rows, cols + 1]
    try:
        decoder, head = model.get_decoder(), model.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        decoder = head = None
    nll = torch.empty(len(rows), dtype=torch.float32, device=ids.device)
    if decoder is None or head is None:
        logits = model(input_ids=ids, attention_mask=mask).logits[rows, cols].float()
        nll[:] = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    else:
        hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state[rows, cols]
        cap = getattr(model.config, "final_logit_softcapping", None)
        for s in range(0, len(rows), max(chunk, 1)):
            logits = head(hidden[s : s + chunk]).float()
            if cap:
                logits = torch.tanh(logits / cap) * cap
            tgt = logits.gather(1, target[s : s + chunk, None])[:, 0]
            nll[s : s + chunk] = torch.logsumexp(logits, dim=-1) - tgt
    sums = torch.zeros(ids.shape[0], dtype=torch.float32, device=ids.device)
    sums.index_add_(0, rows, nll)
    return sums, tmask.sum(1)


def naive_perplexities(model: Any, tokenizer: Any, texts: Sequence[str]) -> np.ndarray:
    """The plain Hugging Face loop: one sentence per forward pass (for benchmarks)."""
    import torch

    out = []
    for text in texts:
        enc = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            loss = model(**enc, labels=enc["input_ids"]).loss
        out.append(math.exp(float(loss)))
    return np.asarray(out)


class PerplexityFilter:
    """Drops candidates whose tail, read as a sentence, is less fluent than a threshold."""

    name = "perplexity"
    per_candidate = True  # each candidate's fate depends on it alone: mappable

    def __init__(self, scorer: PerplexityScorer, *, max_perplexity: float = 1000.0) -> None:
        self.scorer = scorer
        self.max_perplexity = max_perplexity

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        t0 = time.perf_counter()
        from tqdm.auto import tqdm

        texts = [tail_sentence(c) for c in candidates]
        with tqdm(total=len(texts), desc="perplexity", unit="sent", leave=False) as bar:
            ppl = self.scorer.score(texts, progress=bar.update)
        kept: list[Candidate] = []
        dropped: list[Dropped] = []
        scores: dict[str, dict[str, float]] = {}
        for c, p in zip(candidates, ppl, strict=True):
            scores[c.candidate_id] = {"perplexity": float(p)}
            if not math.isfinite(p) or p > self.max_perplexity:
                dropped.append(
                    Dropped(c, f"perplexity: {p:.0f} > {self.max_perplexity:g}", float(p))
                )
            else:
                kept.append(c)
        report = StageReport(
            self.name,
            len(candidates),
            len(kept),
            {"model": self.scorer.model_name, "max_perplexity": self.max_perplexity},
            dropped,
            time.perf_counter() - t0,
        )
        return StageResult(kept, report, scores)
