"""Kill the job mid-generation, rerun it: finished blocks are skipped, the counts are exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.manifest import read_manifest
from cosmo.pipeline.blocks import block_path
from cosmo.pipeline.engines import LocalEngine
from cosmo.pipeline.run import run_pipeline
from tests.pipeline.conftest import TINY_RELATIONS, tiny_spec

pytestmark = pytest.mark.slow

N_PAIRS = 3


def _cli(out: Path, shared_data: Path, gemma_dir: Path, state: Path) -> list[str]:
    return [
        sys.executable, "-m", "cosmo.cli", "--state-dir", str(state), "pipeline", "run",
        "--intentionqa", str(shared_data / "intentionqa" / "task1.jsonl"),
        "--n-co-buy", str(N_PAIRS), "--n-search-buy", "0", "--block-size", "1",
        "--relations", ",".join(TINY_RELATIONS), "--max-new-tokens", "12", "--greedy",
        "--no-perplexity", "--model", str(gemma_dir), "--out", str(out),
    ]  # fmt: skip


def test_killed_job_resumes_from_its_finished_blocks(
    tmp_path: Path, shared_data: Path, gemma_dir: Path, pipeline_embedder
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "job"
    proc = subprocess.Popen(
        _cli(out, shared_data, gemma_dir, tmp_path / "state"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    first = Path(f"{block_path(out / 'blocks', 0)}.manifest.json")
    deadline = time.monotonic() + 300
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = sorted(p for p in (out / "blocks").glob("block-*.parquet.manifest.json"))
    assert 1 <= len(finished) < N_PAIRS
    assert not (out / "candidates.parquet").exists() and not (out / "triples.parquet").exists()

    spec = tiny_spec(out, shared_data, gemma_dir, pairs=N_PAIRS, block_size=1)
    report = run_pipeline(spec, LocalEngine(), embedder=pipeline_embedder)
    k = len(finished)
    assert report.counts["blocks"] == N_PAIRS
    assert report.counts["blocks_skipped"] == k
    assert report.counts["blocks_generated"] == N_PAIRS - k
    per_block = [
        read_manifest(block_path(out / "blocks", i))["counts"]["candidates"] for i in range(N_PAIRS)
    ]
    assert (
        report.counts["candidates"]
        == sum(per_block)
        == len(pd.read_parquet(out / "candidates.parquet"))
    )
    assert report.counts["triples"] == len(pd.read_parquet(out / "triples.parquet")) > 0
    assert not [
        f for f in out.rglob("*") if f.name.endswith(".tmp") or f.name.startswith(".staging")
    ]
    again = run_pipeline(spec, LocalEngine(), embedder=pipeline_embedder)  # nothing left to do
    assert again.counts["blocks_skipped"] == N_PAIRS and again.counts["blocks_generated"] == 0
    assert again.counts["candidates"] == report.counts["candidates"]
