"""Serving a tuned COSMO-LM adapter through the transformers backend.

:func:`load_tuned` loads the base model and the LoRA adapter (optionally merged for
speed); :class:`LoRATransformersGenerator` is a :class:`~cosmo.generation.base.TextGenerator`
over it, loaded lazily on first use. For vLLM, serve the base model with the adapter as a
LoRA module (see the README)::

    vllm serve BASE --enable-lora --lora-modules cosmo-lm=ADAPTER_DIR --max-lora-rank 16

and point cosmo's OpenAI-compatible backend at it with the model name ``cosmo-lm``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cosmo.core.errors import ModelError
from cosmo.core.models import resolve_model
from cosmo.generation.hf import TransformersGenerator
from cosmo.refine.instruct.tune import ADAPTER_INFO, load_base

__all__ = [
    "PACKAGED_ADAPTER",
    "LoRATransformersGenerator",
    "adapter_base_model",
    "adapter_generator",
    "load_tuned",
    "packaged_adapter_dir",
]

PACKAGED_ADAPTER = "cosmo-lm"
"""Name of the COSMO-LM adapter that ships with cosmo (LoRA on Gemma 3 270M); see
``refine/instruct/cosmo_lm/README.md`` for how it was tuned and what it scores."""


def packaged_adapter_dir() -> Path:
    """Folder of the packaged COSMO-LM adapter (inside the installed package)."""
    d = Path(__file__).resolve().parent / "cosmo_lm"
    if not (d / "adapter_model.safetensors").is_file():
        raise ModelError(f"the packaged COSMO-LM adapter is missing from {d}; reinstall cosmo")
    return d


def adapter_base_model(adapter_dir: Path) -> str:
    """The base model an adapter was tuned from (from ``cosmo-instruct.json`` or peft's config)."""
    adapter_dir = Path(adapter_dir)
    for name, key in (
        (ADAPTER_INFO, "base_model"),
        ("adapter_config.json", "base_model_name_or_path"),
    ):
        p = adapter_dir / name
        if p.exists():
            value = json.loads(p.read_text()).get(key)
            if value:
                return str(value)
    raise ModelError(
        f"{adapter_dir} is not a LoRA adapter folder (no {ADAPTER_INFO} or adapter_config.json)"
    )


def load_tuned(
    adapter_dir: Path,
    base_model: str | None = None,
    *,
    device: str | None = None,
    merge: bool = False,
    cache_dir: Path | None = None,
) -> tuple[Any, Any]:
    """Tokenizer and the base model with the adapter on it (a ``PeftModel``, or merged).

    The base model defaults to the one the adapter records; a cosmo alias there resolves to
    the local model folder under ``cache_dir``."""
    import torch
    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    base = resolve_model(base_model or adapter_base_model(adapter_dir), cache_dir)
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tok, model = load_base(base, dev, bf16=dev.startswith("cuda"))
    try:
        model = PeftModel.from_pretrained(model, str(adapter_dir))
    except Exception as e:
        raise ModelError(f"cannot load the LoRA adapter in {adapter_dir}: {e}") from e
    if merge:
        model = model.merge_and_unload()
    model.eval()
    return tok, model


class LoRATransformersGenerator(TransformersGenerator):
    """The transformers backend with a LoRA adapter merged into its base model.

    Everything but loading is :class:`~cosmo.generation.hf.TransformersGenerator`'s
    (batched, left-padded generation with stop strings). Nothing loads before the first
    :meth:`generate` or an explicit :meth:`load`.
    """

    def __init__(
        self,
        adapter_dir: Path,
        base_model: str | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 8,
    ) -> None:
        super().__init__(base_model or "", device=device, batch_size=batch_size)
        self.adapter_dir = Path(adapter_dir)
        self.base_model = base_model
        self.model_name = f"cosmo-lm:{_adapter_name(self.adapter_dir)}"
        self._model: Any = None
        self._tok: Any = None

    def load(self) -> LoRATransformersGenerator:
        if self._model is None:
            tok, model = load_tuned(
                self.adapter_dir, self.base_model, device=self.device, merge=True
            )
            tok.padding_side = "left"
            self._tok, self._model = tok, model
        return self


def _adapter_name(adapter_dir: Path) -> str:
    """The adapter's recorded name (``cosmo-instruct.json``), else its folder's name."""
    info = adapter_dir / ADAPTER_INFO
    if info.is_file():
        name = json.loads(info.read_text()).get("name")
        if name:
            return str(name)
    return adapter_dir.name


def adapter_generator(
    adapter_dir: Path, cache_dir: Path | None = None, *, device: str = "cpu", batch_size: int = 8
) -> LoRATransformersGenerator:
    """The generator of a tuned adapter folder, checked now (loads nothing yet).

    The base model is the one the adapter was tuned from; a cosmo alias recorded there
    (``gemma3-270m``) resolves to the local model folder under ``cache_dir``. Raises
    :class:`~cosmo.core.errors.ModelError` when the folder holds no adapter.
    """
    d = Path(adapter_dir)
    if not (d / "adapter_config.json").is_file():
        raise ModelError(f"{d} is not a LoRA adapter folder (no adapter_config.json)")
    base = resolve_model(adapter_base_model(d), cache_dir)
    return LoRATransformersGenerator(d, base, device=device, batch_size=batch_size)
