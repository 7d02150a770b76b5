from __future__ import annotations

import numpy as np
import pytest

from cosmo.gnn.session.data import SessionCases, expand_prefixes
from cosmo.gnn.session.metrics import ranks_from_scores
from cosmo.gnn.session.sknn import VSKNN, sparse_ranks
from cosmo.gnn.session.stan import STAN

from .conftest import NUM_ITEMS


def test_neighbours_and_positional_weights() -> None:
    sessions = [[1, 2, 3], [2, 4], [3, 5], [9, 8]]
    model = VSKNN(k=3, sample_size=10, weighting="linear").fit(sessions, num_items=9)
    scores = model.score([[2, 3]])
    assert scores.shape == (1, 10)
    # item 3 (last click) weighs more than 2, so session [3, 5] beats [2, 4]
    assert scores[0, 5] > scores[0, 4] > 0
    assert scores[0, 8] == 0 and scores[0, 9] == 0  # no shared item: never a neighbour
    # sample_size=1 keeps only the most recent sharing session ([3, 5])
    recent = VSKNN(k=3, sample_size=1, weighting="linear").fit(sessions, num_items=9)
    assert recent.score([[2, 3]])[0, 4] == 0 and recent.score([[2, 3]])[0, 5] > 0


def test_sparse_and_dense_ranks_agree() -> None:
    sessions = [[1, 2, 3], [2, 4], [3, 5], [5, 6, 1], [2, 6]]
    model = VSKNN(k=3, sample_size=10).fit(sessions, num_items=6)
    prefixes = [[2], [3, 5], [6]]
    targets = np.array([4, 6, 1])
    dense = ranks_from_scores(model.score(prefixes), targets)
    sparse = sparse_ranks(model.score_sparse(prefixes), targets)
    assert dense.tolist() == sparse.tolist()


def test_bad_weighting() -> None:
    with pytest.raises(ValueError, match="weighting"):
        VSKNN(weighting="cubic")


def test_vsknn_on_diginetica_slice(train_slice: list[list[int]], test_slice: SessionCases) -> None:
    model = VSKNN().fit(train_slice, num_items=NUM_ITEMS)
    m = model.evaluate(test_slice)
    # random guessing over 43k items gives P@20 ≈ 0.05 %; a 5k-session kNN is far above it
    assert m.precision > 10.0 and m.mrr > 3.0
    assert m.cases == len(test_slice)


def test_stan_without_decays_equals_vsknn_with_equal_weights() -> None:
    sessions = [[1, 2, 3], [2, 4], [3, 5], [5, 3, 7, 6], [9, 8]]
    plain = STAN(k=100, sample_size=500, lambda_prefix=None, lambda_position=None, idf=0.0).fit(
        sessions, 9
    )
    ref = VSKNN(weighting="same").fit(sessions, num_items=9)
    prefixes = [[2, 3], [9], [5, 1]]
    assert np.allclose(plain.score(prefixes), ref.score(prefixes), atol=1e-5)


def test_stan_decays() -> None:
    sessions = [[9, 8, 7, 6], [1, 2], [1, 3]]
    # λ3: items of the neighbour far from the shared click count less
    stan = STAN(k=5, lambda_prefix=None, lambda_position=1.0).fit(sessions, 9)
    s = stan.score([[9]])[0]
    assert s[9] > s[8] > s[7] > s[6] > 0
    assert np.isclose(s[8] / s[9], np.exp(-1.0), rtol=1e-4)
    # λ2: the more recent of two equally similar neighbours scores higher
    recent = STAN(k=5, lambda_position=None, lambda_recency=1.0).fit(sessions, 9)
    s = recent.score([[1]])[0]
    assert s[3] > s[2] > 0
    assert np.isclose(s[2] / s[3], np.exp(-1.0), rtol=1e-4)
    # λ1: the later prefix click decides which neighbour is more similar
    seq = STAN(k=5, lambda_position=None, lambda_prefix=1.0).fit([[2, 4], [3, 5]], 5)
    s = seq.score([[2, 3]])[0]
    assert s[5] > s[4] > 0


def test_stan_sparse_and_dense_ranks_agree(train_slice: list[list[int]]) -> None:
    model = STAN(k=50, sample_size=200, lambda_recency=2000.0, idf=1.0)
    model.fit(train_slice[:2000], num_items=NUM_ITEMS)
    cases = expand_prefixes(train_slice[2000:2100])
    dense = ranks_from_scores(model.score(cases.prefixes), cases.targets)
    assert dense.tolist() == model.rank(cases).tolist()


def test_stan_on_diginetica_slice(train_slice: list[list[int]], test_slice: SessionCases) -> None:
    m = STAN(lambda_recency=5000.0).fit(train_slice, num_items=NUM_ITEMS).evaluate(test_slice)
    assert m.precision > 10.0 and m.mrr > 3.0 and m.cases == len(test_slice)
