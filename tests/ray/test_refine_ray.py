"""Refinement's per-candidate stages on Ray Data actors: the local answers, from other processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cosmo.pipeline.ray_refine import RayStageRunner
from cosmo.refine.intentionqa import intentionqa_candidates
from cosmo.refine.perplexity import PerplexityScorer
from cosmo.refine.pipeline import refine

pytestmark = pytest.mark.slow


def _reports(result) -> list[dict]:  # type: ignore[no-untyped-def]
    rows = [r.as_dict(k=100) for r in result.reports]
    for r in rows:
        r.pop("seconds")
    return rows


def test_mapped_stages_give_the_local_refinement(
    ray_cluster, shared_data: Path, gemma_dir: Path, pipeline_embedder
) -> None:  # type: ignore[no-untyped-def]
    cands = intentionqa_candidates(shared_data / "intentionqa" / "task1.jsonl", limit_pairs=4)
    scorer = PerplexityScorer(str(gemma_dir), batch_size=8, max_tokens=32)
    local = refine(cands, embedder=pipeline_embedder, scorer=scorer, run_id="r")
    runner = RayStageRunner(ray_cluster, workers=2, batch_size=max(1, len(cands) // 4))
    mapped = refine(cands, embedder=pipeline_embedder, scorer=scorer, run_id="r", runner=runner)

    assert mapped.triples == local.triples and len(local.triples) > 0
    assert _reports(mapped) == _reports(local)
    assert mapped.scores.keys() == local.scores.keys()
    for cid, sc in local.scores.items():  # batches pad differently: float noise, no more
        assert mapped.scores[cid] == pytest.approx(sc, rel=1e-4, abs=1e-5), cid

    for name in ("validity", "overlap", "perplexity", "similarity"):
        how = mapped.engines[name]
        assert how["engine"] == "ray" and how["pool"] == 2 and how["batches"] >= 4, how
        assert os.getpid() not in how["pids"]
    assert mapped.engines["perplexity"]["actors"] == 2  # each loaded Gemma and MiniLM once
    assert mapped.engines["genericness"] == mapped.engines["resolution"] == {"engine": "driver"}
    assert local.engines["similarity"] == {"engine": "local"}
