"""``cosmo annotate``: sample items, serve the page, export/import labels, agreement, review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cosmo.core.clitools import console, settings_of

__all__ = ["register"]

annotate_app = typer.Typer(
    help="Human annotation: sample, serve the page, export/import, agreement, adjudicate, audit.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        help="Store file (default <state_dir>/annotation/annotations.sqlite). Env: COSMO_ANNOTATE_DB",
    ),
]


def _store(ctx: typer.Context, db: Path | None):  # type: ignore[no-untyped-def]
    from cosmo.refine.annotation.settings import AnnotationSettings
    from cosmo.refine.annotation.store import AnnotationStore

    s = AnnotationSettings()
    path = db or s.db_path(settings_of(ctx))
    return AnnotationStore(path)


@annotate_app.command("sample")
def sample_cmd(
    ctx: typer.Context,
    candidates: Annotated[
        Path | None, typer.Option(help="candidates.parquet (or .jsonl) from generation")
    ] = None,
    intentionqa: Annotated[
        Path | None, typer.Option(help="Use IntentionQA task1.jsonl as candidates instead")
    ] = None,
    n: Annotated[int, typer.Option("-n", help="How many items to add")] = 200,
    seed: int = 0,
    db: DbOpt = None,
) -> None:
    """Add a weighted sample (tail frequency × head popularity) of candidates to the store."""
    from cosmo.core.artifacts import read_candidates
    from cosmo.core.errors import InputError
    from cosmo.refine.annotation.sampling import weighted_sample
    from cosmo.refine.intentionqa import intentionqa_candidates

    if (candidates is None) == (intentionqa is None):
        raise InputError("give exactly one of --candidates or --intentionqa")
    pool = (
        read_candidates(candidates)
        if candidates
        else intentionqa_candidates(intentionqa, tails="sentence")
    )  # type: ignore[arg-type]
    store = _store(ctx, db)
    added = store.add_items(weighted_sample(pool, n, seed=seed))
    console.print(
        f"added {added} items ({store.count_items()} in {store.path}) from {len(pool)} candidates"
    )


@annotate_app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Default 127.0.0.1 (COSMO_ANNOTATE_HOST)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Default 8770 (COSMO_ANNOTATE_PORT)")] = None,
    db: DbOpt = None,
) -> None:
    """Serve the annotation page at http://HOST:PORT/annotate/ until Ctrl-C."""
    import uvicorn

    from cosmo.refine.annotation.settings import AnnotationSettings
    from cosmo.refine.annotation.web import create_app

    s = AnnotationSettings()
    store = _store(ctx, db)
    h, p = host or s.host, port or s.port
    console.print(
        f"annotation page: http://{h}:{p}/annotate/?annotator=YOUR_ID  (store {store.path})"
    )
    uvicorn.run(create_app(store), host=h, port=p, log_level="warning")


@annotate_app.command("export")
def export_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Output .jsonl or .csv")],
    annotator: Annotated[str | None, typer.Option(help="Only this annotator's labels")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: suffix)")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Write the labels to a JSONL or CSV file (with a manifest)."""
    from cosmo.refine.annotation.io import export_labels

    store = _store(ctx, db)
    out = export_labels(store, path, fmt=fmt, annotator=annotator)
    console.print(f"wrote {len(store.labels(annotator))} labels to {out}")


@annotate_app.command("import")
def import_cmd(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="JSONL or CSV files of labels")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: suffix)")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Import labels; each file is all-or-nothing, every problem is listed."""
    from rich.markup import escape

    from cosmo.refine.annotation.io import AnnotationImportError, import_labels

    store = _store(ctx, db)
    failed = 0
    for p in paths:
        try:
            r = import_labels(store, p, fmt=fmt)
        except AnnotationImportError as e:
            failed += 1
            console.print(f"[red]refused[/] {escape(str(p))}: nothing imported from it")
            console.print(e.describe(), markup=False, highlight=False)
            continue
        console.print(f"{p}: {r.inserted} new labels, {r.unchanged} already stored ({r.rows} rows)")
    if failed:
        raise typer.Exit(1)


@annotate_app.command("agreement")
def agreement_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOpt = None,
) -> None:
    """Kappa per question (Cohen for two annotators, Fleiss for more)."""
    from rich.table import Table

    from cosmo.refine.annotation.agreement import agreement

    res = agreement(_store(ctx, db).labels()).as_dict()
    if as_json:
        console.print_json(json.dumps(res))
        return
    t = Table(
        title=f"{res['method']} kappa over {res['items']} items, annotators {res['annotators']}"
    )
    for c in ("question", "kappa", "% agree", "yes rate"):
        t.add_column(c)
    for q, k in res["kappa"].items():  # type: ignore[union-attr]
        pa, yr = res["percent_agreement"][q], res["yes_rate"][q]  # type: ignore[index]
        t.add_row(q, *(f"{v:.3f}" if v is not None else "-" for v in (k, pa, yr)))
    console.print(t)


@annotate_app.command("adjudicate")
def adjudicate_cmd(
    ctx: typer.Context,
    item: Annotated[
        str | None, typer.Option(help="Decide this item (with --question, --label)")
    ] = None,
    question: Annotated[str | None, typer.Option()] = None,
    label: Annotated[
        bool | None, typer.Option("--label/--no-label", help="The decided answer")
    ] = None,
    adjudicator: Annotated[str, typer.Option(help="Who decides")] = "adjudicator",
    db: DbOpt = None,
) -> None:
    """Resolve disagreements by majority, or record an adjudicator's decision on one."""
    from cosmo.core.errors import InputError
    from cosmo.refine.annotation.review import adjudicate, decide

    store = _store(ctx, db)
    if item is not None:
        if question is None or label is None:
            raise InputError("--item needs --question and --label/--no-label")
        decide(store, item, question, label, adjudicator)
        console.print(f"recorded {adjudicator}'s decision: {item} {question} = {label}")
        return
    rep = adjudicate(store)
    console.print(
        f"{rep.disagreements} disagreements: {rep.resolved_by_majority} resolved by majority, "
        f"{rep.already_decided} decided before, {len(rep.open_ties)} ties need an adjudicator"
    )
    for item_id, q in rep.open_ties[:20]:
        console.print(
            f"  tie: {item_id} {q}  → cosmo annotate adjudicate --item {item_id} --question {q} --label"
        )


@annotate_app.command("audit")
def audit_cmd(
    ctx: typer.Context,
    reviewer: Annotated[str | None, typer.Option(help="Who takes the second look")] = None,
    fraction: Annotated[float, typer.Option(help="Share of labelled items to re-check")] = 0.1,
    seed: int = 0,
    db: DbOpt = None,
) -> None:
    """Queue a sample of labelled items for a second look, or (no --reviewer) report audits."""
    from cosmo.refine.annotation.review import audit_report, sample_audit

    store = _store(ctx, db)
    if reviewer:
        chosen = sample_audit(store, fraction, reviewer, seed=seed)
        console.print(f"queued {len(chosen)} items for {reviewer}: they come first on the page")
    else:
        console.print_json(json.dumps(audit_report(store)))


def register(app: typer.Typer) -> None:
    """Add ``cosmo annotate`` to the root app."""
    app.add_typer(annotate_app, name="annotate")
