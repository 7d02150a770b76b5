"""The GNN steps as functions the CLI and the demo share: export, train, embed.

Artifacts (each with a ``.manifest.json`` written last)::

    <out>/graph.pt            HeteroData (+ graph.pt.ids.json: the id maps)
    <out>/sage.pt             GraphSAGE weights, config and metadata
    <out>/embeddings.parquet  node_type, id, embedding
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cosmo.core.manifest import Manifest

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from cosmo.core.embeddings import Embedder
    from cosmo.gnn.data import IdMaps
    from cosmo.gnn.embed import TrainConfig, TrainReport
    from cosmo.kg.export import KGTables
    from cosmo.kg.store import GraphStore

__all__ = ["export_graph", "train_and_embed"]


def export_graph(
    tables: KGTables, embedder: Embedder, out: Path, *, source: str = "graph store"
) -> tuple[HeteroData, IdMaps, Path]:
    """Build the ``HeteroData`` with text features and save it with its id maps."""
    from cosmo.gnn.data import build_hetero, save_graph

    m = Manifest(stage="gnn.export", parameters={"source": source, "embedder_dim": embedder.dim})
    for name, n in tables.counts().items():
        m.count(f"table.{name}", n)
    data, maps = build_hetero(tables, embedder)
    path = save_graph(data, maps, out / "graph.pt", manifest=m)
    return data, maps, path


def train_and_embed(
    data: HeteroData,
    maps: IdMaps,
    out: Path,
    *,
    config: TrainConfig | None = None,
    store: GraphStore | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> tuple[TrainReport, Path, int]:
    """Train GraphSAGE, save it and the embeddings Parquet; write product vectors back.

    ``workers`` trains under Ray Train with that many DDP processes (Ray initialised or
    reachable). Returns the training report, the Parquet path and how many products got a
    vector in the store (0 without a store).
    """
    from cosmo.gnn.embed import (
        TrainConfig,
        embed_nodes,
        load_model,
        save_model,
        train_link_prediction,
        write_embeddings_parquet,
    )
    from cosmo.gnn.vectors import write_embeddings

    cfg = config or TrainConfig()
    if workers is None:
        model, report = train_link_prediction(data, cfg, progress=progress)
        save_model(model, cfg, report, out / "sage.pt")
    else:
        from cosmo.gnn.sage_ddp import train_link_prediction_ddp

        report = train_link_prediction_ddp(data, cfg, workers=workers, checkpoint=out / "sage.pt")
        model = load_model(out / "sage.pt")
    emb = embed_nodes(model, data)
    m = Manifest(stage="gnn.embed", parameters={"dim": cfg.out, "val_auc": report.val_auc})
    m.add_input("model", out / "sage.pt")
    path = write_embeddings_parquet(emb, maps, out / "embeddings.parquet", manifest=m)
    written = 0
    if store is not None and len(maps.ids.get("product", [])):
        written = write_embeddings(store, maps.ids["product"], emb["product"])
    return report, path, written
