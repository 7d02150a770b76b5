"""The refine demo stage, unattended, on IntentionQA (no generation artifact)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from cosmo.core.demo import DemoContext
from cosmo.core.settings import Settings


@pytest.mark.slow
def test_demo_stage_writes_triples_and_funnel(
    tmp_path: Path, shared_data: Path, model_cache: Path, gemma_dir: Path
) -> None:
    from cosmo.refine import demo

    console = Console(record=True, width=120)
    ctx = DemoContext(
        settings=Settings(state_dir=model_cache.parent),  # reuse the converted Gemma
        store=None,  # type: ignore[arg-type]  # the refine stage does not touch the graph
        workdir=tmp_path,
        console=console,
        shared_data=shared_data,
        serve=False,
    )
    demo.run(ctx)
    assert "using IntentionQA" in console.export_text()
    triples = pd.read_parquet(ctx.artifacts["triples"])
    assert len(triples) > 20
    assert triples["plausibility"].gt(0.5).all()
    report = ctx.artifacts["funnel_report"]
    assert report.suffix == ".html" and report.exists()
    data = json.loads(report.with_name("funnel.json").read_text())
    stages = [s["stage"] for s in data["stages"]]
    assert stages == [
        "validity",
        "genericness",
        "overlap",
        "perplexity",
        "similarity",
        "classifier",
        "resolution",
        "triples",
    ]
    assert data["triples"] == len(triples)
    assert ctx.artifacts["funnel_chart"].stat().st_size > 10_000


def test_demo_stage_says_why_it_skips(tmp_path: Path) -> None:
    from cosmo.refine import demo

    console = Console(record=True, width=120)
    ctx = DemoContext(
        settings=Settings(state_dir=tmp_path),
        store=None,  # type: ignore[arg-type]
        workdir=tmp_path,
        console=console,
        shared_data=None,
        serve=False,
    )
    demo.run(ctx)
    assert "skipped" in console.export_text()
    assert "triples" not in ctx.artifacts
