"""The evaluations share the GNN tests' text fixtures: a hashing embedder, MiniLM with a
per-session text cache, and the first IntentionQA questions of each task."""

from __future__ import annotations

from tests.gnn.conftest import (  # noqa: F401  (fixtures, found by name)
    cached_minilm,
    hash_embedder,
    iqa_dir,
    iqa_slice,
    minilm,
)
