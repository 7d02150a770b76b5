"""The IntentionQA harness on real data: parsing, honest splits, baseline and KG scorers."""

from __future__ import annotations

import numpy as np
import pytest

from cosmo.evaluation.intentionqa import (
    accuracy,
    baseline_predict,
    group_folds,
    kg_from_questions,
)
from cosmo.evaluation.iqa_scorer import KGIndex, OptionScorer, cross_validate, features


def test_kg_from_questions_links_both_products(iqa_slice) -> None:  # type: ignore[no-untyped-def]
    t1, _ = iqa_slice
    kg = kg_from_questions(t1[:10])
    assert set(kg.knowledge["head_id"]) == {x for q in t1[:10] for x in q.pair}
    assert len(kg.co_buy) == len({tuple(sorted(q.pair)) for q in t1[:10]})
    assert set(kg.intentions["text"]) == {q.intention for q in t1[:10]}


def test_folds_never_split_a_pair(iqa_slice) -> None:  # type: ignore[no-untyped-def]
    t1, _ = iqa_slice
    folds = group_folds(t1, 5)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(t1)))
    pair_fold = {}
    for f, idx in enumerate(folds):
        for i in idx:
            assert pair_fold.setdefault(t1[i].pair, f) == f


def test_held_out_questions_never_see_their_own_intention(iqa_slice, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    from cosmo.core.embeddings import TextVectors

    t1, _ = iqa_slice
    vectors = TextVectors(hash_embedder)
    folds = group_folds(t1, 5)
    test = [t1[i] for i in folds[0]]
    train = [t1[i] for i in np.concatenate(folds[1:])]
    kg = KGIndex.from_tables(kg_from_questions(train))
    for q in test:
        assert q.intention not in kg.intentions.get(q.item_a_id, []) or any(
            t.intention == q.intention and q.item_a_id in t.pair for t in train
        )
        f = features(q, vectors, kg)
        assert f.shape == (len(q.options), 3 + hash_embedder.dim + 5)


@pytest.mark.slow
def test_minilm_baseline_and_scorers_beat_random(iqa_slice, cached_minilm) -> None:  # type: ignore[no-untyped-def]
    t1, t2 = iqa_slice
    vectors = cached_minilm.vectors
    for qs, floor in ((t1, 0.5), (t2, 0.7)):
        base = accuracy(qs, baseline_predict(qs, vectors))
        assert base > floor  # random is 0.25
        cov: list[bool] = []
        kg_acc = accuracy(qs, cross_validate(qs, vectors, use_kg=True, folds=3, coverage=cov))
        assert kg_acc > floor
        assert len(cov) == len(qs)


def test_scorer_training_lowers_the_loss(iqa_slice, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    from cosmo.core.embeddings import TextVectors

    t1, _ = iqa_slice
    vectors = TextVectors(hash_embedder)
    xs = [features(q, vectors, None) for q in t1]
    scorer = OptionScorer(use_kg=False, epochs=50).fit(xs, [q.gold for q in t1])
    assert scorer.losses[-1] < scorer.losses[0]
    assert scorer.predict(xs).shape == (len(t1),)


def test_eval_command_and_demo_stage(shared_data, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from rich.console import Console
    from typer.testing import CliRunner

    from cosmo.cli import app
    from cosmo.core.demo import DemoContext
    from cosmo.core.settings import Settings
    from cosmo.evaluation.demo import run

    res = CliRunner().invoke(app, ["eval", "--help"])
    assert res.exit_code == 0 and "intentionqa" in res.output
    out = StringIO()
    ctx: DemoContext[None] = DemoContext(
        Settings(state_dir=tmp_path), None, tmp_path, Console(file=out, width=200), None
    )
    run(ctx)  # no shared data: the stage says so and does nothing
    assert "skipped" in out.getvalue()
