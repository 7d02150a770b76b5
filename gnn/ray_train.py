"""Ray Train plumbing the GNN trainers share: run a loop under ``TorchTrainer``, checkpoint once.

A trainer's worker loop calls :func:`worker_rank` and :func:`all_sum`, and ends each epoch
with :func:`report_epoch`, which on rank 0 after the last epoch saves the model with the
trainer's own save function into a checkpoint. :func:`fit_on_ray` runs the loop on
``workers`` processes (gloo on CPU, nccl on GPUs) and copies that one file, atomically, to
where the single-process code reads it. :func:`ray_from_settings` reaches the cluster of
``COSMO_PIPELINE_*`` for the commands and lets go of it afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cosmo.core.errors import ConfigError
from cosmo.pipeline.ray_support import connect, import_ray

__all__ = ["all_sum", "fit_on_ray", "ray_from_settings", "report_epoch", "worker_rank"]


def worker_rank() -> tuple[int, int]:
    """This worker's rank and the number of workers."""
    import ray.train

    ctx = ray.train.get_context()
    return ctx.get_world_rank(), ctx.get_world_size()


def all_sum(tensor: Any) -> Any:
    """``tensor`` summed over every worker (in place; unchanged with one worker)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(tensor)
    return tensor


def report_epoch(
    metrics: dict[str, Any], *, last: bool, filename: str, save: Callable[[Path], object]
) -> None:
    """Report the epoch; after the last one rank 0 also saves ``filename`` as the checkpoint."""
    import ray.train
    from ray.train import Checkpoint

    if last and worker_rank()[0] == 0:
        with tempfile.TemporaryDirectory() as d:
            save(Path(d) / filename)
            ray.train.report(metrics, checkpoint=Checkpoint.from_directory(d))
    else:
        ray.train.report(metrics)


def fit_on_ray(
    loop: Callable[[dict[str, Any]], None],
    config: dict[str, Any],
    *,
    workers: int,
    name: str,
    filename: str,
    checkpoint: Path,
    storage: Path | None = None,
    use_gpu: bool = False,
) -> Path:
    """Run ``loop`` on ``workers`` DDP processes; copy its checkpoint file to ``checkpoint``.

    Ray must be initialised (or reachable as ``ray.init()`` finds it).
    """
    import_ray()
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    checkpoint = Path(checkpoint)
    with tempfile.TemporaryDirectory(prefix="cosmo-train-") as tmp:
        trainer = TorchTrainer(
            loop,
            train_loop_config=config,
            torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
            scaling_config=ScalingConfig(num_workers=workers, use_gpu=use_gpu),
            run_config=RunConfig(storage_path=str(storage or tmp), name=name),
        )
        result = trainer.fit()
        if result.checkpoint is None:
            raise ConfigError(f"Ray Train finished without a checkpoint ({result.error})")
        with result.checkpoint.as_directory() as d:
            checkpoint.parent.mkdir(parents=True, exist_ok=True)
            tmp_file = checkpoint.with_suffix(checkpoint.suffix + ".tmp")
            shutil.copyfile(Path(d) / filename, tmp_file)
            tmp_file.replace(checkpoint)
    return checkpoint


@contextmanager
def ray_from_settings() -> Iterator[Any]:
    """Ray on the cluster of ``COSMO_PIPELINE_*`` (or a local one); let go afterwards.

    A Ray session this process already had is used as it is and left running.
    """
    from cosmo.pipeline.settings import PipelineSettings

    ps = PipelineSettings()
    owned = not import_ray().is_initialized()
    ray = connect(ps.ray_address, temp_dir=ps.ray_temp_dir, object_store_mb=ps.object_store_mb,
                  timeout=ps.connect_timeout)  # fmt: skip
    try:
        yield ray
    finally:
        if owned:
            ray.shutdown()
