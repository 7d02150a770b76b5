"""Unit tests of each session model on a 4-node session graph, shapes checked."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from cosmo.gnn.session.gated_conv import SessionGatedConv
from cosmo.gnn.session.graph import build_session_batch
from cosmo.gnn.session.hybrid import fuse_scores, fused_ranks
from cosmo.gnn.session.kg_srgnn import KGSRGNN
from cosmo.gnn.session.metrics import ranks_from_scores
from cosmo.gnn.session.repeat import RepeatMix, repeat_scores
from cosmo.gnn.session.sknn import VSKNN
from cosmo.gnn.session.srgnn import SRGNN

# one session over 4 distinct items with a repeat (→ 4 nodes) and a one-click session
PREFIXES = [[3, 1, 4, 1, 5], [2]]


def test_session_graph_4_nodes() -> None:
    g = build_session_batch(PREFIXES)
    assert g.items.tolist() == [3, 1, 4, 5, 2]
    assert g.batch.tolist() == [0, 0, 0, 0, 1]
    assert g.last.tolist() == [3, 4]
    edges = set(map(tuple, g.edge_index.t().tolist()))
    assert edges == {(0, 1), (1, 2), (2, 1), (1, 3)}
    # node 1 (item 1) has in-degree 2 and out-degree 2: its edges weigh 1/2
    for (s, d), wi, wo in zip(g.edge_index.t().tolist(), g.in_weight, g.out_weight, strict=True):
        assert wi == (0.5 if d == 1 else 1.0)
        assert wo == (0.5 if s == 1 else 1.0)


def test_gated_conv_shapes() -> None:
    g = build_session_batch(PREFIXES)
    conv = SessionGatedConv(8, num_steps=2)
    out = conv(torch.randn(5, 8), g.edge_index, g.in_weight, g.out_weight)
    assert out.shape == (5, 8)
    conv.reset_parameters()
    assert repr(conv) == "SessionGatedConv(8, num_steps=2)"


def test_srgnn_shapes_and_gradients() -> None:
    torch.manual_seed(0)
    model = SRGNN(num_items=5, hidden=8)
    g = build_session_batch(PREFIXES)
    s = model(g)
    assert s.shape == (2, 8)
    scores = model.score(g)
    assert scores.shape == (2, 6)
    assert model.score(g, torch.tensor([1, 2])).shape == (2, 2)
    scores[:, 1:].logsumexp(-1).sum().backward()
    assert model.embedding.weight.grad is not None
    before = model.lin_out.weight.detach().clone()
    model.reset_parameters()
    assert not torch.equal(before, model.lin_out.weight)
    assert torch.all(model.embedding.weight[0] == 0)


def test_kg_srgnn_shapes_and_feature_use() -> None:
    torch.manual_seed(0)
    feats = torch.randn(6, 12)
    model = KGSRGNN(num_items=5, item_features=feats, hidden=8)
    g = build_session_batch(PREFIXES)
    assert model(g).shape == (2, 8)
    assert model.score(g).shape == (2, 6)
    model.eval()
    before = model.score(g).detach()
    model.item_features[5] += 10.0  # a different feature for item 5 changes its score
    after = model.score(g).detach()
    assert not torch.allclose(before[:, 5], after[:, 5])
    # session [2] does not contain item 5: its score for item 2 is unchanged
    assert torch.allclose(before[1, 2], after[1, 2])


def test_fuse_scores_is_a_distribution() -> None:
    neural = torch.randn(2, 6)
    knn = torch.tensor([[0, 0, 1.0, 3.0, 0, 0], [0, 0, 0, 0, 0, 0]])
    fused = fuse_scores(neural, knn, 0.5)
    assert fused.shape == (2, 6)
    assert torch.allclose(fused[:, 1:].sum(-1), torch.ones(2))
    assert fused[0, 0] == 0
    # no neighbours: the neural distribution alone
    assert torch.allclose(fused[1, 1:], torch.softmax(neural[1, 1:], -1))


def test_fuse_scores_temperature_sharpens_the_neural_part() -> None:
    neural = torch.tensor([[0.0, 1.0, 2.0, 3.0]])
    knn = torch.zeros(1, 4)  # no neighbours: the neural distribution alone
    flat = fuse_scores(neural, knn, 0.5, temperature=0.5)
    sharp = fuse_scores(neural, knn, 0.5, temperature=2.0)
    assert torch.allclose(sharp[0, 1:], torch.softmax(neural[0, 1:] * 2.0, -1))
    assert sharp[0, 3] > flat[0, 3] and sharp[0, 1] < flat[0, 1]
    assert torch.allclose(flat[0, 1:].sum(), torch.tensor(1.0))


def test_fused_ranks_match_dense_fusion_up_to_the_depth() -> None:
    gen = torch.Generator().manual_seed(0)
    b, n, depth = 64, 400, 40
    neural = torch.randn(b, n + 1, generator=gen) * 3
    knn = sp.random(b, n + 1, density=0.03, random_state=1, format="lil", dtype=np.float32)
    knn[:, 0] = 0
    knn[5, :] = 0  # a prefix without neighbours: the neural part alone
    knn = knn.tocsr()
    targets = np.random.default_rng(0).integers(1, n + 1, b)
    for r in range(10, 40):  # some targets that kNN scores
        if knn[r].nnz:
            targets[r] = knn[r].indices[0]
    for tau in (0.5, 1.0):
        fast = fused_ranks(neural, knn, targets, [0.0, 0.3, 0.7, 1.0], tau, depth=depth)
        for w, ranks in fast.items():
            ref = ranks_from_scores(fuse_scores(neural, knn.toarray(), w, tau), targets)
            assert np.all(np.where(ref < depth, ranks == ref, ranks >= depth)), (w, tau)


def test_repeat_mix_adds_the_prefix_items() -> None:
    sessions = [[1, 2], [1, 3], [4, 5]]
    knn = VSKNN(k=5, sample_size=10).fit(sessions, num_items=6)
    plain = RepeatMix(knn, rho=0.0).score([[6, 1]])[0]
    assert np.isclose(plain.sum(), 1.0) and plain[6] == 0 and plain[2] > 0
    mixed = RepeatMix(knn, rho=0.5, decay=1.0).score([[6, 1]])[0]
    assert np.isclose(mixed.sum(), 1.0)
    r = repeat_scores([[6, 1]], 6, decay=1.0).toarray()[0]
    assert np.isclose(r[1] / r[6], np.e) and np.isclose(r.sum(), 1.0)
    assert np.allclose(mixed, 0.5 * plain + 0.5 * r)


def test_ensemble_is_the_weighted_mean_of_its_members(tmp_path) -> None:
    from cosmo.core.errors import ConfigError
    from cosmo.gnn.session.ensemble import SessionEnsemble, load_ensemble, load_session_models
    from cosmo.gnn.session.train import save_session_model

    torch.manual_seed(0)
    a, b = SRGNN(num_items=5, hidden=8).eval(), SRGNN(num_items=5, hidden=8).eval()
    g = build_session_batch(PREFIXES)
    ens = SessionEnsemble([a, b], weights=[3.0, 1.0]).eval()
    scores = ens.score(g)
    assert scores.shape == (2, 6)
    assert torch.allclose(scores, 0.75 * a.score(g) + 0.25 * b.score(g))
    cand = torch.tensor([1, 4])
    assert ens.score(g, cand).shape == (2, 2)
    # saved members load back as the equal-weight ensemble
    paths = [save_session_model(a, tmp_path / "a.pt"), save_session_model(b, tmp_path / "b.pt")]
    loaded = load_ensemble(paths)
    assert isinstance(load_session_models(paths), SessionEnsemble)
    one = load_session_models(paths[:1])
    assert type(one) is SRGNN and torch.allclose(one.score(g), a.score(g))
    assert loaded.num_items == 5
    assert torch.allclose(loaded.score(g), (a.score(g) + b.score(g)) / 2, atol=1e-6)
    # it ranks like one model: the hybrid and the evaluation accept it
    ranks = ranks_from_scores(loaded.score(g), np.array([4, 3]))
    assert ranks.shape == (2,)
    before = ens.members[0].lin_out.weight.detach().clone()
    ens.reset_parameters()
    assert not torch.equal(before, ens.members[0].lin_out.weight)
    for bad in ([], [a, SRGNN(num_items=7, hidden=8)]):
        with pytest.raises(ConfigError, match="ensemble"):
            SessionEnsemble(bad)


def test_positions_count_back_from_the_last_click() -> None:
    g = build_session_batch(PREFIXES)
    # [3, 1, 4, 1, 5]: 5 is last (0), 1 last seen 1 click before the end, 4 two, 3 four
    assert g.position is not None
    assert g.position.tolist() == [4, 1, 2, 0, 0]


def test_pos_srgnn_shapes_positions_and_checkpoint(tmp_path) -> None:
    from cosmo.gnn.session.pos_srgnn import PosSRGNN
    from cosmo.gnn.session.train import load_session_model, save_session_model

    torch.manual_seed(0)
    model = PosSRGNN(num_items=5, hidden=8, max_positions=3).eval()
    g = build_session_batch(PREFIXES)
    assert model(g).shape == (2, 8)
    assert model.score(g).shape == (2, 6)
    # the readout depends on positions: moving every node further back changes the scores
    with torch.no_grad():
        model.pos.weight[0].zero_()
        model.pos.weight[2].fill_(1.0)
    older = build_session_batch(PREFIXES)
    older.position = torch.full_like(older.position, 5)  # capped at max_positions - 1
    assert not torch.allclose(model.score(g), model.score(older))
    loaded = load_session_model(save_session_model(model, tmp_path / "pos.pt"))
    assert isinstance(loaded, PosSRGNN) and loaded.max_positions == 3
    assert torch.allclose(loaded.score(g), model.score(g))
    before = model.pos.weight.detach().clone()
    model.reset_parameters()
    assert not torch.equal(before, model.pos.weight)
    g.position = None
    with pytest.raises(ValueError, match="positions"):
        model(g)
