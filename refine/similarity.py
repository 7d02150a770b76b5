"""Similarity filter and intention resolution, on sentence embeddings.

Both take an :class:`cosmo.core.embeddings.Embedder` (pass one in; the default everywhere is
``SentenceTransformerEmbedder()``, the packaged MiniLM).

* :class:`SimilarityFilter` drops tails that merely paraphrase the input: cosine of the
  tail with the query or a product title above a threshold.
* :class:`IntentionResolver` clusters near-duplicate tails of the same tail type
  ("keep warm in winter", "keeping warm in the winter") into one canonical intention
  with its aliases. Tails are visited from the most to the least frequent; each joins
  the most similar existing intention if the cosine reaches the threshold, else it
  founds a new one, whose text is its most frequent surface form.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cosmo.core.embeddings import Embedder
from cosmo.core.records import Candidate
from cosmo.core.schema import RELATION_TAIL_TYPES, intention_id, normalise_text, relation_type
from cosmo.refine.stage import Dropped, StageReport, StageResult
from cosmo.refine.text import input_texts

__all__ = ["Intention", "IntentionResolver", "SimilarityFilter", "embed_unique"]


def embed_unique(embedder: Embedder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Embed ``texts``, computing each distinct text once."""
    uniq = list(dict.fromkeys(texts))
    if not uniq:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    vecs = embedder.embed(uniq, batch_size=batch_size)
    pos = {t: i for i, t in enumerate(uniq)}
    return vecs[[pos[t] for t in texts]]


class SimilarityFilter:
    """Drops tails whose cosine with the query or a title reaches ``max_cosine``."""

    name = "similarity"
    per_candidate = True  # each candidate's fate depends on it alone: mappable

    def __init__(
        self, embedder: Embedder, *, max_cosine: float = 0.9, batch_size: int = 64
    ) -> None:
        self.embedder = embedder
        self.max_cosine = max_cosine
        self.batch_size = batch_size

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        t0 = time.perf_counter()
        tails = [c.tail for c in candidates]
        inputs = [input_texts(c)[:2] for c in candidates]  # query/title A, title B
        flat = [t for group in inputs for t in group]
        uniq = list(dict.fromkeys(tails + flat))
        vecs = embed_unique(self.embedder, uniq, self.batch_size)
        pos = {t: i for i, t in enumerate(uniq)}
        kept: list[Candidate] = []
        dropped: list[Dropped] = []
        scores: dict[str, dict[str, float]] = {}
        for c, group in zip(candidates, inputs, strict=True):
            tv = vecs[pos[c.tail]]
            cos = max((float(vecs[pos[t]] @ tv) for t in group), default=0.0)
            scores[c.candidate_id] = {"input_cosine": cos}
            if cos >= self.max_cosine:
                dropped.append(Dropped(c, f"paraphrases input: cosine {cos:.2f}", cos))
            else:
                kept.append(c)
        report = StageReport(
            self.name,
            len(candidates),
            len(kept),
            {"max_cosine": self.max_cosine},
            dropped,
            time.perf_counter() - t0,
        )
        return StageResult(kept, report, scores)


@dataclass
class Intention:
    """A canonical intention: one text, its aliases and the candidates that voiced it."""

    id: str
    text: str
    tail_type: str
    aliases: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


class IntentionResolver:
    """Clusters near-duplicate tails (same tail type) into canonical intentions."""

    name = "resolution"

    def __init__(
        self, embedder: Embedder, *, threshold: float = 0.85, batch_size: int = 64
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.batch_size = batch_size

    def resolve(self, candidates: Sequence[Candidate]) -> dict[str, Intention]:
        """``candidate_id -> Intention`` for every candidate."""
        by_type: dict[str, list[Candidate]] = defaultdict(list)
        for c in candidates:
            by_type[RELATION_TAIL_TYPES[relation_type(c.relation)]].append(c)
        out: dict[str, Intention] = {}
        for tail_type, group in sorted(by_type.items()):
            out.update(self._resolve_type(tail_type, group))
        return out

    def _resolve_type(self, tail_type: str, group: Sequence[Candidate]) -> dict[str, Intention]:
        norm_of = {c.candidate_id: normalise_text(c.tail) for c in group}
        freq = Counter(norm_of.values())
        surface: dict[str, Counter[str]] = defaultdict(Counter)
        for c in group:
            surface[norm_of[c.candidate_id]][c.tail.strip()] += 1
        keys = sorted(freq, key=lambda k: (-freq[k], len(k), k))
        vecs = embed_unique(self.embedder, keys, self.batch_size)
        leaders: list[int] = []
        cluster_of: dict[str, int] = {}
        for i, key in enumerate(keys):
            if leaders:
                sims = vecs[leaders] @ vecs[i]
                best = int(np.argmax(sims))
                if float(sims[best]) >= self.threshold:
                    cluster_of[key] = leaders[best]
                    continue
            leaders.append(i)
            cluster_of[key] = i
        intentions: dict[int, Intention] = {}
        for leader in leaders:
            key = keys[leader]
            text = surface[key].most_common(1)[0][0]
            intentions[leader] = Intention(intention_id(text, tail_type), text, tail_type)
        for key in keys:
            it = intentions[cluster_of[key]]
            for form in sorted(surface[key]):
                if normalise_text(form) != normalise_text(it.text) and form not in it.aliases:
                    it.aliases.append(form)
        out: dict[str, Intention] = {}
        for c in group:
            it = intentions[cluster_of[norm_of[c.candidate_id]]]
            it.members.append(c.candidate_id)
            out[c.candidate_id] = it
        return out

    def report(
        self, candidates: Sequence[Candidate], mapping: dict[str, Intention], seconds: float = 0.0
    ) -> StageReport:
        """A report that counts distinct tails and the intentions they were merged into."""
        n_tails = len(
            {(mapping[c.candidate_id].tail_type, normalise_text(c.tail)) for c in candidates}
        )
        n_int = len({m.id for m in mapping.values()})
        return StageReport(
            self.name,
            len(candidates),
            len(candidates),
            {"threshold": self.threshold, "distinct_tails": n_tails, "intentions": n_int},
            [],
            seconds,
        )

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        """Keeps every candidate; the report counts tails merged into intentions."""
        t0 = time.perf_counter()
        mapping = self.resolve(candidates)
        scores = {cid: {"cluster_size": float(len(m.members))} for cid, m in mapping.items()}
        report = self.report(candidates, mapping, time.perf_counter() - t0)
        return StageResult(list(candidates), report, scores)
