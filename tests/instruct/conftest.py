"""Fixtures for COSMO-LM tests: instruction data from IntentionQA and the bundled behaviour
sample, and one tiny LoRA run on the real Gemma 3 270M shared by the module's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmo.refine.instruct import (
    InstructExample,
    build_instructions,
    pairs_from_candidates,
    pairs_from_tables,
    reference_labels,
)
from cosmo.refine.intentionqa import intentionqa_candidates

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "ingest" / "sample"


@pytest.fixture(scope="session")
def iqa(shared_data: Path):  # type: ignore[no-untyped-def]
    path = shared_data / "intentionqa" / "task1.jsonl"
    return intentionqa_candidates(path, limit_rows=80, tails="sentence")


@pytest.fixture(scope="session")
def examples(iqa) -> list[InstructExample]:  # type: ignore[no-untyped-def]
    pairs = pairs_from_candidates(iqa) + pairs_from_tables(
        SAMPLE / "catalogue.csv", SAMPLE / "search_buy.csv", SAMPLE / "co_buy.csv"
    )
    return build_instructions(iqa, reference_labels(iqa), pairs, seed=0, heldout=0.25)
