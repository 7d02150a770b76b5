"""Refinement's per-candidate stages as Ray Data ``map_batches`` on an actor pool.

:class:`RayStageRunner` is the :data:`cosmo.refine.stage.StageRunner` of the Ray engine.
``cosmo.refine.pipeline.refine`` hands it each chain of per-candidate stages (validity;
then overlap, perplexity, similarity and the classifier); it cuts the candidates into
batches, and a pool of :class:`StageChainActor` actors runs the chain on each batch with
:func:`cosmo.refine.stage.run_chain`, the very function the local engine uses. Each actor
receives the stages unloaded (the embedder and the perplexity scorer pickle without their
models) and loads each model once, on its first batch. The driver merges the batches'
results back into input order (:func:`cosmo.refine.stage.merge_results`); global stages
(genericness, intention resolution) never come here.
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Sequence
from typing import Any

from cosmo.core.errors import PipelineError
from cosmo.core.records import Candidate
from cosmo.refine.stage import Stage, StageResult, merge_results, run_chain

__all__ = ["RayStageRunner", "StageChainActor"]


class StageChainActor:
    """A Ray Data actor: one chain of per-candidate stages, run on each batch it is given."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        candidates = [pickle.loads(b) for b in batch["candidate"]]
        results = run_chain(self.stages, candidates)
        return {
            "first": [int(batch["index"][0])],
            "results": [pickle.dumps(results)],
            "pid": [os.getpid()],
        }


def _in_input_order(result: StageResult, position: dict[str, int]) -> StageResult:
    result.kept.sort(key=lambda c: position[c.candidate_id])
    result.report.dropped.sort(key=lambda d: position[d.candidate.candidate_id])
    return result


class RayStageRunner:
    """Maps stage chains over ``workers`` actors, ``batch_size`` candidates a batch."""

    def __init__(self, ray: Any, *, workers: int, batch_size: int, gpus: float = 0) -> None:
        self.ray = ray
        self.workers = workers
        self.batch_size = batch_size
        self.gpus = gpus

    def __call__(
        self, stages: Sequence[Stage], candidates: Sequence[Candidate]
    ) -> tuple[list[StageResult], dict[str, Any]]:
        if not candidates:
            return run_chain(stages, candidates), {"engine": "ray", "actors": 0, "batches": 0}
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        n_batches = math.ceil(len(candidates) / self.batch_size)
        pool = min(self.workers, n_batches)
        rows = [{"index": i, "candidate": pickle.dumps(c)} for i, c in enumerate(candidates)]
        ds = ray.data.from_items(rows, override_num_blocks=n_batches).map_batches(
            StageChainActor,
            fn_constructor_args=(list(stages),),
            batch_size=self.batch_size,
            batch_format="numpy",
            # one batch at a time per actor, so every actor of the pool gets batches
            compute=ray.data.ActorPoolStrategy(size=pool, max_tasks_in_flight_per_actor=1),
            num_cpus=1,
            num_gpus=self.gpus,
        )
        try:
            out = sorted(ds.take_all(), key=lambda r: int(r["first"]))
        except Exception as e:  # Ray wraps a stage's error in its own types
            names = ", ".join(s.name for s in stages)
            raise PipelineError(f"refinement ({names}) failed on a Ray worker: {e}") from e
        parts: list[list[StageResult]] = [pickle.loads(r["results"]) for r in out]
        position = {c.candidate_id: i for i, c in enumerate(candidates)}
        merged = [
            _in_input_order(merge_results([p[k] for p in parts]), position)
            for k in range(len(stages))
        ]
        pids = sorted({int(r["pid"]) for r in out})
        how = {"engine": "ray", "actors": len(pids), "pool": pool, "batches": len(out)}
        return merged, {**how, "pids": pids}
