"""The ``Embedder`` interface, its sentence-transformers implementation, and a text cache.

Refinement (similarity filter, intention resolution, classifier features), the GNN (text
features), the evaluations and the API share it. The default model is the packaged
all-MiniLM-L6-v2. :class:`TextVectors` embeds each distinct text once and can keep the
vectors on disk between runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from cosmo.core.errors import ModelError
from cosmo.core.models import LoadsOnUse, minilm_model_dir, resolve_model

__all__ = ["Embedder", "SentenceTransformerEmbedder", "TextVectors"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    dim: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Shape ``[len(texts), dim]``, rows of unit length."""
        ...


class SentenceTransformerEmbedder(LoadsOnUse):
    """An :class:`Embedder` over a sentence-transformers model, loaded on first use.

    Args:
        model: a folder or hub name; ``None`` means the packaged all-MiniLM-L6-v2.
        device: ``"cpu"`` (default) or ``"cuda"``.
    """

    def __init__(self, model: str | None = None, *, device: str = "cpu", dim: int = 384) -> None:
        self.model_name = model
        self.device = device
        self.dim = dim
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            path = (
                str(minilm_model_dir())
                if self.model_name is None
                else resolve_model(self.model_name)
            )
            try:
                self._model = SentenceTransformer(path, device=self.device)
            except Exception as e:
                raise ModelError(f"Could not load the embedding model {path!r}: {e}") from e
            get_dim = (
                getattr(self._model, "get_embedding_dimension", None)
                or self._model.get_sentence_embedding_dimension
            )
            self.dim = int(get_dim())
        return self._model

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        import numpy as np

        model = self._load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


class TextVectors:
    """Embeds each distinct text once and hands out unit vectors by text."""

    def __init__(
        self, embedder: Embedder, texts: Iterable[str] = (), *, batch_size: int = 64
    ) -> None:
        self.embedder = embedder
        self.batch_size = batch_size
        self._index: dict[str, int] = {}
        self._vecs = np.zeros((0, embedder.dim), dtype=np.float32)
        self.add(texts)

    def add(self, texts: Iterable[str]) -> None:
        new = [t for t in dict.fromkeys(texts) if t not in self._index]
        if not new:
            return
        vecs = np.asarray(self.embedder.embed(new, batch_size=self.batch_size), dtype=np.float32)
        for t in new:
            self._index[t] = len(self._index)
        self._vecs = np.concatenate([self._vecs, vecs.reshape(len(new), -1)])

    def save(self, path: Path) -> None:
        """Keep the vectors (``.npz``) so later runs embed only new texts."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, texts=np.array(list(self._index), dtype=object), vecs=self._vecs)
        tmp.replace(path)

    def load(self, path: Path) -> int:
        """Add the vectors saved by :meth:`save` (same model!); returns how many."""
        if not path.exists():
            return 0
        z = np.load(path, allow_pickle=True)
        texts, vecs = list(z["texts"]), z["vecs"]
        if vecs.shape[1:] != (self.embedder.dim,):
            return 0
        keep = [n for n, t in enumerate(texts) if t not in self._index]
        for n in keep:
            self._index[texts[n]] = len(self._index)
        self._vecs = np.concatenate([self._vecs, vecs[keep].astype(np.float32)])
        return len(keep)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.add(texts)
        return self._vecs[[self._index[t] for t in texts]] if texts else self._vecs[:0]
