"""The pipeline on a local Ray cluster: the same answers as ``--engine local``, a worker killed
mid-block is retried, and the two failures that must be clear (Ray missing, no cluster)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.manifest import read_manifest
from cosmo.pipeline.engines import LocalEngine, RayEngine
from cosmo.pipeline.run import PipelineReport, run_pipeline
from cosmo.pipeline.settings import PipelineSettings
from tests.conftest import free_port
from tests.pipeline.conftest import tiny_spec

pytestmark = pytest.mark.slow


def _frames(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    cands = pd.read_parquet(out / "candidates.parquet")
    triples = pd.read_parquet(out / "triples.parquet").drop(columns=["pipeline_run"])
    triples["aliases"] = triples["aliases"].map(tuple)
    key = ["behaviour", "source", "target", "relation", "tail"]
    return cands, triples.sort_values(key).reset_index(drop=True)


@pytest.fixture(scope="module")
def local_run(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, gemma_dir: Path, pipeline_embedder
) -> tuple[Path, PipelineReport]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("local")
    spec = tiny_spec(out, shared_data, gemma_dir)
    return out, run_pipeline(spec, LocalEngine(), embedder=pipeline_embedder)


def test_ray_engine_gives_the_local_answers(
    ray_cluster, local_run, tmp_path: Path, shared_data: Path, gemma_dir: Path, pipeline_embedder
) -> None:  # type: ignore[no-untyped-def]
    local_out, local_report = local_run
    engine = RayEngine(PipelineSettings(engine="ray", workers=2, refine_batch_size=2))
    spec = tiny_spec(tmp_path, shared_data, gemma_dir)
    spec.out_dir = f"file://{tmp_path}"  # a URL: workers upload their blocks with fsspec
    report = run_pipeline(spec, engine, embedder=pipeline_embedder)
    engine.close()
    assert ray_cluster.is_initialized()  # the engine leaves a cluster it did not start running
    assert report.counts == local_report.counts and report.counts["blocks_generated"] == 2
    (lc, lt), (rc, rt) = _frames(local_out), _frames(tmp_path)
    assert len(lc) > 0 and len(lt) > 0
    pd.testing.assert_frame_equal(lc, rc)
    pd.testing.assert_frame_equal(lt, rt)
    assert report.paths["triples"] == f"file://{tmp_path}/triples.parquet"
    assert not [f for f in tmp_path.rglob("*") if f.name.endswith(".tmp")]
    # refinement's per-candidate stages ran in Ray actors, the global ones in the driver
    stages = read_manifest(tmp_path / "triples.parquet")["notes"]["stages"]
    for name in ("validity", "overlap", "similarity"):
        assert stages[name]["engine"] == "ray" and stages[name]["pool"] == 2, stages
        assert os.getpid() not in stages[name]["pids"]
    assert stages["genericness"] == stages["resolution"] == {"engine": "driver"}
    local = read_manifest(local_out / "triples.parquet")["notes"]["stages"]
    assert local["similarity"] == {"engine": "local"}


def _our_block_workers(temp_dir: Path) -> list[int]:
    """Pids of our cluster's actors running a block (their title is ``ray::BlockWorker.run``)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            title = (d / "cmdline").read_bytes().split(b"\0")[0]
            ppid = (d / "stat").read_text().rsplit(")", 1)[1].split()[1]
            parent = Path(f"/proc/{ppid}/cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if title.startswith(b"ray::BlockWorker.run") and str(temp_dir).encode() in parent:
            pids.append(int(d.name))
    return pids


def test_worker_killed_mid_block_is_retried(
    ray_cluster, ray_temp_dir: Path, local_run, tmp_path: Path, shared_data: Path,
    gemma_dir: Path, pipeline_embedder,
) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    killed: list[int] = []
    stop = threading.Event()

    def killer() -> None:
        while not stop.is_set() and not killed:
            for pid in _our_block_workers(ray_temp_dir):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.1)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    engine = RayEngine(PipelineSettings(engine="ray", workers=1, max_retries=2))
    try:
        report = run_pipeline(
            tiny_spec(tmp_path, shared_data, gemma_dir), engine, embedder=pipeline_embedder
        )
    finally:
        stop.set()
        thread.join()
        engine.close()
    assert killed, "no block worker was seen running"
    assert report.counts == local_run[1].counts
    pd.testing.assert_frame_equal(_frames(local_run[0])[0], _frames(tmp_path)[0])
    assert not [f for f in tmp_path.rglob("*") if f.name.endswith(".tmp") or f.name.startswith(".")]


def _python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ},
    )  # fmt: skip


BLOCK_RAY = """
import sys
class NoRay:
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
sys.meta_path.insert(0, NoRay())
sys.modules.pop("ray", None)
"""


def test_ray_missing_is_one_clear_message(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "job"
    code = (
        BLOCK_RAY
        + f"""
sys.argv = ["cosmo", "--state-dir", {str(tmp_path / "state")!r}, "pipeline", "run",
            "--engine", "ray", "--intentionqa", {str(shared_data / "intentionqa" / "task1.jsonl")!r},
            "--out", {str(out)!r}]
from cosmo.cli import main
main()
"""
    )
    res = _python(code)
    assert res.returncode == 1, res.stderr
    assert "needs Ray, which is not installed" in res.stderr and "cosmo-kg[ray]" in res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()  # nothing written


def test_address_that_does_not_answer_fails_fast(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    code = f"""
import time
from cosmo.core.errors import ConfigError
from cosmo.pipeline.engines import RayEngine
from cosmo.pipeline.settings import PipelineSettings
engine = RayEngine(PipelineSettings(engine="ray", ray_address="127.0.0.1:{port}", connect_timeout=2))
t0 = time.monotonic()
try:
    engine.start()
except ConfigError as e:
    print(f"{{time.monotonic() - t0:.2f}}|{{e}}")
"""
    res = _python(code)
    seconds, message = res.stdout.strip().split("|", 1)
    assert float(seconds) < 5, res.stdout
    assert (
        f"no Ray cluster answers at 127.0.0.1:{port}" in message and "ray start --head" in message
    )
