"""A small synthetic session set with intention features, for tests and the demo.

Diginetica items carry no text, so the KG-enhanced model cannot be measured there. This set
mimics what the knowledge graph gives: every item serves one intention, its feature vector is a
noisy one-hot of that intention (as a multi-hot of linked intention nodes would be), and each
session clicks items that serve the same intention. Some items of every intention are *cold*:
they never occur in training sessions, only as test targets, so an ID-only model cannot know
them while a feature-aware model can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosmo.gnn.session.data import SessionCases, expand_prefixes

__all__ = ["IntentSessions", "intent_sessions"]


@dataclass(frozen=True)
class IntentSessions:
    train_sessions: list[list[int]]
    test: SessionCases
    item_features: np.ndarray  # [num_items + 1, D], row 0 padding
    item_intent: np.ndarray  # [num_items + 1], -1 for padding
    cold_items: frozenset[int]

    @property
    def num_items(self) -> int:
        return int(self.item_features.shape[0] - 1)


def intent_sessions(
    num_intents: int = 20,
    items_per_intent: int = 10,
    cold_per_intent: int = 3,
    num_train: int = 1500,
    num_test: int = 400,
    noise: float = 0.3,
    seed: int = 0,
) -> IntentSessions:
    """Generate train sessions and test cases whose clicks follow shared intentions."""
    if cold_per_intent >= items_per_intent:
        raise ValueError("cold_per_intent must be smaller than items_per_intent")
    rng = np.random.default_rng(seed)
    n = num_intents * items_per_intent
    intent = np.concatenate([[-1], np.repeat(np.arange(num_intents), items_per_intent)])
    feats = np.zeros((n + 1, num_intents + 8), dtype=np.float32)
    feats[np.arange(1, n + 1), intent[1:]] = 1.0
    feats[1:] += noise * rng.standard_normal((n, feats.shape[1])).astype(np.float32)
    members = [np.arange(1, n + 1)[intent[1:] == k] for k in range(num_intents)]
    cold = {int(m[j]) for m in members for j in range(cold_per_intent)}

    def session(warm_only: bool) -> list[int]:
        k = int(rng.integers(num_intents))
        pool = [i for i in members[k] if not (warm_only and int(i) in cold)]
        length = int(rng.integers(2, 6))
        return [int(x) for x in rng.choice(pool, size=length, replace=True)]

    train = [session(True) for _ in range(num_train)]
    test = expand_prefixes([session(False) for _ in range(num_test)])
    return IntentSessions(train, test, feats, intent, frozenset(cold))
