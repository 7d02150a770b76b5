"""A tiny pipeline job: 4 IntentionQA co-buy pairs, 2 relations, greedy Gemma 3 270M."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmo.generation.runner import GenerateConfig
from cosmo.generation.settings import GenerationSettings
from cosmo.ingest.sampling import SampleConfig
from cosmo.pipeline.run import PipelineSpec

TINY_RELATIONS = ("USED_FOR_FUNC", "xWANT")


def tiny_generation(gemma_dir: Path) -> GenerationSettings:
    return GenerationSettings(
        model=str(gemma_dir), max_new_tokens=12, temperature=0.0, repetition_penalty=1.0
    )


def tiny_spec(
    out: Path, shared_data: Path, gemma_dir: Path, *, pairs: int = 4, block_size: int = 2
) -> PipelineSpec:
    gs = tiny_generation(gemma_dir)
    return PipelineSpec(
        out_dir=out,
        generation=gs.model_dump(),
        config=GenerateConfig(
            relations=TINY_RELATIONS, params=gs.params(), batch_size=8, pipeline_run="pipeline"
        ),
        intentionqa=shared_data / "intentionqa" / "task1.jsonl",
        sample=SampleConfig(n_search_buy=0, n_co_buy=pairs, seed=0),
        block_size=block_size,
        use_perplexity=False,
    )


@pytest.fixture(scope="session")
def pipeline_embedder(minilm_dir: Path):  # type: ignore[no-untyped-def]
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(minilm_dir))
