"""The refinement pipeline: candidates → filters → classifier → resolved triples.

Stages run in this order, each on the survivors of the previous one:

1. ``validity``     tails that are no phrase: fragments, narrative, data references
2. ``genericness``  tails explaining many unrelated heads (statistics over all input)
3. ``overlap``      copies of the query / titles / type, bad length
4. ``perplexity``   disfluent tails (causal LM)
5. ``similarity``   paraphrases of the input (embeddings)
6. ``classifier``   P(plausible) below the threshold (when a classifier is given)
7. ``resolution``   near-duplicate tails merged into canonical intentions

Survivors sharing a pair, relation and intention become one :class:`KnowledgeTriple`
whose ``frequency`` counts them.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cosmo.core.embeddings import Embedder
from cosmo.core.errors import PipelineError
from cosmo.core.records import Candidate, KnowledgeTriple
from cosmo.refine.classifier import QualityClassifier
from cosmo.refine.generic import GenericnessFilter
from cosmo.refine.overlap import OverlapFilter
from cosmo.refine.perplexity import PerplexityFilter, PerplexityScorer
from cosmo.refine.settings import RefineSettings
from cosmo.refine.similarity import IntentionResolver, SimilarityFilter
from cosmo.refine.stage import (
    Dropped,
    Stage,
    StageReport,
    StageResult,
    StageRunner,
    is_per_candidate,
    run_chain,
    run_here,
)
from cosmo.refine.validity import ValidityFilter

__all__ = ["ClassifierFilter", "RefineResult", "build_stages", "refine"]


class ClassifierFilter:
    """Keeps candidates whose predicted plausibility exceeds ``keep``."""

    name = "classifier"
    per_candidate = True  # each candidate's fate depends on it alone: mappable

    def __init__(self, classifier: QualityClassifier, *, keep: float = 0.5) -> None:
        self.classifier = classifier
        self.keep = keep

    def __call__(self, candidates: Sequence[Candidate]) -> StageResult:
        t0 = time.perf_counter()
        preds = self.classifier.predict(candidates) if candidates else {}
        plaus = preds.get("plausibility", np.ones(len(candidates)))
        typ = preds.get("typicality")
        kept: list[Candidate] = []
        dropped: list[Dropped] = []
        scores: dict[str, dict[str, float]] = {}
        for i, c in enumerate(candidates):
            s = {"plausibility": float(plaus[i])}
            if typ is not None:
                s["typicality"] = float(typ[i])
            scores[c.candidate_id] = s
            if plaus[i] > self.keep:
                kept.append(c)
            else:
                dropped.append(
                    Dropped(c, f"implausible: P={plaus[i]:.2f} <= {self.keep}", 1 - plaus[i])
                )
        report = StageReport(
            self.name,
            len(candidates),
            len(kept),
            {"keep_plausibility": self.keep},
            dropped,
            time.perf_counter() - t0,
        )
        return StageResult(kept, report, scores)


@dataclass
class RefineResult:
    """The refined triples, every stage's report and every score computed."""

    triples: list[KnowledgeTriple]
    reports: list[StageReport]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    n_input: int = 0
    run_id: str = ""
    engines: dict[str, dict[str, Any]] = field(default_factory=dict)  # how each stage ran


def _check_unique(candidates: Sequence[Candidate]) -> None:
    seen: set[str] = set()
    for i, c in enumerate(candidates):
        if c.candidate_id in seen:
            raise PipelineError(
                f"candidate_id {c.candidate_id!r} occurs twice (row {i + 1}); ids must be unique"
            )
        seen.add(c.candidate_id)


def build_stages(
    s: RefineSettings,
    *,
    embedder: Embedder,
    scorer: PerplexityScorer | None,
    classifier: QualityClassifier | None = None,
) -> list[Stage]:
    """The filters in the order they run (see the module docstring), models not yet loaded."""
    stages: list[Stage] = [
        ValidityFilter(max_words=s.validity_max_words),
        GenericnessFilter(
            min_heads=s.generic_min_heads,
            max_share=s.generic_max_share,
            min_entropy=s.generic_min_entropy,
        ),
        OverlapFilter(
            max_ratio=s.max_overlap_ratio,
            max_containment=s.max_containment,
            min_words=s.min_tail_words,
            max_words=s.max_tail_words,
        ),
    ]
    if scorer is not None:
        stages.append(PerplexityFilter(scorer, max_perplexity=s.max_perplexity))
    stages.append(
        SimilarityFilter(embedder, max_cosine=s.max_input_cosine, batch_size=s.embed_batch_size)
    )
    if classifier is not None:
        stages.append(ClassifierFilter(classifier, keep=s.keep_plausibility))
    return stages


