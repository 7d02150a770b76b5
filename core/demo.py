"""What every stage's demo gets: :class:`DemoContext`, and where the public data is.

``cosmo demo`` (:mod:`cosmo.demo`) builds one context and hands it to each stage's
``run(ctx)`` in turn. The context lives down here so that the stages, which sit below the
demo runner, can name it without importing it.

``DemoContext`` is generic in its graph store: the runner fills in the store it opened, and
the stages that read the graph (kg and above) say which interface they expect
(``DemoContext[GraphStore]``); the stages below kg never touch it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from rich.console import Console

from cosmo.core.settings import Settings

__all__ = ["DemoContext", "find_shared_data"]

StoreT = TypeVar("StoreT")


@dataclass
class DemoContext(Generic[StoreT]):
    """What every demo stage gets."""

    settings: Settings
    store: StoreT
    workdir: Path
    console: Console
    shared_data: Path | None
    serve: bool = True
    artifacts: dict[str, Path] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, stage: str, **numbers: int) -> None:
        """Record what a stage made (the runner writes them to ``<workdir>/summary.json``)."""
        self.counts.setdefault(stage, {}).update({k: int(v) for k, v in numbers.items()})


def find_shared_data() -> Path | None:
    """Public data beside the checkout (``../shared/data``) or in ``COSMO_SHARED_DATA``."""
    env = os.environ.get("COSMO_SHARED_DATA")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parent.parent
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if (c / "intentionqa" / "task1.jsonl").exists():
            return c
    return None
