"""The README's first command, end to end: `cosmo demo` on a fresh state folder.

It runs every stage on the bundled sample with the real embedded database and the real
small models (``--no-serve`` checks the API answers, then stops it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port


@pytest.mark.slow
def test_demo_runs_every_stage(
    tmp_path: Path, model_cache: Path, gemma_dir: Path, shared_data: Path
) -> None:
    state = tmp_path / "state"
    (state / "cache").mkdir(parents=True)
    # reuse the converted models (the conversion itself is tested elsewhere)
    (state / "cache" / "models").symlink_to(gemma_dir.parent, target_is_directory=True)
    env = {
        **os.environ,
        "COSMO_STATE_DIR": str(state),
        "COSMO_FALKORDB_PORT": str(free_port()),
        "COSMO_API_PORT": str(free_port()),
        "COSMO_SHARED_DATA": str(shared_data),
    }
    out = subprocess.run(
        [sys.executable, "-m", "cosmo.cli", "demo", "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    log = out.stdout + out.stderr
    try:
        assert out.returncode == 0, log[-4000:]
        assert "Traceback" not in log
        for stage in ("ingest", "generation", "refine", "kg", "gnn", "api"):
            assert f"{stage} took" in log, f"stage {stage} did not run:\n{log[-3000:]}"
        assert "demo done" in log
        assert "knowledge loaded as version" in log
    finally:
        subprocess.run(
            [sys.executable, "-m", "cosmo.cli", "db", "stop"],
            env=env,
            capture_output=True,
            timeout=60,
        )
