"""Backend (a): Hugging Face transformers, on CPU by default.

``TransformersGenerator("gemma3-270m")`` uses the packaged Gemma 3 270M (converted once
to safetensors by :func:`cosmo.core.models.gemma_model_dir`); any Hugging Face model name or
local folder works too. Nothing is loaded until the first :meth:`generate` (or an explicit
:meth:`load`). Prompts are generated in batches, left-padded, with sampling, a repetition
penalty and stop strings; a seed makes sampling reproducible for the same batch. One
instance may be shared by threads (the API's explanation worker and its refresh job): a
lock lets one batch run at a time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cosmo.core.errors import ModelError
from cosmo.core.models import GEMMA_DEFAULT, resolve_model
from cosmo.generation.base import Generation, GenerationParams

__all__ = ["TransformersGenerator"]


class TransformersGenerator:
    """A :class:`~cosmo.generation.base.TextGenerator` on transformers."""

    def __init__(
        self,
        model: str = GEMMA_DEFAULT,
        *,
        cache_dir: Path | None = None,
        device: str = "cpu",
        batch_size: int = 8,
        dtype: str = "float32",
        threads: int | None = None,
    ) -> None:
        self.model_name = model
        self.cache_dir = cache_dir
        self.device = device
        self.batch_size = max(1, batch_size)
        self.dtype = dtype
        self.threads = threads
        self._model: Any = None
        self._tok: Any = None
        self._lock = threading.Lock()
        self.stats: dict[str, float] = {"prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0}

    def load(self) -> TransformersGenerator:
        """Load the tokenizer and model now (otherwise the first generate does)."""
        if self._model is not None:
            return self
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            if self.threads:
                torch.set_num_threads(self.threads)
            path = resolve_model(self.model_name, self.cache_dir)
            tok = AutoTokenizer.from_pretrained(path)
            tok.padding_side = "left"
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, self.dtype))
            model.to(self.device).eval()  # type: ignore[arg-type]
        except ModelError:
            raise
        except Exception as e:
            raise ModelError(
                f"could not load model {self.model_name!r} on {self.device}: {e}. "
                "Give a local folder or a Hugging Face name that is in the local cache."
            ) from e
        self._tok, self._model = tok, model
        return self

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._tok(text, add_special_tokens=False)["input_ids"])

    def _stop_cut(self, text: str, stop: Sequence[str]) -> tuple[str, bool]:
        cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=-1)
        return (text[:cut], True) if cut >= 0 else (text, False)

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """One completion per prompt, in order, generated ``batch_size`` prompts at a time."""
        with self._lock:
            self.load()
            t0 = time.perf_counter()
            out = self._generate(prompts, params)
            self.stats["prompt_tokens"] += sum(g.prompt_tokens for g in out)
            self.stats["completion_tokens"] += sum(g.completion_tokens for g in out)
            self.stats["seconds"] += time.perf_counter() - t0
            return out

    def _generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        import torch

        results: dict[int, Generation] = {}
        # Batch prompts of similar length together: less left padding, less wasted compute.
        lengths = [
            len(ids) for ids in self._tok(list(prompts), add_special_tokens=True)["input_ids"]
        ]
        order = sorted(range(len(prompts)), key=lambda i: (lengths[i], i))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = self._tok([prompts[i] for i in idx], return_tensors="pt", padding=True)
            torch.manual_seed(params.seed + start)
            try:
                with torch.inference_mode():
                    ids = self._model.generate(**enc.to(self.device), **self._kwargs(params))
            except Exception as e:
                raise ModelError(f"generation failed with {self.model_name!r}: {e}") from e
            width = enc["input_ids"].shape[1]
            for i, row, mask in zip(idx, ids, enc["attention_mask"], strict=True):
                results[i] = self._completion(row[width:].tolist(), int(mask.sum()), params)
        return [results[i] for i in range(len(prompts))]

    def _kwargs(self, params: GenerationParams) -> dict[str, Any]:
        sample = params.temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": sample,
            "repetition_penalty": params.repetition_penalty,
            "pad_token_id": self._tok.pad_token_id,
        }
        if sample:
            kwargs.update(temperature=params.temperature, top_p=params.top_p)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self._tok)
        return kwargs

    def _completion(
        self, new: list[int], prompt_tokens: int, params: GenerationParams
    ) -> Generation:
        eos = {self._tok.eos_token_id, self._tok.pad_token_id}
        n = len(new)
        while n and new[n - 1] in eos:
            n -= 1
        text = self._tok.decode(new[:n], skip_special_tokens=True)
        text, stopped = self._stop_cut(text, params.stop)
        ended = n < len(new) or stopped
        return Generation(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=n,
            finish_reason="stop" if ended else "length",
        )
