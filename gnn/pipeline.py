"""The GNN steps as functions the CLI and the demo share: export, train, embed.

Artifacts (each with a ``.manifest.json`` written last)::

    <out>/graph.pt            HeteroData (+ graph.pt.ids.json: the id maps)
    <out>/sage.pt             GraphSAGE weights, config and metadata
    <out>/embeddings.parquet  node_type, id, embedding
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosmo.core.manifest import Manifest

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from cosmo.core.embeddings import Embedder
    from cosmo.gnn.data import IdMaps
    from cosmo.gnn.embed import TrainConfig, TrainReport
    from cosmo.gnn.sage import HeteroSAGE
    from cosmo.kg.export import KGTables
    from cosmo.kg.store import GraphStore

__all__ = ["export_graph", "load_model", "save_model", "train_and_embed"]


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


def save_model(model: HeteroSAGE, config: TrainConfig, report: TrainReport, path: Path) -> Path:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pt.tmp")
    torch.save(
        {
            "state_dict": model.state_dict(),
            "config": asdict(config),
            "metadata": (model.node_types, model.edge_types),
            "in_channels": model.skips[0][model.node_types[0]].in_features,  # type: ignore[index]
        },
        tmp,
    )
    tmp.replace(path)
    m = Manifest(stage="gnn.train", parameters=asdict(config))
    m.notes.update(
        {
            "val_auc": report.val_auc,
            "seconds_per_epoch": report.seconds_per_epoch,
            "first_loss": report.losses[0] if report.losses else None,
            "last_loss": report.losses[-1] if report.losses else None,
        }
    )
    m.counts.update(report.supervised_edges)
    m.write(path)
    return path


def load_model(path: Path) -> HeteroSAGE:
    """Load what :func:`save_model` wrote."""
    import torch

    from cosmo.core.errors import InputError
    from cosmo.gnn.sage import HeteroSAGE

    if not path.exists():
        raise InputError("model not found; run `cosmo gnn train` first", file=str(path))
    blob: dict[str, Any] = torch.load(path, weights_only=False)
    cfg = blob["config"]
    model = HeteroSAGE(
        blob["metadata"],
        blob["in_channels"],
        cfg["hidden"],
        cfg["out"],
        cfg["layers"],
        cfg["dropout"],
    )
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def train_and_embed(
    data: HeteroData,
    maps: IdMaps,
    out: Path,
    *,
    config: TrainConfig | None = None,
    store: GraphStore | None = None,
    progress: bool = False,
) -> tuple[TrainReport, Path, int]:
    """Train GraphSAGE, save it and the embeddings Parquet; write product vectors back.

    Returns the training report, the Parquet path and how many products got a vector in
    the store (0 without a store).
    """
    from cosmo.gnn.embed import (
        TrainConfig,
        embed_nodes,
        train_link_prediction,
        write_embeddings_parquet,
    )
    from cosmo.gnn.vectors import write_embeddings

    cfg = config or TrainConfig()
    model, report = train_link_prediction(data, cfg, progress=progress)
    save_model(model, cfg, report, out / "sage.pt")
    emb = embed_nodes(model, data)
    m = Manifest(stage="gnn.embed", parameters={"dim": cfg.out, "val_auc": report.val_auc})
    m.add_input("model", out / "sage.pt")
    path = write_embeddings_parquet(emb, maps, out / "embeddings.parquet", manifest=m)
    written = 0
    if store is not None and len(maps.ids.get("product", [])):
        written = write_embeddings(store, maps.ids["product"], emb["product"])
    return report, path, written
