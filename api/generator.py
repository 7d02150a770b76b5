"""A small transformers :class:`~cosmo.generation.base.TextGenerator` for the explainer.

The worker and the refresh job accept any ``TextGenerator``; this one is what the CLI
uses by default: greedy or sampled decoding on CPU, batched, the model loaded on first
use. Model names may be packaged aliases (``gemma3-270m``), Hugging Face names or folders.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cosmo.core.errors import ModelError
from cosmo.generation.base import Generation, GenerationParams

__all__ = ["TransformersGenerator"]


class TransformersGenerator:
    """Causal-LM completion with ``transformers`` (loaded lazily, thread-safe)."""

    def __init__(self, model: str, *, cache_dir: Path | None = None, batch_size: int = 8) -> None:
        self.model_name = model
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model: Any = None
        self._tok: Any = None

    def load(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from cosmo.core.models import resolve_model

            path = resolve_model(self.model_name, self.cache_dir)
            self._tok = AutoTokenizer.from_pretrained(path)
            self._tok.padding_side = "left"
            if self._tok.pad_token is None:
                self._tok.pad_token = self._tok.eos_token
            self._model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
        except ModelError:
            raise
        except Exception as e:
            raise ModelError(f"could not load model {self.model_name!r}: {e}") from e

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        import torch

        with self._lock:
            self.load()
            torch.manual_seed(params.seed)
            out: list[Generation] = []
            for i in range(0, len(prompts), self.batch_size):
                chunk = list(prompts[i : i + self.batch_size])
                enc = self._tok(chunk, return_tensors="pt", padding=True)
                sample = params.temperature > 0
                with torch.no_grad():
                    ids = self._model.generate(
                        **enc,
                        max_new_tokens=params.max_new_tokens,
                        do_sample=sample,
                        temperature=params.temperature if sample else None,
                        top_p=params.top_p if sample else None,
                        repetition_penalty=params.repetition_penalty,
                        pad_token_id=self._tok.pad_token_id,
                    )
                n_in = enc["input_ids"].shape[1]
                for row, mask in zip(ids, enc["attention_mask"], strict=True):
                    new = row[n_in:]
                    text = self._tok.decode(new, skip_special_tokens=True)
                    out.append(
                        Generation(
                            text, int(mask.sum()), int((new != self._tok.pad_token_id).sum())
                        )
                    )
            return out
