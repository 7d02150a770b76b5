"""Knowledge graph → PyTorch Geometric :class:`~torch_geometric.data.HeteroData`.

Node types ``product``, ``query`` and ``intention``; features ``x`` are text embeddings from
an :class:`~cosmo.core.embeddings.Embedder` (MiniLM by default, passed in). Edge types::

    (query, search_buy, product)          edge_weight = count
    (product, co_buy, product)            once per unordered pair (lower index first)
    (product, has_intention, intention)   edge_attr = [plausibility, typicality],
    (query, has_intention, intention)     edge_relation = index into RELATIONS

plus the reverse of every type (``rev_<name>``, via ``ToUndirected(merge=False)``) so
messages flow both ways. Node indices follow the sorted node ids, so the same graph always
gives the same tensors; :class:`IdMaps` keeps them and travels with the saved artifact.

Nothing here needs pyg-lib or torch-sparse: the graph is for full-batch training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest
from cosmo.core.schema import RELATIONS

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from cosmo.core.embeddings import Embedder
    from cosmo.kg.export import KGTables

__all__ = [
    "KNOWLEDGE",
    "NODE_TYPES",
    "IdMaps",
    "build_hetero",
    "has_neighbor_sampler",
    "load_graph",
    "node_texts",
    "save_graph",
]

NODE_TYPES: tuple[str, ...] = ("product", "query", "intention")
KNOWLEDGE = "has_intention"
_REL_INDEX = {r: i for i, r in enumerate(RELATIONS)}


@dataclass
class IdMaps:
    """Node id → row index, per node type (ids sorted, so deterministic)."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def index(self, node_type: str) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.ids[node_type])}

    def to_json(self) -> str:
        return json.dumps(self.ids, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> IdMaps:
        return cls({k: list(v) for k, v in json.loads(text).items()})


def has_neighbor_sampler() -> bool:
    """True when pyg-lib or torch-sparse is installed (``NeighborLoader`` can sample)."""
    from torch_geometric.typing import WITH_PYG_LIB, WITH_TORCH_SPARSE

    return bool(WITH_PYG_LIB or WITH_TORCH_SPARSE)


def _text(*parts: Any) -> str:
    return " ; ".join(str(p) for p in parts if p is not None and str(p) and str(p) != "nan")


def node_texts(tables: KGTables) -> dict[str, tuple[list[str], list[str]]]:
    """Sorted ids and the text embedded for each node type."""
    prods = tables.products.drop_duplicates("id").sort_values("id")
    queries = tables.queries.drop_duplicates("key").sort_values("key")
    ints = tables.intentions.drop_duplicates("id").sort_values("id")
    return {
        "product": (
            prods["id"].tolist(),
            [
                _text(t if t else i, ty)
                for i, t, ty in zip(prods["id"], prods["title"], prods["type"], strict=True)
            ],
        ),
        "query": (
            queries["key"].tolist(),
            [
                t if isinstance(t, str) and t else k
                for k, t in zip(queries["key"], queries["text"], strict=True)
            ],
        ),
        "intention": (ints["id"].tolist(), ints["text"].astype(str).tolist()),
    }


def _edges(
    df: pd.DataFrame,
    src: str,
    dst: str,
    src_map: dict[str, int],
    dst_map: dict[str, int],
    what: str,
) -> tuple[np.ndarray, pd.DataFrame]:
    s = df[src].map(src_map)
    d = df[dst].map(dst_map)
    bad = s.isna() | d.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        col = src if pd.isna(s.iloc[row]) else dst
        raise InputError(
            f"{what} edge points at a node that is not in the node tables: {df[col].iloc[row]!r}",
            file=what,
            line=row + 2,
            field=col,
        )
    return np.stack([s.to_numpy(np.int64), d.to_numpy(np.int64)]), df


def _float(col: pd.Series, default: float) -> np.ndarray:
    return pd.to_numeric(col, errors="coerce").fillna(default).to_numpy(np.float32)


def build_hetero(
    tables: KGTables, embedder: Embedder, *, batch_size: int = 64
) -> tuple[HeteroData, IdMaps]:
    """Build the heterogeneous graph (with reverse edges) and its id maps.

    Raises:
        InputError: an edge refers to a node missing from the node tables.
    """
    import torch
    import torch_geometric.transforms as T
    from torch_geometric.data import HeteroData

    texts = node_texts(tables)
    maps = IdMaps({t: ids for t, (ids, _) in texts.items()})
    data = HeteroData()
    for t, (ids, txt) in texts.items():
        x = embedder.embed(txt, batch_size=batch_size) if txt else np.zeros((0, embedder.dim))
        data[t].x = torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(len(ids), embedder.dim)
        data[t].num_nodes = len(ids)
    pm, qm, im = maps.index("product"), maps.index("query"), maps.index("intention")

    sb = tables.search_buy.drop_duplicates(["query_key", "product_id"])
    ei, sb = _edges(sb, "query_key", "product_id", qm, pm, "search_buy")
    data["query", "search_buy", "product"].edge_index = torch.as_tensor(ei).reshape(2, -1)
    data["query", "search_buy", "product"].edge_weight = torch.as_tensor(_float(sb["count"], 1.0))

    cb = tables.co_buy[tables.co_buy["a"] != tables.co_buy["b"]]
    ei, cb = _edges(cb, "a", "b", pm, pm, "co_buy")
    if ei.size:  # one edge per unordered pair, a < b; rev_co_buy carries the other direction
        ei = np.unique(np.sort(ei, axis=0), axis=1)
    data["product", "co_buy", "product"].edge_index = torch.as_tensor(ei).reshape(2, -1)

    kn = tables.knowledge
    for head_label, head_type, head_map in (("Product", "product", pm), ("Query", "query", qm)):
        part = kn[kn["head_label"] == head_label].drop_duplicates(
            ["head_id", "relation", "intention_id"]
        )
        ei, part = _edges(part, "head_id", "intention_id", head_map, im, "knowledge")
        store = data[head_type, KNOWLEDGE, "intention"]
        store.edge_index = torch.as_tensor(ei).reshape(2, -1)
        store.edge_attr = torch.as_tensor(
            np.stack([_float(part["plausibility"], 1.0), _float(part["typicality"], 0.5)], 1)
        ).reshape(-1, 2)
        store.edge_relation = torch.tensor(
            part["relation"].map(lambda r: _REL_INDEX.get(str(r), -1)).to_numpy(np.int64)
        )
    data = T.ToUndirected(merge=False)(data)
    return data, maps


def save_graph(
    data: HeteroData, maps: IdMaps, path: Path, *, manifest: Manifest | None = None
) -> Path:
    """Save the graph (``torch.save``) and ``<path>.ids.json``; the manifest is written last."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(data, tmp)
    tmp.replace(path)
    ids = path.with_name(path.name + ".ids.json")
    ids.write_text(maps.to_json())
    m = manifest or Manifest(stage="gnn.export")
    for t in data.node_types:
        m.counts[f"nodes.{t}"] = int(data[t].num_nodes)
    for et in data.edge_types:
        m.counts[f"edges.{'__'.join(et)}"] = int(data[et].edge_index.shape[1])
    m.write(path)
    return path


def load_graph(path: Path) -> tuple[HeteroData, IdMaps]:
    """Load what :func:`save_graph` wrote."""
    import torch

    ids = path.with_name(path.name + ".ids.json")
    if not path.exists() or not ids.exists():
        raise InputError(
            "graph artifact or its id map is missing; run `cosmo gnn export`", file=str(path)
        )
    data = torch.load(path, weights_only=False)
    return data, IdMaps.from_json(ids.read_text())
