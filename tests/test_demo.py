"""The README's first command, end to end: `cosmo demo` on a fresh state folder, on each backend.

It runs every stage on the bundled sample with real servers and the real small models
(``--no-serve`` checks the API answers, then stops it). The demo on Neo4j must count what the
demo on FalkorDB counts, at every stage.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NEO4J_JARS, free_port, run_demo


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
    neo = run_demo(
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
