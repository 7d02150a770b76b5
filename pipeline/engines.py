"""The engines that run generation blocks: ``local`` (this process) and ``ray`` (an actor pool).

Both hand each block to a :class:`BlockWorker`, which builds its generator once and calls
:func:`cosmo.pipeline.blocks.run_block`; the local engine keeps one worker in this process,
the Ray engine runs ``workers`` of them as actors (``ray.util.ActorPool``). A Ray actor that
dies mid-block (killed, out of memory, node lost) is restarted and the block retried, up
to ``max_retries`` times; its partial output is a temporary file that is never read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from cosmo.core.errors import ConfigError, PipelineError
from cosmo.core.records import BehaviourPair
from cosmo.generation.base import TextGenerator
from cosmo.pipeline.blocks import BlockJob, run_block
from cosmo.pipeline.ray_support import connect, import_ray
from cosmo.pipeline.settings import PipelineSettings
from cosmo.refine.stage import StageRunner

__all__ = ["BlockWorker", "Engine", "LocalEngine", "RayEngine", "make_engine"]

Todo = Sequence[tuple[int, list[BehaviourPair]]]
OnDone = Callable[[int, int], None]


class BlockWorker:
    """Runs blocks with one generator, built on the first block (a Ray actor's class too)."""

    def __init__(self, job: BlockJob) -> None:
        self.job = job
        self._generator: TextGenerator | None = None

    def run(self, index: int, pairs: list[BehaviourPair]) -> tuple[int, int]:
        if self._generator is None:
            from cosmo.generation.backends import make_generator
            from cosmo.generation.settings import GenerationSettings

            cache = Path(self.job.cache_dir) if self.job.cache_dir else None
            self._generator = make_generator(GenerationSettings(**self.job.generation), cache)
        return index, run_block(index, pairs, self._generator, self.job)


class Engine(Protocol):
    name: str

    def start(self) -> None: ...

    def generate(self, todo: Todo, job: BlockJob, on_done: OnDone) -> None: ...

    def stage_runner(self, device: str) -> StageRunner | None: ...

    def close(self) -> None: ...


class LocalEngine:
    """Every block in this process, in order."""

    name = "local"

    def start(self) -> None:
        return None

    def generate(self, todo: Todo, job: BlockJob, on_done: OnDone) -> None:
        worker = BlockWorker(job)
        for index, pairs in todo:
            on_done(*worker.run(index, pairs))

    def stage_runner(self, device: str) -> StageRunner | None:
        return None  # refinement's default: every stage in this process

    def close(self) -> None:
        return None


class RayEngine:
    """Blocks on a pool of Ray actors; the cluster is reached (or started) on first use."""

    name = "ray"

    def __init__(self, settings: PipelineSettings) -> None:
        self.settings = settings
        self._ray: Any = None
        self._owned = False

    def start(self) -> None:
        """Reach the cluster now (before the job writes anything); fail fast if it is not there."""
        self._connect()

    def _connect(self) -> Any:
        if self._ray is None:
            self._owned = not import_ray().is_initialized()
            s = self.settings
            self._ray = connect(
                s.ray_address,
                num_cpus=None,
                temp_dir=s.ray_temp_dir,
                object_store_mb=s.object_store_mb,
                timeout=s.connect_timeout,
            )
        return self._ray

    def generate(self, todo: Todo, job: BlockJob, on_done: OnDone) -> None:
        if not todo:
            return
        ray = self._connect()
        from ray.util import ActorPool

        s = self.settings
        gpus = 1 if job.generation.get("device", "cpu").startswith("cuda") else 0
        actor = ray.remote(
            num_cpus=1, num_gpus=gpus, max_restarts=s.max_retries, max_task_retries=s.max_retries
        )(BlockWorker)
        actors = [actor.remote(job) for _ in range(min(s.workers, len(todo)))]
        try:
            pool = ActorPool(actors)
            for index, n in pool.map_unordered(lambda a, b: a.run.remote(*b), list(todo)):
                on_done(index, n)
        except ray.exceptions.RayTaskError as e:
            raise PipelineError(f"a generation block failed on a Ray worker: {e.cause}") from e
        except ray.exceptions.RayActorError as e:
            raise PipelineError(
                f"a generation worker died more than {s.max_retries} time(s) ({e}); "
                "finished blocks are kept, rerun to resume"
            ) from e
        finally:
            for a in actors:
                ray.kill(a)

    def stage_runner(self, device: str) -> StageRunner | None:
        """Refinement's per-candidate stages on a Ray Data actor pool of ``workers`` actors."""
        from cosmo.pipeline.ray_refine import RayStageRunner

        s = self.settings
        gpus = 1 if device.startswith("cuda") else 0
        return RayStageRunner(
            self._connect(), workers=s.workers, batch_size=s.refine_batch_size, gpus=gpus
        )

    def close(self) -> None:
        if self._ray is not None and self._owned:
            self._ray.shutdown()
        self._ray = None


def make_engine(settings: PipelineSettings) -> Engine:
    if settings.engine == "local":
        return LocalEngine()
    if settings.engine == "ray":
        import_ray()  # a clear message now when the extra is missing
        return RayEngine(settings)
    raise ConfigError(f"unknown engine {settings.engine!r}; use local or ray")
