"""HeteroSAGE: shapes on a 4-node graph, and a real link-prediction run that learns."""

from __future__ import annotations

import pytest
import torch

from cosmo.gnn.data import build_hetero
from cosmo.gnn.embed import TrainConfig, embed_nodes, train_link_prediction
from cosmo.gnn.sage import HeteroSAGE


def test_hetero_sage_shapes_on_four_nodes(tiny_tables, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    data, _ = build_hetero(tiny_tables, hash_embedder)
    model = HeteroSAGE(
        data.metadata(), in_channels=16, hidden_channels=8, out_channels=4, num_layers=2
    )
    out = model(data.x_dict, data.edge_index_dict)
    assert {t: tuple(v.shape) for t, v in out.items()} == {
        "product": (2, 4),
        "query": (1, 4),
        "intention": (1, 4),
    }
    before = [p.detach().clone() for p in model.parameters()]
    model.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_node_type_without_messages_still_gets_an_embedding(tiny_tables, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    data, _ = build_hetero(tiny_tables, hash_embedder)
    model = HeteroSAGE(data.metadata(), 16, 8, 4, num_layers=1)
    only_cobuy = {("product", "co_buy", "product"): data["product", "co_buy", "product"].edge_index}
    out = model(data.x_dict, only_cobuy)
    assert out["query"].shape == (1, 4)


def test_one_layer_and_bad_layers() -> None:
    meta = (["a"], [("a", "to", "a")])
    with pytest.raises(ValueError):
        HeteroSAGE(meta, 4, num_layers=0)
    m = HeteroSAGE(meta, 4, 8, 3, num_layers=1)
    out = m({"a": torch.randn(5, 4)}, {("a", "to", "a"): torch.tensor([[0, 1, 2], [1, 2, 3]])})
    assert out["a"].shape == (5, 3)


@pytest.mark.slow
def test_link_prediction_learns_on_real_pairs(iqa_slice, cached_minilm) -> None:  # type: ignore[no-untyped-def]
    from cosmo.evaluation.intentionqa import kg_from_questions

    t1, _ = iqa_slice
    data, maps = build_hetero(kg_from_questions(t1), cached_minilm)
    model, report = train_link_prediction(
        data, TrainConfig(epochs=60, hidden=64, out=32, holdout=0.15)
    )
    assert report.losses[-1] < 0.8 * report.losses[0]
    assert report.val_auc > 0.75  # random corruptions: 0.5
    emb = embed_nodes(model, data)
    assert emb["product"].shape == (len(maps.ids["product"]), 32)
    assert abs(float((emb["product"] ** 2).sum(1).mean()) - 1.0) < 1e-4
