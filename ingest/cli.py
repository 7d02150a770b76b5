"""``cosmo ingest`` and ``cosmo sample``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cosmo.core.clitools import console, settings_of
from cosmo.core.errors import InputError

__all__ = ["register"]


def _show(result: object) -> None:
    from cosmo.ingest.pipeline import IngestResult

    assert isinstance(result, IngestResult)
    table = Table(title="ingest")
    table.add_column("artifact")
    table.add_column("counts")
    for name, counts in result.counts.items():
        table.add_row(name, ", ".join(f"{k}={v}" for k, v in counts.items()))
    console.print(table)
    for e in result.rejects[:10]:
        console.print(f"[yellow]rejected[/] {e}")
    if len(result.rejects) > 10:
        console.print(
            f"[yellow]... {len(result.rejects) - 10} more in {result.paths['rejects']}[/]"
        )
    console.print(f"Wrote {', '.join(str(p) for p in result.paths.values())}")


def ingest(
    ctx: typer.Context,
    catalogue: Annotated[
        Path | None, typer.Argument(help="Catalogue file (CSV, Parquet or JSONL).")
    ] = None,
    search_buy: Annotated[
        Path | None, typer.Option(help="Search-buy file: query, product_id, count.")
    ] = None,
    co_buy: Annotated[
        Path | None, typer.Option(help="Co-buy file: product_a, product_b, count.")
    ] = None,
    intentionqa: Annotated[
        Path | None, typer.Option(help="Read an IntentionQA/FolkScope JSONL instead.")
    ] = None,
    esci: Annotated[
        Path | None, typer.Option(help="Read an ESCI Shopping Queries table instead.")
    ] = None,
    locale: Annotated[str, typer.Option(help="ESCI product_locale to keep ('' keeps all).")] = "us",
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, tsv, parquet or jsonl (default: suffix).")
    ] = None,
    sample: Annotated[bool, typer.Option(help="Ingest the bundled sample.")] = False,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: <artifacts>/ingest).")
    ] = None,
) -> None:
    """Validate behaviour files and write clean Parquet artifacts with manifests.

    Bad rows are reported (file, line, field), counted in the manifests and written to
    rejects.jsonl; the good rows are kept.
    """
    from cosmo.ingest import SAMPLE_DIR
    from cosmo.ingest.adapters import read_esci, read_intentionqa
    from cosmo.ingest.pipeline import ingest_files, write_loaded

    out_dir = out or settings_of(ctx).artifacts_dir / "ingest"
    if intentionqa is not None:
        a = read_intentionqa(intentionqa)
        result = write_loaded(
            out_dir, a.catalogue, co_buy=a.co_buy, params={"adapter": "intentionqa"}
        )
    elif esci is not None:
        a = read_esci(esci, locale=locale or None, fmt=fmt)
        result = write_loaded(
            out_dir,
            a.catalogue,
            search_buy=a.search_buy,
            params={"adapter": "esci", "locale": locale},
        )
    else:
        if sample:
            catalogue = SAMPLE_DIR / "catalogue.csv"
            search_buy, co_buy = SAMPLE_DIR / "search_buy.csv", SAMPLE_DIR / "co_buy.csv"
        if catalogue is None:
            raise InputError("give a catalogue file, --intentionqa, --esci or --sample")
        result = ingest_files(catalogue, out_dir, search_buy=search_buy, co_buy=co_buy, fmt=fmt)
    _show(result)


def sample(
    ctx: typer.Context,
    ingested: Annotated[
        Path | None, typer.Option("--in", help="Folder written by `cosmo ingest`.")
    ] = None,
    n_search_buy: Annotated[int, typer.Option(min=0)] = 100,
    n_co_buy: Annotated[int, typer.Option(min=0)] = 100,
    min_count: Annotated[int, typer.Option(min=1, help="Drop pairs seen fewer times.")] = 1,
    max_specificity: Annotated[
        float | None, typer.Option(help="Drop queries more specific than this (0..1).")
    ] = None,
    max_per_stratum: Annotated[
        int | None, typer.Option(help="Cap per (domain, type) stratum.")
    ] = None,
    random_fill: Annotated[
        bool, typer.Option(help="Fill the budget at random when strata run out.")
    ] = True,
    seed: int = 0,
    out: Annotated[
        Path | None, typer.Option(help="Output Parquet (default: <in>/pairs.parquet).")
    ] = None,
) -> None:
    """Sample behaviour pairs to explain: stratified by domain and type, broad queries first."""
    from cosmo.ingest.pipeline import read_artifacts
    from cosmo.ingest.sampling import SampleConfig, sample_pairs, write_sample

    src = ingested or settings_of(ctx).artifacts_dir / "ingest"
    cat = src / "catalogue.parquet"
    if not cat.is_file():
        raise InputError(f"no catalogue.parquet in {src}; run `cosmo ingest` first")
    sb, cb = src / "search_buy.parquet", src / "co_buy.parquet"
    products, search_buy, co_buy = read_artifacts(
        cat, sb if sb.is_file() else None, cb if cb.is_file() else None
    )
    cfg = SampleConfig(
        n_search_buy=n_search_buy,
        n_co_buy=n_co_buy,
        min_count=min_count,
        max_specificity=max_specificity,
        max_per_stratum=max_per_stratum,
        random_fill=random_fill,
        seed=seed,
    )
    result = sample_pairs(products, search_buy, co_buy, cfg)
    path = write_sample(
        result,
        out or src / "pairs.parquet",
        cfg,
        {"catalogue": cat, "search_buy": sb, "co_buy": cb},
    )
    console.print(", ".join(f"{k}={v}" for k, v in result.counts.items()))
    console.print(f"Wrote {len(result.pairs)} pairs to {path}")


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``sample`` to the root command."""
    app.command("ingest")(ingest)
    app.command("sample")(sample)
