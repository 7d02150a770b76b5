"""Fixtures for the session-recommendation tests: slices of the real Diginetica split."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmo.gnn.session.data import SessionCases, load_cases, load_sessions

NUM_ITEMS = 43097


@pytest.fixture(scope="session")
def diginetica_dir(shared_data: Path) -> Path:
    d = shared_data / "diginetica"
    if not (d / "train_sessions.txt").is_file():
        pytest.fail(f"Diginetica data missing under {d}")
    return d


@pytest.fixture(scope="session")
def train_slice(diginetica_dir: Path) -> list[list[int]]:
    """The last 5,000 training sessions (the most recent, closest in time to the test split)."""
    sessions = load_sessions(diginetica_dir / "train_sessions.txt")
    return sessions[-5000:]


@pytest.fixture(scope="session")
def test_slice(diginetica_dir: Path) -> SessionCases:
    return load_cases(diginetica_dir / "test.tsv", limit=3000)
