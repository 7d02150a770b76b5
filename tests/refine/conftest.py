"""Fixtures of the refinement tests: real IntentionQA candidates, real models (shared)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def iqa_path(shared_data: Path) -> Path:
    return shared_data / "intentionqa" / "task1.jsonl"


@pytest.fixture(scope="session")
def iqa_candidates(iqa_path: Path):  # type: ignore[no-untyped-def]
    """Gold intentions and distractors of every IntentionQA task-1 pair."""
    from cosmo.refine.intentionqa import intentionqa_candidates

    return intentionqa_candidates(iqa_path)


@pytest.fixture(scope="session")
def small_candidates(iqa_path: Path):  # type: ignore[no-untyped-def]
    """The first 12 co-buy pairs: about 80 candidates."""
    from cosmo.refine.intentionqa import intentionqa_candidates

    return intentionqa_candidates(iqa_path, limit_pairs=12)


@pytest.fixture(scope="session")
def embedder(minilm_dir: Path):  # type: ignore[no-untyped-def]
    """The packaged MiniLM, loaded once for the session."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(minilm_dir))


@pytest.fixture(scope="session")
def gemma_scorer(gemma_dir: Path):  # type: ignore[no-untyped-def]
    """Perplexity under the real Gemma 3 270M, loaded once."""
    from cosmo.refine.perplexity import PerplexityScorer

    scorer = PerplexityScorer(str(gemma_dir), batch_size=16)
    scorer.load()
    return scorer
