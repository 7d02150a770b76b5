"""Overlap filter: drop tails that only repeat the input (query, titles, product type).

Two measures, both with rapidfuzz on normalised text:

* **edit similarity** ``fuzz.ratio`` (0-100) of the tail against each input text;
* **containment**: the share of the tail's content words found in an input text.

A tail is also dropped when it is too short or too long to be an explanation.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from cosmo.core.records import Candidate
from cosmo.core.schema import normalise_text
from cosmo.refine.stage import Dropped, StageReport, StageResult
from cosmo.refine.text import input_texts

__all__ = ["STOPWORDS", "OverlapFilter", "containment", "content_words"]

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "as",
        "is",
        "are",
        "be",
        "it",
        "its",
        "they",
        "them",
        "their",
        "both",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "he",
        "she",
        "person",
        "customer",
        "product",
        "products",
    ]
)
_WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> list[str]:
    """Lower-case word tokens without stop words."""
    return [w for w in _WORD.findall(normalise_text(text)) if w not in STOPWORDS]


def containment(tail: str, text: str) -> float:
    """Share of the tail's content words that also occur in ``text`` (0 when none)."""
    words = content_words(tail)
    if not words:
        return 0.0
    pool = set(content_words(text))
    return sum(w in pool for w in words) / len(words)


class OverlapFilter:
    """Drops copies of the input and tails of implausible length.

    Args:
        max_ratio: drop when ``fuzz.ratio(tail, input) >= max_ratio`` (0-100).
        max_containment: drop when at least this share of the tail's content words
            (and at least ``min_contained_words`` of them) occur in one input text.
        min_words, max_words: allowed tail length in words.
    """

    name = "overlap"
    per_candidate = True  # each candidate's fate depends on it alone: mappable

    def __init__(
        self,
        *,
        max_ratio: float = 90.0,
        max_containment: float = 0.9,
        min_contained_words: int = 2,
        min_words: int = 1,
        max_words: int = 30,
    ) -> None:
        self.max_ratio = max_ratio
        self.max_containment = max_containment
        self.min_contained_words = min_contained_words
        self.min_words = min_words
        self.max_words = max_words

    def check(self, c: Candidate) -> tuple[str | None, float, float]:
        """``(reason or None, best ratio, best containment)`` for one candidate."""
        from rapidfuzz import fuzz

        tail = normalise_text(c.tail)
        n_words = len(tail.split())
        best_ratio = 0.0
        best_cont = 0.0
        for text in input_texts(c):
            norm = normalise_text(text)
            best_ratio = max(best_ratio, float(fuzz.ratio(tail, norm)))
            best_cont = max(best_cont, containment(tail, norm))
        if n_words < self.min_words or not content_words(tail):
            return "too short: no content words", best_ratio, best_cont
        if n_words > self.max_words:
            return f"too long: {n_words} words", best_ratio, best_cont
        if best_ratio >= self.max_ratio:
            return f"copies input: edit similarity {best_ratio:.0f}", best_ratio, best_cont
        if (
            best_cont >= self.max_containment
            and len(content_words(tail)) >= self.min_contained_words
        ):
            return f"contained in input: {best_cont:.2f}", best_ratio, best_cont
        return None, best_ratio, best_cont

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        t0 = time.perf_counter()
        kept: list[Candidate] = []
        dropped: list[Dropped] = []
        scores: dict[str, dict[str, float]] = {}
        for c in candidates:
            reason, ratio, cont = self.check(c)
            scores[c.candidate_id] = {"overlap_ratio": ratio, "containment": cont}
            if reason is None:
                kept.append(c)
            else:
                dropped.append(Dropped(c, reason, max(ratio / 100.0, cont)))
        params = {
            "max_ratio": self.max_ratio,
            "max_containment": self.max_containment,
            "min_contained_words": self.min_contained_words,
            "min_words": self.min_words,
            "max_words": self.max_words,
        }
        report = StageReport(
            self.name, len(candidates), len(kept), params, dropped, time.perf_counter() - t0
        )
        return StageResult(kept, report, scores)
