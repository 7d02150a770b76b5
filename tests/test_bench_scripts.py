"""The benchmark scripts are run by hand, not by CI: check that what they import from cosmo
still exists, so a moved or renamed module breaks a test instead of the next benchmark run."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))


def test_there_are_benchmarks() -> None:
    assert {"kg_load.py", "kg_traverse.py", "kg_crash.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_cosmo_import_of_a_benchmark_resolves(script: Path) -> None:
    missing = []
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cosmo"):
            try:
                module = importlib.import_module(node.module or "")
            except ImportError as e:
                missing.append(f"line {node.lineno}: {node.module} ({e})")
                continue
            missing += [
                f"line {node.lineno}: {node.module}.{a.name}"
                for a in node.names
                if not hasattr(module, a.name)
                and importlib.util.find_spec(f"{node.module}.{a.name}") is None
            ]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("cosmo") and importlib.util.find_spec(a.name) is None:
                    missing.append(f"line {node.lineno}: {a.name}")
    assert missing == [], f"{script.name} imports what cosmo no longer has"
