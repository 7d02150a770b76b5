"""The runner's cache, resume, parsing and copy filter, with a scripted generator behind the interface.

Real generation with Gemma is in test_gemma.py; this file checks the bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.artifacts import write_candidates
from cosmo.core.manifest import Manifest, read_manifest
from cosmo.core.records import BehaviourPair
from cosmo.generation.base import Generation, GenerationParams
from cosmo.generation.cache import GenerationCache
from cosmo.generation.runner import GenerateConfig, run_generation

PAIRS = [
    BehaviourPair(
        behaviour="search_buy", source="camping gear", target="T1", target_title="Dome tent"
    ),
    BehaviourPair(
        behaviour="co_buy",
        source="A",
        target="B",
        source_title="Headlamp",
        target_title="Batteries",
    ),
]


class Scripted:
    """Answers with one fresh tail and, for USED_FOR_AUD prompts, a copy of an example answer."""

    model_name = "scripted"

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.prompts: list[str] = []
        self.fail_after = fail_after

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("crash")
        self.calls += 1
        self.prompts += prompts
        out = []
        for p in prompts:
            copy = (
                "\n2. elderly people" if "For which audience" in p and "elderly people" in p else ""
            )
            out.append(
                Generation(
                    text=f" answer {len(self.prompts)}{copy}\n3. answer {len(self.prompts)}",
                    prompt_tokens=10,
                    completion_tokens=7,
                )
            )
        return out


def test_cache_rerun_and_resume(tmp_path: Path) -> None:
    cfg = GenerateConfig(relations=("USED_FOR_AUD", "USED_IN_LOC", "xWANT"), batch_size=2)
    db = tmp_path / "cache.sqlite"
    crashing = Scripted(fail_after=2)
    with GenerationCache(db) as cache, pytest.raises(RuntimeError):
        run_generation(PAIRS, crashing, cache, cfg)
    with GenerationCache(db) as cache:
        assert len(cache) == 4  # two batches were stored before the crash
        gen = Scripted()
        report = run_generation(PAIRS, gen, cache, cfg)
    assert len(gen.prompts) == 2  # only the missing prompts were generated
    assert report.counts["cache_hits"] == 4 and report.counts["generated"] == 2
    with GenerationCache(db) as cache:
        idle = Scripted()
        again = run_generation(PAIRS, idle, cache, cfg)
    assert idle.calls == 0 and again.counts["cache_hits"] == 6
    assert [c.candidate_id for c in again.candidates] == [c.candidate_id for c in report.candidates]
    # a different parameter set is a different key
    with GenerationCache(db) as cache:
        other = Scripted()
        run_generation(
            PAIRS,
            other,
            cache,
            GenerateConfig(relations=("xWANT",), params=GenerationParams(seed=7)),
        )
    assert len(other.prompts) == 2


def test_candidates_provenance_and_copy_rate(tmp_path: Path) -> None:
    cfg = GenerateConfig(relations=("USED_FOR_AUD",), shots=3, pipeline_run="r1")
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        report = run_generation(PAIRS, Scripted(), cache, cfg)
    # every USED_FOR_AUD prompt holds the "elderly people" example (3 shots = whole pool)
    assert report.counts["dropped_copied_from_examples"] == 2
    assert report.counts["dropped_duplicate"] == 2
    assert report.notes["copy_rate"] == pytest.approx(2 / 4)
    assert report.notes["prompts_with_copy_rate"] == 1.0
    assert all(c.tail != "elderly people" for c in report.candidates)
    c = report.candidates[0]
    assert (c.behaviour, c.source, c.target, c.relation, c.model, c.origin) == (
        "search_buy",
        "camping gear",
        "T1",
        "USED_FOR_AUD",
        "scripted",
        "generated",
    )
    assert (
        c.raw_output.startswith("1. answer")
        and c.prompt_version == "v1"
        and '"seed": 0' in c.params
    )
    manifest = Manifest.for_stage("generate", counts=report.counts, notes=report.notes)
    out = write_candidates(report.candidates, tmp_path / "candidates.parquet", manifest)
    df = pd.read_parquet(out)
    assert len(df) == 2 and set(df.columns) >= {
        "candidate_id",
        "raw_output",
        "params",
        "pipeline_run",
    }
    assert read_manifest(out)["notes"]["copy_rate"] == 0.5
