"""Every COSMO_* variable means something: unknown ones are named at start-up with a hint."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from cosmo.envcheck import known_env, settings_classes, unknown_env

REPO = Path(__file__).resolve().parent.parent


def test_every_settings_class_is_checked() -> None:
    """Each BaseSettings subclass in the package is in settings_classes()."""
    declared = set()
    for path in REPO.rglob("*.py"):
        if any(
            part.startswith(".") or part in ("tests", "bench", "build")
            for part in path.relative_to(REPO).parts
        ):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "BaseSettings" for b in node.bases
            ):
                declared.add(node.name)
    assert declared == {c.__name__ for c in settings_classes()}


def test_unknown_variables_are_named_with_the_closest_setting() -> None:
    env = {
        "COSMO_API_KEY": "x",  # the setting is COSMO_API_API_KEY
        "COSMO_STATE_DIR": "/tmp/x",
        "COSMO_GEN_BASE_URL": "http://127.0.0.1:1/v1",
        "COSMO_VLLM_MODEL": "m",  # read by scripts/vllm
        "HOME": "/root",
    }
    bad = dict(unknown_env(env))
    assert list(bad) == ["COSMO_API_KEY"]
    assert "COSMO_API_API_KEY" in bad["COSMO_API_KEY"]
    assert {"COSMO_STATE_DIR", "COSMO_NEO4J_PASSWORD", "COSMO_API_API_KEY"} <= known_env()


def test_the_cli_warns_at_start_up(tmp_path: Path) -> None:
    env = {**os.environ, "COSMO_STATE_DIR": str(tmp_path), "COSMO_NEO4J_PASWORD": "typo"}
    out = subprocess.run(
        [sys.executable, "-m", "cosmo.cli", "db", "status"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "COSMO_NEO4J_PASWORD is not a cosmo setting" in out.stderr
    assert "COSMO_NEO4J_PASSWORD" in out.stderr
