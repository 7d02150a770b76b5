from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from cosmo.core.errors import InputError
from cosmo.gnn.session.data import expand_prefixes
from cosmo.gnn.session.kg_features import intentionqa_cobuy_sessions
from cosmo.gnn.session.kg_srgnn import KGSRGNN
from cosmo.gnn.session.train import SessionTrainConfig, evaluate, train_session_model


class HashEmbedder:
    """A deterministic fake Embedder (bag of hashed words), standing in for MiniLM."""

    dim = 64

    def embed(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, zlib.crc32(w.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_cobuy_sessions_from_real_intentionqa(shared_data: Path) -> None:
    data = intentionqa_cobuy_sessions(shared_data / "intentionqa" / "task1.jsonl", HashEmbedder())
    assert data.num_items > 1000
    assert data.item_features.shape == (data.num_items + 1, 128)
    assert len(data.train_sessions) % 2 == 0 and all(len(s) == 2 for s in data.train_sessions)
    assert len(data.test) > 100 and data.test.max_item <= data.num_items
    # no leak: a test pair's intention is not in the features unless a training pair shares it
    train = expand_prefixes(data.train_sessions[:400])
    cfg = SessionTrainConfig(epochs=2, batch_size=64, num_negatives=0, hidden=16)
    model = KGSRGNN(data.num_items, torch.as_tensor(data.item_features), hidden=16)
    result = train_session_model(train, data.num_items, cfg, model=model, progress=False)
    assert result.history[1].loss < result.history[0].loss
    assert evaluate(result.model, data.test, progress=False).cases == len(data.test)


def test_cobuy_errors(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text(json.dumps({"item_a_id": "A", "item_b_id": "B", "item_a_name": "x"}) + "\n")
    with pytest.raises(InputError) as e:
        intentionqa_cobuy_sessions(p, HashEmbedder())
    assert e.value.line == 1 and e.value.field == "item_b_name"
    p.write_text("{not json\n")
    with pytest.raises(InputError, match="JSON"):
        intentionqa_cobuy_sessions(p, HashEmbedder())
