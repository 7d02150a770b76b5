"""The session trainer under Ray Train (DDP, gloo): 2 workers follow 1 worker's loss curve, and
the checkpoint loads in the single-process evaluator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cosmo.gnn.session.data import expand_prefixes, load_cases, load_sessions
from cosmo.gnn.session.ddp import train_session_ddp
from cosmo.gnn.session.train import SessionTrainConfig, evaluate, load_session_model

pytestmark = pytest.mark.slow

NUM_ITEMS = 43097  # Diginetica's largest item id


def test_two_workers_follow_one_workers_loss_curve(
    ray_cluster, shared_data: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    d = shared_data / "diginetica"
    train = expand_prefixes(load_sessions(d / "train_sessions.txt")[-200:])
    cfg = SessionTrainConfig(hidden=16, epochs=3, batch_size=64, dropout=0.0, num_negatives=256)
    one = train_session_ddp(train, NUM_ITEMS, cfg, workers=1, checkpoint=tmp_path / "one.pt")
    two = train_session_ddp(train, NUM_ITEMS, cfg, workers=2, checkpoint=tmp_path / "two.pt")
    l1, l2 = [h["loss"] for h in one], [h["loss"] for h in two]
    assert len(l1) == len(l2) == 3 and l1[-1] < l1[0]
    np.testing.assert_allclose(l2, l1, rtol=1e-4)
    model = load_session_model(tmp_path / "two.pt")  # the single-process evaluator reads it
    metrics = evaluate(model, load_cases(d / "test.tsv", limit=200), progress=False)
    assert metrics.cases == 200 and 0.0 <= metrics.mrr <= 100.0
    w1 = load_session_model(tmp_path / "one.pt").state_dict()
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), w1[k].numpy(), atol=1e-4, err_msg=k)
