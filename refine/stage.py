"""The shape every refinement filter shares: candidates in, candidates out, a report.

A stage is a callable ``stage(candidates) -> StageResult``. It never mutates its input;
it returns the survivors (in input order), a :class:`StageReport` that says how many went
in and out and which were dropped (with the reason and the score that decided it), and
the per-candidate scores it computed (kept and dropped alike), so later stages and the
funnel report can reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cosmo.core.records import Candidate

__all__ = [
    "Dropped",
    "Stage",
    "StageReport",
    "StageResult",
    "StageRunner",
    "is_per_candidate",
    "merge_results",
    "run_chain",
    "run_here",
]


@dataclass(frozen=True)
class Dropped:
    """One candidate a stage removed, with why."""

    candidate: Candidate
    reason: str
    score: float | None = None

    def as_example(self) -> dict[str, Any]:
        c = self.candidate
        head = c.source_title or c.source
        return {
            "candidate_id": c.candidate_id,
            "head": head if len(head) <= 80 else head[:77] + "...",
            "relation": c.relation,
            "tail": c.tail,
            "reason": self.reason,
            "score": None if self.score is None else round(float(self.score), 4),
        }


@dataclass
class StageReport:
    """What one stage did: counts, its parameters and what it dropped."""

    stage: str
    n_in: int
    n_out: int
    parameters: dict[str, Any] = field(default_factory=dict)
    dropped: list[Dropped] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def n_dropped(self) -> int:
        return self.n_in - self.n_out

    def reasons(self) -> dict[str, int]:
        """How many candidates were dropped for each reason."""
        out: dict[str, int] = {}
        for d in self.dropped:
            key = d.reason.split(":", 1)[0]
            out[key] = out.get(key, 0) + 1
        return out

    def examples(self, k: int = 5) -> list[dict[str, Any]]:
        """Up to ``k`` dropped candidates, the most clear-cut first when scores exist."""
        rows = list(self.dropped)
        if rows and all(d.score is not None for d in rows):
            rows.sort(key=lambda d: -abs(float(d.score or 0.0)))
        # one per reason first, then the rest, so every reason is shown
        seen: set[str] = set()
        first: list[Dropped] = []
        rest: list[Dropped] = []
        for d in rows:
            key = d.reason.split(":", 1)[0]
            (rest if key in seen else first).append(d)
            seen.add(key)
        rows = first + rest
        return [d.as_example() for d in rows[:k]]

    def as_dict(self, k: int = 5) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "in": self.n_in,
            "out": self.n_out,
            "dropped": self.n_dropped,
            "reasons": self.reasons(),
            "parameters": self.parameters,
            "seconds": round(self.seconds, 3),
            "examples": self.examples(k),
        }


@dataclass
class StageResult:
    """Survivors, the report and the scores a stage computed (by candidate id)."""

    kept: list[Candidate]
    report: StageReport
    scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@runtime_checkable
class Stage(Protocol):
    """A refinement filter."""

    name: str

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult: ...


def is_per_candidate(stage: Stage) -> bool:
    """True when each candidate's fate depends on that candidate alone (a mappable stage).

    A stage says so with ``per_candidate = True``; any other stage is global (it needs every
    candidate at once, like genericness) and runs in one process.
    """
    return bool(getattr(stage, "per_candidate", False))


def run_chain(stages: Sequence[Stage], candidates: Sequence[Candidate]) -> list[StageResult]:
    """Run ``stages`` one after the other, each on the previous one's survivors."""
    results: list[StageResult] = []
    current = list(candidates)
    for stage in stages:
        results.append(stage(current))
        current = results[-1].kept
    return results


def merge_results(parts: Sequence[StageResult]) -> StageResult:
    """One stage's results on consecutive slices of its input, as one result on all of it.

    Only right for a per-candidate stage: survivors and drops keep input order, counts and
    seconds add up, the parameters are the first slice's (every slice ran the same stage).
    """
    if not parts:
        raise ValueError("merge_results needs at least one result")
    first = parts[0].report
    kept = [c for p in parts for c in p.kept]
    dropped = [d for p in parts for d in p.report.dropped]
    scores: dict[str, Mapping[str, float]] = {}
    for p in parts:
        scores.update(p.scores)
    report = StageReport(
        first.stage,
        sum(p.report.n_in for p in parts),
        len(kept),
        first.parameters,
        dropped,
        sum(p.report.seconds for p in parts),
    )
    return StageResult(kept, report, scores)


StageRunner = Callable[
    [Sequence[Stage], Sequence[Candidate]], tuple[list[StageResult], dict[str, Any]]
]
"""Runs a chain of per-candidate stages; returns their results and how it ran them."""


def run_here(
    stages: Sequence[Stage], candidates: Sequence[Candidate]
) -> tuple[list[StageResult], dict[str, Any]]:
    """The local :data:`StageRunner`: the chain in this process."""
    return run_chain(stages, candidates), {"engine": "local"}
