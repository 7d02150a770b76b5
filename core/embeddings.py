"""The ``Embedder`` interface and its sentence-transformers implementation.

Refinement (similarity filter, intention resolution, classifier features), the GNN (text
features) and the API share it. The default model is the packaged all-MiniLM-L6-v2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cosmo.core.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Embedder", "SentenceTransformerEmbedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    dim: int

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Shape ``[len(texts), dim]``, rows of unit length."""
        ...


class SentenceTransformerEmbedder:
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

            from cosmo.core.models import minilm_model_dir, resolve_model

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
