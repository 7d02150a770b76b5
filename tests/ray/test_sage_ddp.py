"""The GraphSAGE link-prediction trainer under Ray Train (DDP, gloo): 2 workers follow 1 worker's
loss curve (and the in-process trainer's), and the checkpoint loads in the single-process code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cosmo.core.manifest import read_manifest
from cosmo.gnn.embed import TrainConfig, embed_nodes, load_model, train_link_prediction
from cosmo.gnn.sage_ddp import train_link_prediction_ddp

pytestmark = pytest.mark.slow


def test_two_workers_follow_one_workers_graphsage_curve(
    ray_cluster, iqa_graph, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    data, maps = iqa_graph
    cfg = TrainConfig(epochs=4, hidden=32, out=16, holdout=0.15)
    _, here = train_link_prediction(data, cfg)
    one = train_link_prediction_ddp(data, cfg, workers=1, checkpoint=tmp_path / "one.pt")
    two = train_link_prediction_ddp(data, cfg, workers=2, checkpoint=tmp_path / "two.pt")
    assert len(two.losses) == 4 and two.losses[-1] < two.losses[0]
    np.testing.assert_allclose(one.losses, here.losses, rtol=1e-4)
    np.testing.assert_allclose(two.losses, one.losses, rtol=1e-4)
    assert two.val_auc == pytest.approx(here.val_auc, abs=1e-3)
    assert two.supervised_edges == here.supervised_edges

    model = load_model(tmp_path / "two.pt")  # the single-process loader reads it
    emb = embed_nodes(model, data)
    assert emb["product"].shape == (len(maps.ids["product"]), 16)
    w1 = load_model(tmp_path / "one.pt").state_dict()
    for k, v in model.state_dict().items():
        np.testing.assert_allclose(v.numpy(), w1[k].numpy(), atol=1e-4, err_msg=k)
    assert read_manifest(tmp_path / "two.pt")["notes"]["last_loss"] == two.losses[-1]
