"""cosmo.refine: turn raw candidate explanations into knowledge triples.

Coarse filters (:mod:`~cosmo.refine.generic`, :mod:`~cosmo.refine.overlap`,
:mod:`~cosmo.refine.perplexity`), the embedding similarity filter and intention resolution
(:mod:`~cosmo.refine.similarity`), the quality classifier
(:mod:`~cosmo.refine.classifier`) and the funnel report (:mod:`~cosmo.refine.funnel`),
composed by :func:`~cosmo.refine.pipeline.refine`. Importing this package loads no model
and no torch.
"""

from cosmo.refine.classifier import TARGETS, QualityClassifier
from cosmo.refine.generic import GenericnessFilter
from cosmo.refine.overlap import OverlapFilter
from cosmo.refine.perplexity import PerplexityFilter, PerplexityScorer
from cosmo.refine.pipeline import ClassifierFilter, RefineResult, refine
from cosmo.refine.settings import RefineSettings
from cosmo.refine.similarity import Intention, IntentionResolver, SimilarityFilter
from cosmo.refine.stage import Dropped, Stage, StageReport, StageResult

__all__ = [
    "TARGETS",
    "ClassifierFilter",
    "Dropped",
    "GenericnessFilter",
    "Intention",
    "IntentionResolver",
    "OverlapFilter",
    "PerplexityFilter",
    "PerplexityScorer",
    "QualityClassifier",
    "RefineResult",
    "RefineSettings",
    "SimilarityFilter",
    "Stage",
    "StageReport",
    "StageResult",
    "refine",
]
