"""Real generation: Gemma 3 270M (the packaged model) explains real IntentionQA co-buy pairs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from cosmo.core.demo import DemoContext
from cosmo.core.settings import Settings
from cosmo.generation.base import GenerationParams
from cosmo.generation.cache import GenerationCache
from cosmo.generation.hf import TransformersGenerator
from cosmo.generation.runner import GenerateConfig, run_generation
from cosmo.ingest.adapters import read_intentionqa
from cosmo.ingest.sampling import SampleConfig, sample_pairs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gemma(gemma_dir: Path) -> Iterator[TransformersGenerator]:
    yield TransformersGenerator(str(gemma_dir), batch_size=4).load()


def test_gemma_generates_candidates_for_intentionqa_pairs(
    gemma: TransformersGenerator, shared_data: Path, tmp_path: Path
) -> None:
    iqa = read_intentionqa(shared_data / "intentionqa" / "task1.jsonl")
    assert iqa.co_buy is not None
    res = sample_pairs(
        iqa.catalogue.records,
        co_buy=iqa.co_buy.records[:50],
        config=SampleConfig(n_search_buy=0, n_co_buy=2, seed=1),
    )
    pairs = res.pairs
    assert len(pairs) == 2 and all(p.source_title for p in pairs)
    cfg = GenerateConfig(
        relations=("USED_FOR_FUNC", "xWANT"),
        params=GenerationParams(max_new_tokens=24, stop=("\n\n",), seed=3),
        batch_size=4,
    )
    with GenerationCache(tmp_path / "c.sqlite") as cache:
        report = run_generation(pairs, gemma, cache, cfg)
        assert report.counts["generated"] == 4 and report.notes["completion_tokens"] > 0
        again = run_generation(pairs, gemma, cache, cfg)  # cached: nothing generated again
    assert again.counts["cache_hits"] == 4 and again.counts.get("generated", 0) == 0
    assert report.counts["candidates"] >= 1
    for c in report.candidates:
        assert c.tail.strip() and len(c.tail) <= 80
        assert c.raw_output.startswith("1.") and c.origin == "generated"
        assert c.model == gemma.model_name and c.behaviour == "co_buy"
    assert 0.0 <= report.notes["copy_rate"] <= 1.0


def test_left_padded_batch_matches_single_prompt(gemma: TransformersGenerator) -> None:
    greedy = GenerationParams(max_new_tokens=8, temperature=0.0, repetition_penalty=1.0)
    short = "Task: name a fruit.\nAnswer:\n1."
    long = "Task: A customer bought a tent and a sleeping bag together. Who uses both products?\nAnswer:\n1."
    batch = gemma.generate([short, long], greedy)
    alone = gemma.generate([short], greedy)
    assert batch[0].text == alone[0].text
    assert batch[0].prompt_tokens < batch[1].prompt_tokens


def test_generation_demo_stage(
    gemma: TransformersGenerator, shared_data: Path, tmp_path: Path
) -> None:
    from cosmo.generation import demo as gen_demo
    from cosmo.ingest import demo as ingest_demo

    ctx = DemoContext(
        settings=Settings(state_dir=tmp_path),
        store=None,  # type: ignore[arg-type]  # neither stage touches the graph
        workdir=tmp_path,
        console=Console(quiet=True),
        shared_data=shared_data,
    )
    ingest_demo.run(ctx)
    gen_demo.run(ctx, generator=gemma)
    df = pd.read_parquet(ctx.artifacts["candidates"])
    assert set(df.origin) == {"generated", "folkscope"}
    assert (df[df.origin == "folkscope"].reference_score.between(0, 1)).all()
