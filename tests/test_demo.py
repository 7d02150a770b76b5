"""The README's first command, end to end: `cosmo demo` on a fresh state folder, on each backend.

It runs every stage on the bundled sample with real servers and the real small models
(``--no-serve`` checks the API answers, then stops it). The demo on Neo4j must count what the
demo on FalkorDB counts, at every stage.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NEO4J_JARS, free_port

STAGES = ("ingest", "generation", "refine", "kg", "gnn", "api")


def _demo(tmp: Path, gemma_dir: Path, shared_data: Path, *extra: str, **env: str) -> dict[str, Any]:
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
    for stage in STAGES:
        assert f"{stage} took" in log, f"stage {stage} did not run:\n{log[-3000:]}"
    assert "demo done" in log and "knowledge loaded as version" in log
    summary = json.loads((state / "artifacts" / "demo" / "summary.json").read_text())
    return {"log": log, **summary}


@pytest.fixture(scope="session")
def falkordb_demo(
    tmp_path_factory: pytest.TempPathFactory, gemma_dir: Path, shared_data: Path
) -> dict[str, Any]:
    return _demo(tmp_path_factory.mktemp("demo-falkordb"), gemma_dir, shared_data)


@pytest.mark.slow
def test_demo_runs_every_stage(falkordb_demo: dict[str, Any]) -> None:
    assert falkordb_demo["backend"] == "falkordb"
    counts = falkordb_demo["counts"]
    assert {"ingest", "generation", "refine", "kg", "gnn"} <= set(counts)
    assert counts["kg"]["Product"] == counts["ingest"]["products"]
    assert counts["refine"]["triples"] > 0


@pytest.mark.slow
@pytest.mark.neo4j
def test_demo_on_neo4j_counts_what_falkordb_counts(
    falkordb_demo: dict[str, Any], tmp_path: Path, gemma_dir: Path, shared_data: Path
) -> None:
    neo = _demo(
        tmp_path, gemma_dir, shared_data, "--backend", "neo4j",
        COSMO_NEO4J_URI=f"bolt://127.0.0.1:{free_port()}",
        COSMO_NEO4J_HTTP_PORT=str(free_port()),
        COSMO_NEO4J_PASSWORD=secrets.token_urlsafe(12),
        COSMO_NEO4J_LIB_DIR=str(NEO4J_JARS),
        COSMO_NEO4J_HEAP="1g",
        COSMO_NEO4J_PAGECACHE="256m",
    )  # fmt: skip
    assert neo["backend"] == "neo4j" and "Neo4j at bolt://127.0.0.1" in neo["log"]
    assert neo["counts"] == falkordb_demo["counts"]
