"""One local Ray cluster per test run: 2 CPUs, no dashboard, a 200 MB object store.

Its temporary folder is a fresh ``ray-*`` folder under the system's temp folder (short: Ray's
socket paths must fit in 107 bytes); the fixture shuts the cluster down and removes it, so
no Ray process outlives the session.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pipeline.conftest import pipeline_embedder  # noqa: F401  (a fixture, found by name)


@pytest.fixture(scope="session")
def ray_temp_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="ray-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def ray_cluster(ray_temp_dir: Path) -> Iterator[Any]:
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        _temp_dir=str(ray_temp_dir),
        log_to_driver=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def iqa_graph(shared_data: Path, pipeline_embedder):  # type: ignore[no-untyped-def]  # noqa: F811
    """The knowledge graph of 40 IntentionQA task-1 questions, MiniLM features (real data)."""
    from cosmo.evaluation.intentionqa import kg_from_questions
    from cosmo.gnn.data import build_hetero
    from cosmo.ingest.intentionqa import load_questions

    questions = load_questions(shared_data / "intentionqa" / "task1.jsonl", limit=40)
    return build_hetero(kg_from_questions(questions), pipeline_embedder)
