"""Choosing which candidates people annotate.

COSMO samples candidates for annotation with weights that grow with the **frequency of
the tail** (how many candidates share the normalised explanation) and the **popularity
of the head** (how many behaviour pairs its query or product takes part in, or a given
behaviour count), so that annotation effort goes where the graph is used most, while
rare items still have a chance. Sampling is without replacement and seedable
(Efraimidis–Spirakis keys ``u ** (1 / w)``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from cosmo.core.records import Candidate
from cosmo.core.schema import normalise_text

__all__ = ["annotation_weights", "weighted_sample"]


def annotation_weights(
    candidates: Sequence[Candidate],
    head_popularity: Mapping[str, float] | None = None,
) -> list[float]:
    """Weight of each candidate: tail frequency × head popularity.

    ``head_popularity`` maps a head (query text or product id) to its popularity, e.g. its
    search or purchase count; by default it is the number of distinct behaviour pairs the
    head appears in among ``candidates``.
    """
    tails = Counter(normalise_text(c.tail) for c in candidates)
    if head_popularity is None:
        pairs: dict[str, set[str]] = {}
        for c in candidates:
            pairs.setdefault(c.source, set()).add(c.target)
            if c.behaviour == "co_buy":
                pairs.setdefault(c.target, set()).add(c.source)
        head_popularity = {h: float(len(t)) for h, t in pairs.items()}
    return [
        float(tails[normalise_text(c.tail)]) * max(float(head_popularity.get(c.source, 1.0)), 1e-9)
        for c in candidates
    ]


def weighted_sample(
    candidates: Sequence[Candidate],
    n: int,
    *,
    seed: int = 0,
    head_popularity: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Draw ``n`` candidates without replacement, weighted by tail frequency × head popularity.

    The same ``seed`` and input give the same sample in the same order (heaviest keys first).
    """
    if n <= 0 or not candidates:
        return []
    w = np.asarray(annotation_weights(candidates, head_popularity), dtype=np.float64)
    rng = np.random.default_rng(seed)
    u = rng.random(len(candidates))
    keys = np.log(u) / w  # log of u ** (1 / w): same order, no underflow
    order = np.argsort(-keys, kind="stable")[: min(n, len(candidates))]
    return [candidates[int(i)] for i in order]
