"""Fixtures for the annotation tests: real IntentionQA candidates and a fresh store."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmo.core.records import Candidate
from cosmo.refine.annotation import AnnotationStore
from cosmo.refine.intentionqa import intentionqa_candidates


@pytest.fixture(scope="session")
def iqa_candidates(shared_data: Path) -> list[Candidate]:
    """Candidates from the first 30 IntentionQA pairs (gold assertions and distractors)."""
    path = shared_data / "intentionqa" / "task1.jsonl"
    return intentionqa_candidates(path, limit_rows=30, tails="sentence")


@pytest.fixture
def ann_store(tmp_path: Path, iqa_candidates: list[Candidate]) -> AnnotationStore:
    """A store holding the first 12 candidates as items."""
    store = AnnotationStore(tmp_path / "ann.sqlite")
    store.add_items(iqa_candidates[:12])
    return store
