"""Inputs and ``--out`` as fsspec URLs: a ``memory://`` job resumes from the remote's blocks,
and a URL nothing here can open is one clear error before anything is written."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pandas as pd
import pytest
from typer.testing import CliRunner

from cosmo.cli import app
from cosmo.core.errors import ConfigError
from cosmo.pipeline.engines import LocalEngine
from cosmo.pipeline.run import run_pipeline
from tests.pipeline.conftest import tiny_spec


def _triples(fs, root: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    with fs.open(f"{root}/triples.parquet", "rb") as f:
        return pd.read_parquet(f).drop(columns=["pipeline_run"])


@pytest.mark.slow
def test_memory_url_job_resumes_from_the_remote_blocks(
    shared_data: Path, gemma_dir: Path, tmp_path: Path, pipeline_embedder
) -> None:  # type: ignore[no-untyped-def]
    fs = fsspec.filesystem("memory")
    fs.put_file(str(shared_data / "intentionqa" / "task1.jsonl"), "/in/task1.jsonl")
    spec = tiny_spec(tmp_path / "unused", shared_data, gemma_dir, pairs=2, block_size=1)
    spec.out_dir, spec.intentionqa = "memory://jobs/a", "memory://in/task1.jsonl"
    try:
        first = run_pipeline(spec, LocalEngine(), embedder=pipeline_embedder)
        assert first.counts["blocks_generated"] == 2 and first.counts["triples"] > 0
        assert first.paths["triples"] == "memory://jobs/a/triples.parquet"
        names = {p.rsplit("/", 1)[-1] for p in fs.find("/jobs/a")}
        assert {"triples.parquet", "triples.parquet.manifest.json", "candidates.parquet"} <= names
        assert "block-00001.parquet.manifest.json" in names
        assert not [n for n in names if n.endswith(".tmp")]
        assert not (tmp_path / "unused").exists()  # nothing local but a scratch folder, gone
        triples = _triples(fs, "/jobs/a")

        # writers killed mid-upload left a temporary file and a block without its manifest;
        # the rerun's scratch folder is empty: the finished blocks come from the remote
        fs.pipe_file("/jobs/a/blocks/block-00001.parquet.tmp", b"half")
        fs.pipe_file("/jobs/a/blocks/block-00007.parquet", b"half")
        again = run_pipeline(spec, LocalEngine(), embedder=pipeline_embedder)
        assert again.counts["blocks_skipped"] == 2 and again.counts["blocks_generated"] == 0
        assert set(again.cleaned) == {"block-00001.parquet.tmp", "block-00007.parquet"}
        assert not fs.exists("/jobs/a/blocks/block-00007.parquet")
        pd.testing.assert_frame_equal(_triples(fs, "/jobs/a"), triples)
    finally:
        fs.rm("/jobs", recursive=True)
        fs.rm("/in", recursive=True)


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("nope://bucket/job", "unknown fsspec protocol 'nope'"),
        ("s3://bucket/job", "backend is missing here: Install s3fs"),
    ],
)
def test_a_url_nothing_here_opens_is_one_clear_error(
    out: str, expected: str, tmp_path: Path, shared_data: Path
) -> None:
    spec = tiny_spec(tmp_path, shared_data, tmp_path)
    spec.out_dir = out
    with pytest.raises(ConfigError, match="--out") as e:
        run_pipeline(spec, LocalEngine(), embedder=None)  # type: ignore[arg-type]
    assert expected in str(e.value)
    iqa = "nope://x/task1.jsonl"
    r = CliRunner().invoke(
        app,
        ["--state-dir", str(tmp_path / "state"), "pipeline", "run", "--intentionqa", iqa,
         "--out", str(tmp_path / "job")],
    )  # fmt: skip
    assert isinstance(r.exception, ConfigError) and "--intentionqa" in str(r.exception)
    assert not (tmp_path / "job").exists()
