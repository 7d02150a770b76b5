"""The graded-typicality regressor: grouped evaluation, wording features on real candidates."""

from __future__ import annotations

import numpy as np

from cosmo.core.schema import pair_key
from cosmo.refine.typicality import TypicalityRegressor, gold_typicality_report, wording_features


def test_regressor_ranks_a_linear_signal_and_picks_alpha_inside_training() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 20))
    y = x[:, 0] - 0.5 * x[:, 1] + rng.normal(scale=0.5, size=300)
    groups = [f"p{i // 3}" for i in range(300)]  # three items per pair
    test = np.array([int(g[1:]) % 4 == 0 for g in groups])
    rep = gold_typicality_report(x, y, groups, test, alphas=(0.1, 1e6))
    assert rep["n_test"] == int(test.sum()) and rep["n"] == 300
    assert rep["alpha"] == 0.1  # the huge penalty flattens the predictions
    assert rep["heldout_spearman"] > 0.7 and rep["out_of_fold_spearman"] > 0.7
    flat = TypicalityRegressor(alphas=(1e6,)).fit(x, y, groups).predict(x)
    assert np.ptp(flat) < 0.05 * np.ptp(y)


def test_wording_features_on_real_candidates(small_candidates) -> None:  # type: ignore[no-untyped-def]
    f = wording_features(small_candidates)
    assert f.shape == (len(small_candidates), 9) and np.isfinite(f).all()
    per_pair = np.exp(f[:, -1]) - 1
    keys = [pair_key(c.behaviour, c.source, c.target) for c in small_candidates]
    assert per_pair[0] == sum(k == keys[0] for k in keys)
    assert ((f[:, 1] >= 0) & (f[:, 1] <= 1)).all()
