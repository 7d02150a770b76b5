"""Real (small) training runs: loss goes down and metrics beat a random ranking by far."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cosmo.gnn.session.data import SessionCases, expand_prefixes, split_validation
from cosmo.gnn.session.hybrid import HybridRecommender, choose_weight
from cosmo.gnn.session.kg_srgnn import KGSRGNN
from cosmo.gnn.session.metrics import rank_metrics
from cosmo.gnn.session.sknn import VSKNN
from cosmo.gnn.session.synthetic import intent_sessions
from cosmo.gnn.session.train import (
    SessionTrainConfig,
    evaluate,
    load_session_model,
    rank_cases,
    train_session_model,
)

from .conftest import NUM_ITEMS

RANDOM_P20 = 100 * 20 / NUM_ITEMS  # ≈ 0.05 %


@pytest.mark.slow
def test_srgnn_trains_on_diginetica_slice(
    train_slice: list[list[int]], test_slice: SessionCases, tmp_path: Path
) -> None:
    fit, valid = split_validation(train_slice, 0.1)
    cfg = SessionTrainConfig(
        epochs=2, batch_size=256, num_negatives=1024, lr=5e-3, lr_decay=0.5, valid_cases=1000
    )
    ckpt = tmp_path / "srgnn.pt"
    result = train_session_model(
        expand_prefixes(fit), NUM_ITEMS, cfg, valid=valid, checkpoint=ckpt, progress=False
    )
    losses = [h.loss for h in result.history]
    assert len(losses) == 2 and losses[1] < losses[0] * 0.9
    assert result.seconds_per_epoch > 0
    cases = test_slice.subset(range(1000))
    m = evaluate(result.model, cases, progress=False)
    assert m.precision > 100 * RANDOM_P20  # > 5 %
    assert m.mrr > 1.0
    # the checkpoint reloads to the same predictions
    again = load_session_model(ckpt)
    assert np.array_equal(
        rank_cases(again, cases, progress=False), rank_cases(result.model, cases, progress=False)
    )
    # fusion with V-SKNN, weight chosen on validation only
    knn = VSKNN().fit(fit, num_items=NUM_ITEMS)
    w, grid = choose_weight(
        result.model, knn, valid.subset(range(500)), grid=(0.0, 0.5, 1.0), progress=False
    )
    assert w in grid and all(v.cases == 500 for v in grid.values())
    hybrid = HybridRecommender(result.model, VSKNN().fit(train_slice, num_items=NUM_ITEMS), w)
    assert hybrid.evaluate(cases, progress=False).precision > 100 * RANDOM_P20


@pytest.mark.slow
def test_kg_variant_knows_cold_items_through_intentions() -> None:
    data = intent_sessions(seed=1)
    train = expand_prefixes(data.train_sessions)
    cfg = SessionTrainConfig(
        epochs=4, batch_size=64, num_negatives=0, lr=1e-2, lr_decay=0.7, hidden=32
    )
    feats = torch.as_tensor(data.item_features)
    kg = train_session_model(
        train, data.num_items, cfg, model=KGSRGNN(data.num_items, feats, hidden=32), progress=False
    )
    plain = train_session_model(train, data.num_items, cfg, progress=False)
    losses = [h.loss for h in kg.history]
    assert losses[-1] < losses[0]
    cold = np.isin(data.test.targets, sorted(data.cold_items))
    kg_ranks = rank_cases(kg.model, data.test, progress=False)
    plain_ranks = rank_cases(plain.model, data.test, progress=False)
    random_p20 = 100 * 20 / data.num_items  # 10 %
    kg_cold = rank_metrics(kg_ranks[cold])
    plain_cold = rank_metrics(plain_ranks[cold])
    assert rank_metrics(kg_ranks).precision > 3 * random_p20
    # items never clicked in training (always negatives there): only the KG features lift them
    assert kg_cold.precision > plain_cold.precision + 5