def _chains(stages: Sequence[Stage]) -> list[list[Stage]]:
    """Consecutive stages grouped: each run of per-candidate stages, each global stage alone."""
    groups: list[list[Stage]] = []
    for stage in stages:
        if groups and is_per_candidate(stage) and is_per_candidate(groups[-1][-1]):
            groups[-1].append(stage)
        else:
            groups.append([stage])
    return groups


def refine(
    candidates: Sequence[Candidate],
    *,
    embedder: Embedder,
    scorer: PerplexityScorer | None,
    classifier: QualityClassifier | None = None,
    settings: RefineSettings | None = None,
    run_id: str | None = None,
    runner: StageRunner | None = None,
) -> RefineResult:
    """Run every stage and aggregate the survivors into triples.

    ``scorer=None`` skips the perplexity stage (said in its report); ``classifier=None``
    skips the classifier stage. Inputs are not modified. ``runner`` runs each chain of
    per-candidate stages (default :func:`run_here`, this process; the pipeline's Ray engine
    maps them over actors); global stages and intention resolution run here, in order.
    """
    s = settings or RefineSettings()
    run_id = run_id or f"refine-{uuid.uuid4().hex[:8]}"
    _check_unique(candidates)
    stages = build_stages(s, embedder=embedder, scorer=scorer, classifier=classifier)
    reports: list[StageReport] = []
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    engines: dict[str, dict[str, Any]] = {}
    current = list(candidates)
    for group in _chains(stages):
        if is_per_candidate(group[0]):
            results, how = (runner or run_here)(group, current)
        else:
            results, how = run_chain(group, current), {"engine": "driver"}
        for stage, result in zip(group, results, strict=True):
            reports.append(result.report)
            engines[stage.name] = how
            for cid, sc in result.scores.items():
                scores[cid].update(sc)
            current = result.kept
    resolver = IntentionResolver(
        embedder, threshold=s.cluster_cosine, batch_size=s.embed_batch_size
    )
    t0 = time.perf_counter()
    mapping = resolver.resolve(current)
    reports.append(resolver.report(current, mapping, time.perf_counter() - t0))
    engines[resolver.name] = {"engine": "driver"}
    triples, bad = _aggregate(current, mapping, scores, run_id)
    reports.append(
        StageReport("triples", len(current), len(current) - len(bad), {"run": run_id}, bad)
    )
    return RefineResult(triples, reports, dict(scores), len(candidates), run_id, engines)


def _aggregate(
    kept: Sequence[Candidate],
    mapping: dict,  # type: ignore[type-arg]
    scores: dict[str, dict[str, float]],
    run_id: str,
) -> tuple[list[KnowledgeTriple], list[Dropped]]:
    groups: dict[tuple[str, str, str, str, str], list[Candidate]] = defaultdict(list)
    for c in kept:
        it = mapping[c.candidate_id]
        groups[(str(c.behaviour), c.source, c.target, c.relation.upper(), it.id)].append(c)
    triples: list[KnowledgeTriple] = []
    bad: list[Dropped] = []
    for members in groups.values():
        first = members[0]
        it = mapping[first.candidate_id]
        plaus = [scores[m.candidate_id].get("plausibility") for m in members]
        typ = [scores[m.candidate_id].get("typicality") for m in members]
        p = [x for x in plaus if x is not None]
        t = [x for x in typ if x is not None]
        try:
            triples.append(
                KnowledgeTriple(
                    behaviour=first.behaviour,
                    source=first.source,
                    target=first.target,
                    relation=first.relation,
                    tail=it.text,
                    tail_type=it.tail_type,
                    intention_id=it.id,
                    aliases=tuple(it.aliases),
                    plausibility=float(np.clip(max(p), 0, 1)) if p else 1.0,
                    typicality=float(np.clip(np.mean(t), 0, 1)) if t else None,
                    frequency=len(members),
                    model=first.model,
                    pipeline_run=run_id,
                    source_title=first.source_title,
                    target_title=first.target_title,
                    target_type=first.target_type,
                    target_domain=first.target_domain,
                )
            )
        except ValueError as e:
            reason = str(e).splitlines()[-1] if str(e) else "invalid triple"
            bad.extend(Dropped(m, f"invalid: {reason[:120]}") for m in members)
    return triples, bad
