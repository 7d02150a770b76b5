"""Generation in blocks of pairs: one ``block-NNNNN.parquet`` (+ manifest) per finished block.

A block is a slice of the sampled pairs, in order. Its candidates come from
:func:`cosmo.generation.runner.run_generation` (the one generation implementation, whatever
the engine) and are written atomically with a manifest written last, so a block with a
manifest whose ``job`` matches is finished and a rerun skips it. The job fingerprint covers
the pairs, the generation settings and the block size: a folder of another job's blocks is
never reused. Files a killed worker left behind (temporary files, a block without its
manifest) are removed before a run and never read.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from cosmo.core.artifacts import read_candidates, write_candidates
from cosmo.core.errors import PipelineError
from cosmo.core.manifest import Manifest, manifest_path, read_manifest
from cosmo.core.records import BehaviourPair, Candidate
from cosmo.generation.base import TextGenerator
from cosmo.generation.cache import GenerationCache
from cosmo.generation.runner import GenerateConfig, run_generation
from cosmo.pipeline.storage import Remote

__all__ = [
    "BlockJob",
    "block_path",
    "clean_partial",
    "finished_blocks",
    "gather_blocks",
    "job_fingerprint",
    "make_blocks",
    "run_block",
]


@dataclass(frozen=True)
class BlockJob:
    """What every generation worker needs (picklable: it travels to Ray actors)."""

    blocks_dir: str
    generation: dict[str, Any]  # GenerationSettings, dumped
    config: GenerateConfig
    fingerprint: str
    cache_dir: str | None = None
    remote: Remote | None = None  # a remote --out's blocks folder: each block goes up too


def make_blocks(pairs: Sequence[BehaviourPair], size: int) -> list[list[BehaviourPair]]:
    """The pairs in order, ``size`` per block (the last one may be shorter)."""
    return [list(pairs[i : i + size]) for i in range(0, len(pairs), size)]


def job_fingerprint(
    pairs: Sequence[BehaviourPair], generation: dict[str, Any], config: GenerateConfig, size: int
) -> str:
    """A hash of what decides a block's content."""
    blob = json.dumps(
        {
            "pairs": [p.model_dump(mode="json") for p in pairs],
            "generation": {k: v for k, v in generation.items() if k != "api_key"},
            "config": asdict(config),
            "block_size": size,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()


def block_path(blocks_dir: Path | str, index: int) -> Path:
    return Path(blocks_dir) / f"block-{index:05d}.parquet"


def finished_blocks(blocks_dir: Path, n_blocks: int, fingerprint: str) -> set[int]:
    """The blocks of this job whose file and manifest are both in place."""
    done = set()
    for i in range(n_blocks):
        path = block_path(blocks_dir, i)
        if not (path.is_file() and manifest_path(path).is_file()):
            continue
        try:
            job = read_manifest(path).get("parameters", {}).get("job")
        except (OSError, ValueError):
            continue
        if job == fingerprint:
            done.add(i)
    return done


def clean_partial(blocks_dir: Path) -> list[str]:
    """Remove what an interrupted writer left: temporary files, blocks without a manifest."""
    removed: list[str] = []
    if not blocks_dir.is_dir():
        return removed
    for f in sorted(blocks_dir.iterdir()):
        orphan = f.suffix == ".parquet" and not manifest_path(f).is_file()
        if f.name.endswith(".tmp") or orphan:
            f.unlink(missing_ok=True)
            removed.append(f.name)
    return removed


def run_block(
    index: int, pairs: Sequence[BehaviourPair], generator: TextGenerator, job: BlockJob
) -> int:
    """Generate one block's candidates and write them (manifest last); return their count."""
    with (
        tempfile.TemporaryDirectory(prefix="cosmo-block-") as tmp,
        GenerationCache(Path(tmp) / "cache.sqlite") as cache,
    ):
        report = run_generation(pairs, generator, cache, job.config, console=Console(quiet=True))
    manifest = Manifest.for_stage(
        "pipeline.generate.block",
        parameters={"block": index, "job": job.fingerprint, "model": generator.model_name},
        counts=report.counts,
        notes=report.notes,
    )
    path = block_path(job.blocks_dir, index)
    write_candidates(report.candidates, path, manifest)
    if job.remote is not None:
        job.remote.put_with_manifest(path)
    return len(report.candidates)


def gather_blocks(blocks_dir: Path, n_blocks: int) -> list[Candidate]:
    """Every block's candidates, in block order (the order one process would make them)."""
    out: list[Candidate] = []
    for i in range(n_blocks):
        path = block_path(blocks_dir, i)
        if not manifest_path(path).is_file():
            raise PipelineError(f"block {i} is not finished ({path} has no manifest)")
        out.extend(read_candidates(path))
    return out
