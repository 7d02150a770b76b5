"""IntentionQA with knowledge from cosmo's own pipeline: end to end on one held-out pair
(real Gemma 3 270M generation, real refinement with MiniLM, the real learned scorer)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cosmo.generation.base import Generation, GenerationParams


class Recording:
    """Wraps the real generator and keeps every prompt it was asked."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.prompts: list[str] = []

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        self.prompts += prompts
        return self.inner.generate(prompts, params)


def test_mcnemar_exact() -> None:
    from cosmo.evaluation.own_pipeline import mcnemar_exact

    assert mcnemar_exact([True, False], [True, False]) == 1.0
    # 10 questions only A gets right, none only B: p = 2 * 0.5**10
    assert mcnemar_exact([True] * 10 + [False], [False] * 11) == pytest.approx(2 * 0.5**10)


class Fixed:
    """A fake generator (unit test): the same numbered list for every prompt."""

    model_name = "fixed-lm"

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        return [Generation(" keeping feet warm\n2. going hiking", len(p), 8) for p in prompts]


def test_a_product_in_several_questions_is_asked_once(
    iqa_dir: Path, hash_embedder: Any, tmp_path: Path
) -> None:
    from cosmo.evaluation.own_pipeline import pipeline_knowledge
    from cosmo.generation.cache import GenerationCache
    from cosmo.generation.runner import GenerateConfig, run_generation
    from cosmo.ingest.intentionqa import load_questions

    qs = {t: load_questions(iqa_dir / f"task{t}.jsonl", limit=20) for t in (1, 2)}
    cache = GenerationCache(tmp_path / "gen.sqlite").open()
    asked: list[str] = []

    def generate(bps: Any, g: Any, rels: Any) -> Any:
        asked.extend(bp.target for bp in bps if bp.behaviour == "search_buy")
        return run_generation(bps, g, cache, GenerateConfig(relations=rels)).candidates

    pair = qs[2][0].pair
    know = pipeline_knowledge(
        qs, [pair, pair], Fixed(), hash_embedder, cpu_budget_s=1e9, generate=generate
    )
    cache.close()
    assert know.pairs == [pair, pair] and len(asked) == len(set(asked)) > 0
    # refinement ran (it refuses repeated candidate ids) on every product's candidates
    assert know.counts["task2_candidates"] > 0


@pytest.mark.slow
def test_own_pipeline_end_to_end_on_one_pair(
    iqa_dir: Path, model_cache: Path, minilm: Any, tmp_path: Path
) -> None:
    from cosmo.evaluation.own_pipeline import (
        own_pipeline_table,
        run_own_pipeline,
        sample_pairs,
    )
    from cosmo.generation.hf import TransformersGenerator
    from cosmo.ingest.intentionqa import load_questions

    gen = Recording(TransformersGenerator(cache_dir=model_cache))
    # a zero budget still finishes the first pair, then stops
    know, results = run_own_pipeline(
        iqa_dir,
        pairs=3,
        cpu_minutes=0.0,
        cache_dir=tmp_path,
        train_limit=40,
        seed=7,
        generator=gen,
        embedder=minilm,
        max_new_tokens=24,
    )
    t1 = load_questions(iqa_dir / "task1.jsonl")
    t2 = load_questions(iqa_dir / "task2.jsonl")
    assert know.pairs == sample_pairs(t1, 3, 7)[:1]
    pair = know.pairs[0]
    assert know.counts["task1_candidates"] > 0 and know.counts["task2_candidates"] > 0
    # the pipeline saw titles only: never an option, a gold intention or the given intention
    secret = {o for q in t1 if q.pair == pair for o in q.options}
    secret |= {q.intention for q in t2 if q.pair == pair}
    assert gen.prompts and not any(s in p for s in secret for p in gen.prompts)
    # task 2's knowledge is per product: no co-buy edge, nothing pair-wise
    assert know.kg[2].co_buy.empty and know.kg[1].co_buy.empty
    assert [r.task for r in results] == [1, 2]
    for r in results:
        assert r.pairs == 1 and r.questions >= 1 and r.train_questions == 40
        assert set(r.accuracy) == {"no KG", "own-pipeline KG", "shuffled own-pipeline KG"}
        assert all(0.0 <= a <= 1.0 for a in r.accuracy.values())
        assert 0.0 <= r.p_vs_no_kg <= 1.0 and 0.0 <= r.p_vs_shuffled <= 1.0
    console = Console(record=True, width=160)
    console.print(own_pipeline_table(know, results))
    assert "McNemar exact p, own vs no KG" in console.export_text()
