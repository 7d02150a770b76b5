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
evaluation    the shared IntentionQA data → an accuracy table (with and without the KG)
api           the graph → serves GraphQL and the pages (last, blocks when serve=True)
============  ==================================================================
"""

from __future__ import annotations

import importlib
import json
import os
import time
from pathlib import Path

from rich.console import Console

from cosmo.core.demo import DemoContext, find_shared_data
from cosmo.core.settings import Settings
from cosmo.kg.store import GraphStore

__all__ = ["STAGES", "run_demo"]

STAGES: tuple[str, ...] = ("ingest", "generation", "refine", "kg", "gnn", "evaluation", "api")


def _write_summary(ctx: DemoContext[GraphStore]) -> Path:
    path = ctx.workdir / "summary.json"
    body = {"backend": ctx.settings.backend, "counts": ctx.counts}
    path.write_text(json.dumps(body, indent=1, sort_keys=True))
    return path


def run_demo(
    settings: Settings, *, serve: bool = True, console: Console | None = None
) -> DemoContext[GraphStore]:
    """Start the database and run every stage that is installed, in order."""
    from cosmo.kg.factory import open_store, start_servers

    console = console or Console()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("COSMO_STATE_DIR", str(settings.state_dir))
    for started in start_servers(settings, say=console.print):
        console.print(f"[green]✓[/] {started}")
    workdir = settings.artifacts_dir / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    ctx: DemoContext[GraphStore] = DemoContext(
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
        if name == "api":  # the last stage, which keeps serving: the counts are all in
            console.print(f"counts per stage: {_write_summary(ctx)}")
        module.run(ctx)
        console.print(f"[dim]{name} took {time.perf_counter() - t:.1f} s[/]")
    console.rule(f"[bold green]demo done in {time.perf_counter() - t0:.0f} s")
    return ctx
