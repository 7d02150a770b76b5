"""Fixtures for the vLLM tests: the separate vLLM venv and a served model.

vLLM lives in its own venv (``bash scripts/vllm/setup.sh`` builds ``.venv-vllm``); the tests
that need it skip, saying so, only when that venv is absent. CI builds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
COSMO_VLLM_VENV = Path(os.environ.get("COSMO_VLLM_VENV", REPO / ".venv-vllm"))
SCRIPTS = REPO / "scripts" / "vllm"
SERVED_NAME = "gemma3-270m"


@pytest.fixture(scope="session")
def vllm_env() -> dict[str, str]:
    """Environment for processes in the vLLM venv (offline, small KV cache on CPU)."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        VLLM_NO_USAGE_STATS="1",
        DO_NOT_TRACK="1",
        VLLM_CPU_KVCACHE_SPACE=env.get("VLLM_CPU_KVCACHE_SPACE", "1"),
        COSMO_VLLM_VENV=str(COSMO_VLLM_VENV),
    )
    return env


@pytest.fixture(scope="session")
def vllm_python() -> Path:
    """The vLLM venv's interpreter; skips when the venv was not set up."""
    py = COSMO_VLLM_VENV / "bin" / "python"
    if not py.exists():
        pytest.skip(f"vLLM venv not set up at {COSMO_VLLM_VENV}: run `bash scripts/vllm/setup.sh`")
    probe = subprocess.run(
        [str(py), "-c", "import vllm, cosmo.generation.vllm_offline"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if probe.returncode != 0:
        pytest.fail(
            f"the vLLM venv at {COSMO_VLLM_VENV} is broken (rerun scripts/vllm/setup.sh):\n"
            + probe.stderr[-2000:]
        )
    return py


@pytest.fixture(scope="module")
def vllm_server(
    vllm_python: Path,
    vllm_env: dict[str, str],
    gemma_dir: Path,
) -> Iterator[str]:
    """A real vLLM server serving the converted Gemma on a free loopback port."""
    port = free_port()
    state = tempfile.mkdtemp(prefix="cosmo-vllm-server-")
    env = dict(vllm_env)
    env.update(
        COSMO_VLLM_PORT=str(port),
        COSMO_VLLM_MODEL=str(gemma_dir),
        COSMO_VLLM_SERVED_NAME=SERVED_NAME,
        # Not under pytest's basetemp: other pytest runs prune old basetemps, and the pid
        # file must outlive them so the server can be stopped.
        COSMO_VLLM_STATE_DIR=state,
        COSMO_VLLM_READY_TIMEOUT="400",
    )
    serve = SCRIPTS / "serve.sh"
    try:
        started = subprocess.run(
            ["bash", str(serve)], env=env, capture_output=True, text=True, timeout=450
        )
        if started.returncode != 0:
            pytest.fail(f"vLLM server did not start:\n{started.stdout}\n{started.stderr}")
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(serve), "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)
