"""The quality classifier on real IntentionQA labels, split by co-buy pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cosmo.core.errors import InputError, ModelError
from cosmo.refine.classifier import QualityClassifier
from cosmo.refine.evaluate import evaluate_intentionqa, intentionqa_labels, split_by_pair
from cosmo.refine.labels import aggregate_labels


@pytest.mark.slow
def test_classifier_beats_chance_on_held_out_intentionqa(iqa_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    m = evaluate_intentionqa(iqa_path, embedder, limit_pairs=250, test_share=0.3, seed=0)
    assert m["pairs_test"] >= 60 and m["candidates_test"] > 300
    assert m["plausibility_auc"] > 0.7  # gold vs distractor on unseen pairs
    assert m["spearman_all"] > 0.3
    assert m["typicality_spearman"] > 0.0  # graded FolkScope typicality, gold only
    reg = m["typicality_regressor"]  # the ridge regressor on the same gold items
    assert reg["n_test"] == m["gold_test"] and reg["out_of_fold_spearman"] > 0.1
    assert m["brier_plausibility"] < 0.2
    bins = m["calibration"]["plausibility"]["bins"]
    assert sum(b["n"] for b in bins) == m["candidates_test"]


def test_split_keeps_each_pair_on_one_side(small_candidates) -> None:  # type: ignore[no-untyped-def]
    train, test = split_by_pair(small_candidates, test_share=0.3, seed=1)
    assert train.any() and test.any() and not (train & test).any()
    pairs_train = {(c.source, c.target) for c, m in zip(small_candidates, train, strict=True) if m}
    pairs_test = {(c.source, c.target) for c, m in zip(small_candidates, test, strict=True) if m}
    assert not pairs_train & pairs_test


def test_save_load_round_trip_and_errors(tmp_path: Path, embedder, small_candidates) -> None:  # type: ignore[no-untyped-def]
    labels = aggregate_labels(intentionqa_labels(small_candidates))
    clf = QualityClassifier(embedder).fit(small_candidates, labels)
    path = clf.save(tmp_path / "m.npz")
    again = QualityClassifier.load(path, embedder)
    a = clf.predict(small_candidates[:5])
    b = again.predict(small_candidates[:5])
    for t in ("plausibility", "typicality"):
        np.testing.assert_allclose(a[t], b[t])
        assert ((a[t] >= 0) & (a[t] <= 1)).all()
    with pytest.raises(ModelError, match="not trained"):
        QualityClassifier(embedder).predict(small_candidates[:2])
    with pytest.raises(ModelError, match="classify train"):
        QualityClassifier.load(tmp_path / "missing.npz", embedder)
    same = labels.assign(plausibility=1.0)
    with pytest.raises(InputError, match="all the same"):
        QualityClassifier(embedder).fit(small_candidates, same, targets=("plausibility",))
