"""``cosmo generate``, ``cosmo generate import`` and ``cosmo generate import-folkscope``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cosmo.core.clitools import console, settings_of
from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest

__all__ = ["register"]

generate_app = typer.Typer(
    help="Generate candidate knowledge with an LLM, or import candidates made elsewhere."
)


@generate_app.callback(invoke_without_command=True)
def generate(
    ctx: typer.Context,
    pairs: Annotated[Path | None, typer.Option(help="pairs.parquet from `cosmo sample`.")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output (default <artifacts>/generation/candidates.parquet)."),
    ] = None,
    backend: Annotated[
        str | None, typer.Option(help="hf (default), vllm or openai. Env: COSMO_GEN_BACKEND")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model alias, Hugging Face name or folder.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server URL (openai backend).")
    ] = None,
    relations: Annotated[
        str | None, typer.Option(help="Comma-separated relations (default: all 15).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N pairs.")] = None,
    shots: Annotated[
        int | None, typer.Option(min=0, max=3, help="Few-shot examples per prompt.")
    ] = None,
    max_new_tokens: Annotated[int | None, typer.Option(min=1)] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    template_version: Annotated[
        str | None, typer.Option(help="Prompt templates (v1 or a JSON path).")
    ] = None,
    run_id: Annotated[
        str, typer.Option(help="pipeline_run recorded on every candidate.")
    ] = "generate",
) -> None:
    """Ask the model every relation for every sampled pair; write candidates.parquet.

    Completions are cached under the cache folder, keyed by template version, model,
    parameters and prompt: a rerun generates nothing again and a crashed run resumes.
    """
    if ctx.invoked_subcommand is not None:
        return
    from cosmo.generation.settings import GenerationSettings

    overrides = {
        "backend": backend,
        "model": model,
        "base_url": base_url,
        "shots": shots,
        "max_new_tokens": max_new_tokens,
        "batch_size": batch_size,
        "seed": seed,
        "template_version": template_version,
    }
    gs = GenerationSettings(**{k: v for k, v in overrides.items() if v is not None})
    _generate(settings_of(ctx), gs, pairs, out, relations=relations, limit=limit, run_id=run_id)


def _generate(
    settings: Any,
    gs: Any,
    pairs: Path | None,
    out: Path | None,
    *,
    relations: str | None,
    limit: int | None,
    run_id: str,
) -> None:
    from cosmo.core.artifacts import read_pairs, write_candidates
    from cosmo.core.schema import RELATIONS, relation_type
    from cosmo.generation.backends import make_generator
    from cosmo.generation.cache import GenerationCache
    from cosmo.generation.runner import GenerateConfig, run_generation

    src = pairs or settings.artifacts_dir / "ingest" / "pairs.parquet"
    if not src.is_file():
        raise InputError(f"no pairs file at {src}; run `cosmo ingest` and `cosmo sample` first")
    todo = read_pairs(src)[:limit] if limit else read_pairs(src)
    rels = tuple(relation_type(r) for r in relations.split(",")) if relations else RELATIONS
    cfg = GenerateConfig(
        relations=rels,
        shots=gs.shots,
        template_version=gs.template_version,
        params=gs.params(),
        batch_size=gs.batch_size if gs.backend == "hf" else max(gs.batch_size, 64),
        pipeline_run=run_id,
    )
    generator = make_generator(gs, settings.cache_dir)
    with GenerationCache(settings.cache_dir / "generation.sqlite") as cache:
        report = run_generation(todo, generator, cache, cfg, console=console)
    target = out or settings.artifacts_dir / "generation" / "candidates.parquet"
    params = {**gs.model_dump(exclude={"api_key"}), "relations": list(rels), "pairs": len(todo)}
    manifest = Manifest.for_stage(
        "generate",
        parameters=params,
        inputs={"pairs": src},
        counts=report.counts,
        notes=report.notes,
    )
    path = write_candidates(report.candidates, target, manifest)
    console.print(", ".join(f"{k}={v}" for k, v in report.counts.items()))
    console.print(
        f"copy rate {report.notes['copy_rate']:.1%} of parsed tails; "
        f"{report.notes.get('tokens_per_second') or 0:.1f} tok/s. Wrote {path}"
    )


@generate_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="Candidates in the import format (CSV, Parquet, JSONL).")
    ],
    out: Annotated[Path | None, typer.Option(help="Output Parquet.")] = None,
    fmt: Annotated[str | None, typer.Option("--format")] = None,
    run_id: str = "import",
) -> None:
    """Import candidates generated elsewhere (format: see cosmo.generation.importer)."""
    from cosmo.core.artifacts import write_candidates
    from cosmo.generation.importer import import_candidates

    res = import_candidates(path, pipeline_run=run_id, fmt=fmt)
    for e in res.rejects[:10]:
        console.print(f"[yellow]rejected[/] {e}")
    target = out or settings_of(ctx).artifacts_dir / "generation" / "imported.parquet"
    counts = {
        "candidates": len(res.candidates),
        "rejected": len(res.rejects),
        "duplicates": res.duplicates,
    }
    manifest = Manifest.for_stage(
        "generate.import",
        parameters={"format": fmt or "auto"},
        inputs={"candidates": path},
        counts=counts,
    )
    write_candidates(res.candidates, target, manifest)
    console.print(
        f"Imported {len(res.candidates)} candidates ({len(res.rejects)} rejected) into {target}"
    )


@generate_app.command("import-folkscope")
def import_folkscope(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="IntentionQA/FolkScope JSONL (e.g. task1.jsonl).")],
    out: Annotated[Path | None, typer.Option(help="Output Parquet.")] = None,
    run_id: str = "folkscope-import",
) -> None:
    """Import FolkScope/IntentionQA assertions as candidates, mapped to the 15 relations."""
    from cosmo.core.artifacts import write_candidates
    from cosmo.generation.folkscope import import_intentionqa

    res = import_intentionqa(path, pipeline_run=run_id)
    table = Table(title="FolkScope assertions → COSMO relations")
    table.add_column("relation")
    table.add_column("assertions", justify="right")
    for rel, n in res.table():
        table.add_row(rel, str(n))
    console.print(table)
    target = out or settings_of(ctx).artifacts_dir / "generation" / "folkscope.parquet"
    counts = {
        "candidates": len(res.candidates),
        "unmapped": res.unmapped,
        "duplicates": res.duplicates,
        "rejected": len(res.rejects),
    }
    manifest = Manifest.for_stage(
        "generate.import_folkscope",
        parameters={"run_id": run_id},
        inputs={"assertions": path},
        counts=counts,
        notes={"by_relation": dict(res.table()), "by_rule": dict(res.by_rule)},
    )
    write_candidates(res.candidates, target, manifest)
    console.print(
        f"Imported {len(res.candidates)} candidates, {res.unmapped} assertions unmapped → {target}"
    )


def register(app: typer.Typer) -> None:
    """Add ``generate`` (with its import subcommands) to the root command."""
    app.add_typer(generate_app, name="generate")
