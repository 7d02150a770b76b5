"""Genericness filter: drop tails that explain many unrelated behaviours.

"good quality" explaining headphones, socks and dog food says nothing about any of them.
For every normalised tail (per relation) we count the distinct behaviour pairs (heads)
it explains and measure how evenly those heads spread over product groups (the target's
product type, else its domain, else the product itself) with normalised entropy
``H / log(n_heads)`` in [0, 1]. A tail is generic when it explains at least
``min_heads`` heads, more than ``max_share`` of all heads, and its heads are spread
(entropy at least ``min_entropy``).
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence

from cosmo.core.records import Candidate
from cosmo.core.schema import normalise_text, pair_key
from cosmo.refine.stage import Dropped, StageReport, StageResult

__all__ = ["GenericnessFilter", "tail_statistics"]


def _group(c: Candidate) -> str:
    return c.target_type or c.target_domain or c.target


def tail_statistics(candidates: Sequence[Candidate]) -> dict[str, tuple[int, float, float]]:
    """``tail key -> (heads, share of all heads, normalised entropy of head groups)``.

    The tail key is ``relation|normalised tail``.
    """
    heads: dict[str, set[str]] = defaultdict(set)
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    all_heads: set[str] = set()
    for c in candidates:
        key = f"{c.relation.upper()}|{normalise_text(c.tail)}"
        pk = pair_key(c.behaviour, c.source, c.target)
        all_heads.add(pk)
        if pk not in heads[key]:
            heads[key].add(pk)
            groups[key][_group(c)] += 1
    total = max(len(all_heads), 1)
    out: dict[str, tuple[int, float, float]] = {}
    for key, hs in heads.items():
        n = len(hs)
        counts = groups[key].values()
        ent = -sum((k / n) * math.log(k / n) for k in counts) if n > 1 else 0.0
        out[key] = (n, n / total, ent / math.log(n) if n > 1 else 0.0)
    return out


class GenericnessFilter:
    """Drops tails that are frequent across many, varied heads."""

    name = "genericness"
    per_candidate = False  # head counts and entropy over all candidates: global

    def __init__(
        self, *, min_heads: int = 5, max_share: float = 0.05, min_entropy: float = 0.75
    ) -> None:
        self.min_heads = min_heads
        self.max_share = max_share
        self.min_entropy = min_entropy

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        t0 = time.perf_counter()
        stats = tail_statistics(candidates)
        kept: list[Candidate] = []
        dropped: list[Dropped] = []
        scores: dict[str, dict[str, float]] = {}
        for c in candidates:
            n, share, ent = stats[f"{c.relation.upper()}|{normalise_text(c.tail)}"]
            scores[c.candidate_id] = {
                "tail_heads": float(n),
                "tail_share": share,
                "tail_entropy": ent,
            }
            if n >= self.min_heads and share > self.max_share and ent >= self.min_entropy:
                dropped.append(
                    Dropped(
                        c, f"generic: explains {n} heads ({share:.1%}), entropy {ent:.2f}", share
                    )
                )
            else:
                kept.append(c)
        params = {
            "min_heads": self.min_heads,
            "max_share": self.max_share,
            "min_entropy": self.min_entropy,
        }
        report = StageReport(
            self.name, len(candidates), len(kept), params, dropped, time.perf_counter() - t0
        )
        return StageResult(kept, report, scores)
