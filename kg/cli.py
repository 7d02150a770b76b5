"""``cosmo kg ...``: load, inspect, version and export the knowledge graph."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cosmo.core.clitools import console, settings_of

__all__ = ["register"]

kg_app = typer.Typer(
    help="Load, inspect, version and export the knowledge graph.", no_args_is_help=True
)


def _store(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from cosmo.kg.factory import open_store

    return open_store(settings_of(ctx))


@kg_app.command("setup")
def setup(
    ctx: typer.Context,
    embedding_dim: Annotated[int, typer.Option(help="Vector index size (0: none)")] = 384,
) -> None:
    """Create constraints and indexes (idempotent)."""
    stmts = _store(ctx).setup(embedding_dim=embedding_dim or None)
    console.print(f"[green]✓[/] {len(stmts)} setup statements applied")


@kg_app.command("load")
def load(
    ctx: typer.Context,
    triples: Annotated[Path, typer.Argument(help="Refined triples: .parquet, .csv or .jsonl")],
    batch_size: Annotated[
        int | None, typer.Option(help="Rows per UNWIND batch (default COSMO_BATCH_SIZE)")
    ] = None,
    max_rejected: Annotated[
        float, typer.Option(help="Refuse the file if more than this fraction of rows is bad")
    ] = 0.5,
    bulk: Annotated[
        bool, typer.Option(help="Use FalkorDB's bulk path when the graph is empty")
    ] = True,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows here (JSONL)")] = None,
    match_intentions: Annotated[
        bool | None,
        typer.Option(
            help="Join paraphrases of earlier intentions (default COSMO_INTENTION_MATCH_ENABLED)"
        ),
    ] = None,
) -> None:
    """Validate and load refined triples; idempotent, resumable after a crash."""
    from cosmo.kg.loader import load_triples_file

    settings = settings_of(ctx)
    store = _store(ctx)
    store.setup(embedding_dim=384)
    size = batch_size or settings.batch_size
    matcher = _matcher(match_intentions)
    if bulk and store.backend == "falkordb":
        from cosmo.kg.bulk import bulk_load_if_empty

        with _refused(rejects):
            report = bulk_load_if_empty(
                store, triples, settings=settings, max_rejected=max_rejected
            )
        if report is not None:
            _print_report(report, rejects)
            if settings.falkordb_replicas.strip():  # a first build must reach every replica
                from cosmo.kg.replicas import check_replicas_of

                check_replicas_of(settings, store, say=console.print)
            return
    with (
        Progress(
            TextColumn("[bold]loading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as bar,
        _refused(rejects),
    ):
        task = bar.add_task("load", total=None)
        report = load_triples_file(
            store,
            triples,
            batch_size=size,
            max_rejected=max_rejected,
            progress=lambda n: bar.advance(task, n),
            on_total=lambda t: bar.update(task, total=t),
            matcher=matcher,
        )
    _print_report(report, rejects)


def _matcher(enabled: bool | None):  # type: ignore[no-untyped-def]
    """The intention matcher the settings ask for (MiniLM, loaded on first use), or None."""
    from cosmo.kg.intentions import IntentionMatcher
    from cosmo.kg.settings import IntentionMatchSettings

    conf = IntentionMatchSettings()
    if not (conf.enabled if enabled is None else enabled):
        return None
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    return IntentionMatcher(SentenceTransformerEmbedder(), threshold=conf.threshold)


def _write_rejects(errors, path: Path) -> None:  # type: ignore[no-untyped-def]
    with open(path, "w", encoding="utf-8") as f:
        for e in errors:
            rec = {"file": e.file, "line": e.line, "field": e.field, "message": e.message}
            f.write(json.dumps(rec) + "\n")


@contextlib.contextmanager
def _refused(rejects: Path | None) -> Iterator[None]:
    """A file refused whole still lists every bad row in ``--rejects`` and says how many."""
    from cosmo.kg.validate import RejectedFile

    try:
        yield
    except RejectedFile as e:
        if rejects:
            _write_rejects(e.errors, rejects)
            console.print(f"{len(e.errors)} rejected rows listed in {rejects}")
        else:
            console.print(f"{len(e.errors)} rows rejected; add --rejects FILE to list them all")
        raise


def _print_report(report, rejects: Path | None) -> None:  # type: ignore[no-untyped-def]
    w = report.written
    resumed = f", resumed at batch {report.resumed_from}" if report.resumed_from else ""
    console.print(
        f"[green]✓[/] run {report.run_id} (version {report.seq}{resumed}): {report.loaded_rows} of {report.rows} rows "
        f"loaded in {report.seconds:.1f} s; nodes +{w.nodes_created}, relationships +{w.relationships_created}"
        + (f", aliases +{report.aliases_added}" if getattr(report, "aliases_added", 0) else "")
    )
    d = report.derived
    if d.queries:
        console.print(
            f"derived query intentions ({d.queries} queries affected): +{d.added}, "
            f"{d.kept} kept, -{d.removed}"
        )
    if report.errors:
        console.print(f"[yellow]{len(report.errors)} rows rejected[/] (not loaded):")
        for e in report.errors[:10]:
            console.print(f"  {e}")
        if len(report.errors) > 10:
            console.print(f"  ... and {len(report.errors) - 10} more")
        if rejects:
            _write_rejects(report.errors, rejects)
            console.print(f"  all rejected rows listed in {rejects}")


@kg_app.command("stats")
def stats(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts per label and per relation."""
    from cosmo.kg.versions import graph_stats

    s = graph_stats(_store(ctx))
    if as_json:
        console.print_json(json.dumps(s))
        return
    t = Table(title="knowledge graph")
    t.add_column("kind")
    t.add_column("name")
    t.add_column("count", justify="right")
    for kind, d in (("node", s["nodes"]), ("relationship", s["relationships"])):
        for k, v in d.items():
            t.add_row(kind, k, f"{v:,}")
    console.print(t)


