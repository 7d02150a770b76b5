"""``cosmo gnn ...``: graph export, GraphSAGE training, embeddings, nearest products."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cosmo.core.clitools import console, settings_of

__all__ = ["gnn_app", "register"]

gnn_app = typer.Typer(
    help="Graph learning on the knowledge graph (PyTorch Geometric).", no_args_is_help=True
)

_OUT = typer.Option(help="Artifact folder (default: <state>/artifacts/gnn)")
_WORKERS = typer.Option(
    min=1, help="DDP workers on Ray Train (the cluster of COSMO_PIPELINE_*; default: in process)"
)
_FROM = typer.Option(
    "--from-export", help="Read a `cosmo kg export` folder instead of the graph store"
)


def _out(ctx: typer.Context, out: Path | None) -> Path:
    return out or settings_of(ctx).artifacts_dir / "gnn"


def _tables(ctx: typer.Context, from_export: Path | None):  # type: ignore[no-untyped-def]
    from cosmo.kg.export import read_export, read_store

    if from_export is not None:
        return read_export(from_export), str(from_export)
    from cosmo.kg.factory import open_store

    store = open_store(settings_of(ctx))
    try:
        return read_store(store), "graph store"
    finally:
        store.close()


@gnn_app.command("export")
def export(
    ctx: typer.Context,
    out: Annotated[Path | None, _OUT] = None,
    from_export: Annotated[Path | None, _FROM] = None,
    model: Annotated[
        str | None, typer.Option(help="Sentence-transformers model (default: packaged MiniLM)")
    ] = None,
) -> None:
    """Build the PyG graph (MiniLM text features, id maps) and save it as graph.pt."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.gnn.pipeline import export_graph

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tables, source = _tables(ctx, from_export)
    data, _, path = export_graph(
        tables, SentenceTransformerEmbedder(model), _out(ctx, out), source=source
    )
    console.print(
        f"[green]✓[/] {path}: " + ", ".join(f"{t} {data[t].num_nodes}" for t in data.node_types)
    )


def _train(
    ctx: typer.Context,
    out: Path | None,
    epochs: int,
    dim: int,
    write_back: bool,
    workers: int | None = None,
) -> None:
    from contextlib import nullcontext

    from cosmo.gnn.data import load_graph
    from cosmo.gnn.embed import TrainConfig
    from cosmo.gnn.pipeline import train_and_embed

    folder = _out(ctx, out)
    data, maps = load_graph(folder / "graph.pt")
    store = None
    if write_back:
        from cosmo.kg.factory import open_store

        store = open_store(settings_of(ctx))
    if workers is not None:
        from cosmo.gnn.ray_train import ray_from_settings
    try:
        with ray_from_settings() if workers is not None else nullcontext():
            report, path, written = train_and_embed(
                data,
                maps,
                folder,
                config=TrainConfig(epochs=epochs, out=dim),
                store=store,
                progress=True,
                workers=workers,
            )
    finally:
        if store is not None:
            store.close()
    console.print(
        f"[green]✓[/] GraphSAGE: loss {report.losses[0]:.3f} → {report.losses[-1]:.3f}, "
        f"held-out link AUC {report.val_auc:.3f}, {report.seconds_per_epoch:.2f} s/epoch"
    )
    console.print(
        f"[green]✓[/] embeddings: {path}"
        + (f"; {written} products written back" if write_back else "")
        + (f" ({workers} DDP workers on Ray Train)" if workers else "")
    )


@gnn_app.command("train")
def train(
    ctx: typer.Context,
    out: Annotated[Path | None, _OUT] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 50,
    dim: Annotated[int, typer.Option(min=2, help="Embedding size")] = 64,
    workers: Annotated[int | None, _WORKERS] = None,
) -> None:
    """Train GraphSAGE by link prediction on graph.pt; saves sage.pt and embeddings.parquet."""
    _train(ctx, out, epochs, dim, write_back=False, workers=workers)


@gnn_app.command("embed")
def embed(
    ctx: typer.Context,
    out: Annotated[Path | None, _OUT] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 50,
    dim: Annotated[int, typer.Option(min=2, help="Embedding size")] = 64,
    workers: Annotated[int | None, _WORKERS] = None,
) -> None:
    """Train, then write product embeddings back to the graph with a vector index."""
    _train(ctx, out, epochs, dim, write_back=True, workers=workers)


@gnn_app.command("similar")
def similar_cmd(
    ctx: typer.Context, product_id: str, k: Annotated[int, typer.Option(min=1)] = 10
) -> None:
    """Products nearest to PRODUCT_ID by the vector index."""
    from cosmo.gnn.vectors import similar
    from cosmo.kg.factory import open_store

    store = open_store(settings_of(ctx))
    try:
        rows = similar(store, product_id, k)
    finally:
        store.close()
    table = Table("id", "title", "score")
    for r in rows:
        table.add_row(str(r["id"]), str(r["title"] or "")[:80], f"{r['score']:.3f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``cosmo gnn`` (and the session-recommendation commands when installed)."""
    try:
        session_cli = importlib.import_module("cosmo.gnn.session.cli")
    except ModuleNotFoundError as e:
        if e.name not in ("cosmo.gnn.session.cli", "cosmo.gnn.session"):
            raise
    else:
        session_cli.register(gnn_app)
    app.add_typer(gnn_app, name="gnn")
