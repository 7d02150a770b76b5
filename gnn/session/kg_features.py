"""KG item features and a co-buy "session" set from IntentionQA, to measure the KG variant.

Diginetica items are bare integers, so :class:`~cosmo.gnn.session.kg_srgnn.KGSRGNN` cannot be
measured there. IntentionQA gives real Amazon co-buy pairs with product titles and the intention
that explains each pair. Each pair becomes two one-click sessions (``[A] → B`` and ``[B] → A``),
split *by pair* into train and test. Item features are the text embeddings of the item's title
and of the intentions of its **training** pairs only (the test pair's intention would leak the
answer), i.e. what the knowledge graph knows about the item before the test interaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosmo.core.embeddings import Embedder
from cosmo.gnn.session.data import SessionCases
from cosmo.ingest.intentionqa import intention_phrase, read_rows

__all__ = ["CoBuySessions", "intentionqa_cobuy_sessions"]


@dataclass(frozen=True)
class CoBuySessions:
    train_sessions: list[list[int]]
    test: SessionCases
    item_features: np.ndarray  # [num_items + 1, 2 * dim]: title ‖ mean(train intentions)
    item_ids: list[str]  # position i - 1 holds the ASIN of item id i

    @property
    def num_items(self) -> int:
        return len(self.item_ids)


def intentionqa_cobuy_sessions(
    task1: str | Path, embedder: Embedder, test_fraction: float = 0.2, seed: int = 0
) -> CoBuySessions:
    """Read IntentionQA ``task1.jsonl`` into co-buy sessions and KG item features."""
    pairs: list[tuple[str, str, str]] = []
    titles: dict[str, str] = {}
    for _, row in read_rows(task1):
        a, b = str(row["item_a_id"]), str(row["item_b_id"])
        titles.setdefault(a, str(row["item_a_name"]))
        titles.setdefault(b, str(row["item_b_name"]))
        pairs.append((a, b, intention_phrase(str(row["assertion"]))))
    item_ids = sorted(titles)
    index = {asin: i + 1 for i, asin in enumerate(item_ids)}
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(pairs))
    n_test = round(len(pairs) * test_fraction)
    test_pairs = [pairs[i] for i in order[:n_test]]
    train_pairs = [pairs[i] for i in order[n_test:]]

    train_sessions: list[list[int]] = []
    item_intents: dict[int, list[str]] = {}
    for a, b, intent in train_pairs:
        ia, ib = index[a], index[b]
        train_sessions += [[ia, ib], [ib, ia]]
        item_intents.setdefault(ia, []).append(intent)
        item_intents.setdefault(ib, []).append(intent)
    prefixes = [[index[a]] for a, b, _ in test_pairs] + [[index[b]] for a, b, _ in test_pairs]
    targets = [index[b] for a, b, _ in test_pairs] + [index[a] for a, b, _ in test_pairs]

    title_vecs = embedder.embed([titles[a] for a in item_ids])
    intents = sorted({t for ts in item_intents.values() for t in ts})
    intent_vecs = dict(zip(intents, embedder.embed(intents), strict=True)) if intents else {}
    dim = title_vecs.shape[1]
    feats = np.zeros((len(item_ids) + 1, 2 * dim), dtype=np.float32)
    feats[1:, :dim] = title_vecs
    for item, ts in item_intents.items():
        feats[item, dim:] = np.mean([intent_vecs[t] for t in ts], axis=0)
    return CoBuySessions(
        train_sessions,
        SessionCases(prefixes, np.asarray(targets, dtype=np.int64)),
        feats,
        item_ids,
    )
