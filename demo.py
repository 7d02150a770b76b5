"""``cosmo demo``: the whole pipeline on the bundled sample, on the embedded database.

Each stage lives in its own package and offers ``run(ctx: DemoContext) -> None`` in a
``demo`` module (``cosmo.ingest.demo``, ``cosmo.generation.demo``, ...). Stages read and
write named artifacts through ``ctx.artifacts`` so they compose without knowing each other:

============  ==================================================================
stage         reads → writes (keys of ``ctx.artifacts``)
============  ==================================================================
ingest        bundled sample → ``catalogue``, ``search_buy``, ``co_buy``, ``pairs``
generation    ``pairs``, ``catalogue`` → ``candidates``
refine        ``candidates`` → ``triples``, ``funnel_report``
kg            ``triples``, ``catalogue``, ``search_buy``, ``co_buy`` → the graph
gnn           the graph → ``embeddings``
api           the graph → serves GraphQL and the pages (last, blocks when serve=True)
============  ==================================================================
"""

from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from cosmo.core.settings import Settings

if TYPE_CHECKING:
    from cosmo.kg.store import GraphStore

__all__ = ["STAGES", "DemoContext", "find_shared_data", "run_demo"]

STAGES: tuple[str, ...] = ("ingest", "generation", "refine", "kg", "gnn", "api")


@dataclass
class DemoContext:
    """What every demo stage gets."""

    settings: Settings
    store: GraphStore
    workdir: Path
    console: Console
    shared_data: Path | None
    serve: bool = True
    artifacts: dict[str, Path] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)


def find_shared_data() -> Path | None:
    """Public data beside the checkout (``../shared/data``) or in ``COSMO_SHARED_DATA``."""
    env = os.environ.get("COSMO_SHARED_DATA")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parent
    candidates += [repo.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for c in candidates:
        if (c / "intentionqa" / "task1.jsonl").exists():
            return c
    return None


def run_demo(
    settings: Settings, *, serve: bool = True, console: Console | None = None
) -> DemoContext:
    """Start the database and run every stage that is installed, in order."""
    from cosmo.kg.factory import open_store
    from cosmo.kg.server import EmbeddedServer

    console = console or Console()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("COSMO_STATE_DIR", str(settings.state_dir))
    if settings.backend == "falkordb":
        st = EmbeddedServer(settings).start()
        console.print(f"[green]✓[/] FalkorDB at {st.host}:{st.port}, data in {st.data_dir}")
    workdir = settings.artifacts_dir / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(
        settings=settings,
        store=open_store(settings),
        workdir=workdir,
        console=console,
        shared_data=find_shared_data(),
        serve=serve,
    )
    t0 = time.perf_counter()
    for name in STAGES:
        try:
            module = importlib.import_module(f"cosmo.{name}.demo")
        except ModuleNotFoundError as e:
            if e.name == f"cosmo.{name}.demo":
                continue
            raise
        t = time.perf_counter()
        console.rule(f"[bold]{name}")
        module.run(ctx)
        console.print(f"[dim]{name} took {time.perf_counter() - t:.1f} s[/]")
    console.rule(f"[bold green]demo done in {time.perf_counter() - t0:.0f} s")
    return ctx