@kg_app.command("versions")
def versions(ctx: typer.Context) -> None:
    """List load runs (each is a version of the graph)."""
    from cosmo.kg.versions import list_runs

    t = Table(title="KG versions")
    for c in ("seq", "run", "status", "rows loaded", "rejected", "nodes +", "rels +", "started"):
        t.add_column(c)
    for r in list_runs(_store(ctx)):
        t.add_row(
            str(r.seq),
            r.id,
            r.status,
            str(r.loaded),
            str(r.rejected),
            str(r.counts.nodes_created),
            str(r.counts.relationships_created),
            r.started_at or "",
        )
    console.print(t)


@kg_app.command("diff")
def diff(ctx: typer.Context, a: str, b: str) -> None:
    """Knowledge edges added between versions A and B (run ids or sequence numbers)."""
    from cosmo.kg.versions import diff_runs

    console.print_json(json.dumps(diff_runs(_store(ctx), a, b), default=str))


@kg_app.command("rollback")
def rollback(ctx: typer.Context, run: str) -> None:
    """Remove what a run added (its new edges, and nodes nothing else uses)."""
    from cosmo.kg.versions import rollback_run

    s = rollback_run(_store(ctx), run)
    console.print(
        f"[green]✓[/] rolled back {run}: {s.relationships_deleted} relationships, {s.nodes_deleted} nodes removed"
    )


@kg_app.command("export")
def export(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(help="Folder for the Parquet files")],
) -> None:
    """Write nodes and edges to Parquet (for the GNN and for users)."""
    from cosmo.kg.export import export_graph

    for name, p in export_graph(_store(ctx), out_dir).items():
        console.print(f"  {name:<11} {p}")


@kg_app.command("neo4j-import")
def neo4j_import(
    ctx: typer.Context,
    triples: Annotated[Path, typer.Argument(help="Refined triples: .parquet, .csv or .jsonl")],
    overwrite: Annotated[
        bool, typer.Option(help="Replace a Neo4j database that already holds nodes")
    ] = False,
    max_rejected: Annotated[
        float, typer.Option(help="Refuse the file if more than this fraction of rows is bad")
    ] = 0.5,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows here (JSONL)")] = None,
) -> None:
    """First build of the Neo4j database with neo4j-admin import (stops and restarts the server)."""
    from cosmo.kg.neo4j_import import neo4j_first_build
    from cosmo.kg.neo4j_server import Neo4jServer

    server = Neo4jServer(settings_of(ctx))
    with _refused(rejects):
        report = neo4j_first_build(
            server, triples, overwrite=overwrite, max_rejected=max_rejected, say=console.print
        )
    _print_report(report, rejects)


def register(app: typer.Typer) -> None:
    app.add_typer(kg_app, name="kg")
