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
from cosmo.refine.stage import Dropped, Stage, StageReport, StageResult
from cosmo.refine.validity import ValidityFilter

__all__ = ["ClassifierFilter", "RefineResult", "refine"]


class ClassifierFilter:
    """Keeps candidates whose predicted plausibility exceeds ``keep``."""

    name = "classifier"

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


def _check_unique(candidates: Sequence[Candidate]) -> None:
    seen: set[str] = set()
    for i, c in enumerate(candidates):
        if c.candidate_id in seen:
            raise PipelineError(
                f"candidate_id {c.candidate_id!r} occurs twice (row {i + 1}); ids must be unique"
            )
        seen.add(c.candidate_id)


def refine(
    candidates: Sequence[Candidate],
    *,
    embedder: Embedder,
    scorer: PerplexityScorer | None,
    classifier: QualityClassifier | None = None,
    settings: RefineSettings | None = None,
    run_id: str | None = None,
) -> RefineResult:
    """Run every stage and aggregate the survivors into triples.

    ``scorer=None`` skips the perplexity stage (said in its report); ``classifier=None``
    skips the classifier stage. Inputs are not modified.
    """
    s = settings or RefineSettings()
    run_id = run_id or f"refine-{uuid.uuid4().hex[:8]}"
    _check_unique(candidates)
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
    reports: list[StageReport] = []
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    current = list(candidates)
    for stage in stages:
        result = stage(current)
        reports.append(result.report)
        for cid, sc in result.scores.items():
            scores[cid].update(sc)
        current = result.kept
    resolver = IntentionResolver(
        embedder, threshold=s.cluster_cosine, batch_size=s.embed_batch_size
    )
    t0 = time.perf_counter()
    mapping = resolver.resolve(current)
    reports.append(resolver.report(current, mapping, time.perf_counter() - t0))
    triples, bad = _aggregate(current, mapping, scores, run_id)
    reports.append(
        StageReport("triples", len(current), len(current) - len(bad), {"run": run_id}, bad)
    )
    return RefineResult(triples, reports, dict(scores), len(candidates), run_id)


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
