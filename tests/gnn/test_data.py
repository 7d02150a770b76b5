"""Graph tables → HeteroData: shapes, determinism, Parquet round trip, the store reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from cosmo.core.errors import InputError
from cosmo.core.manifest import read_manifest
from cosmo.gnn.data import KNOWLEDGE, build_hetero, has_neighbor_sampler, load_graph, save_graph
from cosmo.kg.export import KGTables, read_export, read_store


def test_build_hetero_shapes(tiny_tables, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    data, maps = build_hetero(tiny_tables, hash_embedder)
    assert maps.ids["product"] == ["p1", "p2"]  # sorted ids, not input order
    assert data["product"].x.shape == (2, 16)
    assert data["query"].x.shape == (1, 16)
    assert data["intention"].x.shape == (1, 16)
    assert data["product", "co_buy", "product"].edge_index.tolist() == [[0], [1]]
    assert data["product", "rev_co_buy", "product"].edge_index.tolist() == [[1], [0]]
    assert data["query", "search_buy", "product"].edge_index.tolist() == [[0], [0]]
    assert data["query", "search_buy", "product"].edge_weight.tolist() == [3.0]
    kn = data["product", KNOWLEDGE, "intention"]
    assert kn.edge_index.shape == (2, 2)
    assert kn.edge_attr.shape == (2, 2)
    assert kn.edge_attr[:, 1].tolist() == pytest.approx([0.8, 0.5])  # missing typicality → 0.5
    assert ("intention", f"rev_{KNOWLEDGE}", "product") in data.edge_types
    assert ("product", "rev_search_buy", "query") in data.edge_types
    data.validate()


def test_build_is_deterministic(tiny_tables, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    shuffled = KGTables.from_frames(
        **{
            name: getattr(tiny_tables, name).sample(frac=1.0, random_state=3)
            for name in ("products", "queries", "intentions", "search_buy", "co_buy", "knowledge")
        }
    )
    a, ma = build_hetero(tiny_tables, hash_embedder)
    b, mb = build_hetero(shuffled, hash_embedder)
    assert ma.ids == mb.ids
    for t in a.node_types:
        assert torch.equal(a[t].x, b[t].x)


def test_parquet_round_trip_and_artifact(tiny_tables, hash_embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tiny_tables.write_parquet(tmp_path / "export")
    back = read_export(tmp_path / "export")
    assert back.counts() == tiny_tables.counts()
    data, maps = build_hetero(back, hash_embedder)
    path = save_graph(data, maps, tmp_path / "graph.pt")
    data2, maps2 = load_graph(path)
    assert maps2.ids == maps.ids
    assert torch.equal(data2["product"].x, data["product"].x)
    assert read_manifest(path)["counts"]["nodes.product"] == 2


def test_bad_export_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        read_export(tmp_path / "nope")
    (tmp_path / "e").mkdir()
    with pytest.raises(InputError, match="holds none"):
        read_export(tmp_path / "e")
    pd.DataFrame({"a": ["x"]}).to_parquet(tmp_path / "e" / "co_buy.parquet")
    with pytest.raises(InputError, match="missing column") as e:
        read_export(tmp_path / "e")
    assert e.value.field == "b"


def test_dangling_edge_names_the_row(tiny_tables, hash_embedder) -> None:  # type: ignore[no-untyped-def]
    bad = KGTables.from_frames(
        products=tiny_tables.products,
        co_buy=pd.DataFrame([{"a": "p1", "b": "p2"}, {"a": "p1", "b": "ghost"}]),
    )
    with pytest.raises(InputError, match="ghost") as e:
        build_hetero(bad, hash_embedder)
    assert e.value.line == 3 and e.value.field == "b"


def test_sampler_detection_is_boolean() -> None:
    assert isinstance(has_neighbor_sampler(), bool)


def test_read_store_matches_tables(store, tiny_tables, hash_embedder, load_tables) -> None:  # type: ignore[no-untyped-def]

    load_tables(store, tiny_tables)
    got = read_store(store)
    assert got.counts() == tiny_tables.counts()
    a, ma = build_hetero(tiny_tables, hash_embedder)
    b, mb = build_hetero(got, hash_embedder)
    assert ma.ids == mb.ids
    for et in a.edge_types:
        assert a[et].edge_index.tolist() == b[et].edge_index.tolist()
