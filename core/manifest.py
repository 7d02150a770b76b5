"""Manifests: every artifact says what made it.

A manifest is a JSON file written next to an artifact (``<artifact>.manifest.json``) with
the stage, its inputs (paths and content hashes), its parameters, the code version, counts
and timings. Write it last, so an artifact with a manifest is a finished artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "MANIFEST_SUFFIX",
    "Manifest",
    "code_version",
    "file_digest",
    "manifest_path",
    "read_manifest",
]


def file_digest(path: Path, *, chunk: int = 1 << 20) -> str:
    """BLAKE2b of a file's bytes (hex, 32 chars)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def code_version() -> str:
    """The package version plus the git commit of the checkout, when there is one."""
    from cosmo.core import __version__

    repo = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__


MANIFEST_SUFFIX = ".manifest.json"


def manifest_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + MANIFEST_SUFFIX)


@dataclass
class Manifest:
    """What made an artifact. Build it as the stage runs; :meth:`write` it last."""

    stage: str
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    code_version: str = field(default_factory=code_version)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    finished_at: str | None = None
    seconds: float | None = None
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    @classmethod
    def for_stage(
        cls,
        stage: str,
        *,
        parameters: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Path] | None = None,
        counts: Mapping[str, int] | None = None,
        notes: Mapping[str, Any] | None = None,
    ) -> Manifest:
        """A manifest with its parameters, the inputs that are files, counts and notes."""
        m = cls(stage=stage, parameters=dict(parameters or {}))
        for name, path in (inputs or {}).items():
            if Path(path).is_file():
                m.add_input(name, Path(path))
        m.counts.update(counts or {})
        m.notes.update(notes or {})
        return m

    def add_input(self, name: str, path: Path) -> None:
        self.inputs[name] = {"path": str(path), "blake2b": file_digest(path)}

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def write(self, artifact: Path, **extra_counts: int) -> Path:
        """Write ``<artifact>.manifest.json`` atomically and return its path."""
        self.counts.update(extra_counts)
        self.finished_at = datetime.now(UTC).isoformat()
        self.seconds = round(time.perf_counter() - self._t0, 3)
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        data["artifact"] = str(artifact)
        if artifact.exists() and artifact.is_file():
            data["artifact_blake2b"] = file_digest(artifact)
        out = manifest_path(artifact)
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=2, default=str))
        tmp.replace(out)
        return out


def read_manifest(artifact: Path) -> Mapping[str, Any]:
    return json.loads(manifest_path(artifact).read_text())
