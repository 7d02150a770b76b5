"""The ingest commands and the demo stage, run for real on the bundled sample and shared data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from typer.testing import CliRunner

from cosmo.cli import app
from cosmo.core.demo import DemoContext
from cosmo.core.manifest import read_manifest
from cosmo.core.settings import Settings
from cosmo.ingest.adapters import read_esci, read_intentionqa


def test_cli_ingest_and_sample(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "ing"
    r = runner.invoke(app, ["--state-dir", str(tmp_path), "ingest", "--sample", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "catalogue.parquet").is_file() and (out / "rejects.jsonl").is_file()
    r = runner.invoke(
        app,
        [
            "--state-dir",
            str(tmp_path),
            "sample",
            "--in",
            str(out),
            "--n-search-buy",
            "10",
            "--n-co-buy",
            "5",
        ],
    )
    assert r.exit_code == 0, r.output
    pairs = pd.read_parquet(out / "pairs.parquet")
    assert (pairs.behaviour == "search_buy").sum() == 10 and (
        pairs.behaviour == "co_buy"
    ).sum() == 5
    man = read_manifest(out / "pairs.parquet")
    assert man["counts"]["pairs"] == 15 and man["notes"]["strata"]


def test_cli_reports_bad_input_as_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "cat.csv"
    bad.write_text("id_only\nx\n")
    r = CliRunner().invoke(app, ["ingest", str(bad), "--out", str(tmp_path / "o")])
    assert r.exit_code != 0
    assert "missing required column" in str(r.exception)


def test_intentionqa_adapter_on_shared_data(shared_data: Path) -> None:
    a = read_intentionqa(shared_data / "intentionqa" / "task1.jsonl")
    assert a.co_buy is not None and not a.catalogue.rejects
    assert len(a.co_buy.records) > 900 and len(a.catalogue.records) > 1500
    titles = {p.product_id: p.title for p in a.catalogue.records}
    assert titles["B00000J1U8"].startswith("Belkin USB")
    assert all(c.product_a < c.product_b for c in a.co_buy.records)
    assert not any("&amp;" in t for t in titles.values())  # HTML entities are decoded


def test_esci_adapter_keeps_exact_pairs(tmp_path: Path) -> None:
    path = tmp_path / "esci.csv"
    path.write_text(
        "query,product_id,product_title,esci_label,product_locale\n"
        "tent for 4,B1,Dome tent 4 person,E,us\n"
        "tent for 4,B2,Tent stakes,C,us\n"
        "Tent  for 4,B1,Dome tent 4 person,Exact,us\n"
        "zelt,B3,Kuppelzelt,E,de\n"
        "tent,B4,,E,us\n"
    )
    a = read_esci(path)
    assert a.search_buy is not None
    (sb,) = a.search_buy.records
    assert (sb.product_id, sb.count) == ("B1", 2)
    assert {p.product_id for p in a.catalogue.records} == {"B1", "B2"}
    (err,) = a.catalogue.rejects
    assert (err.line, err.field) == (6, "product_title")
    assert a.catalogue.counts["other_locale"] == 1


def test_demo_stage(tmp_path: Path, shared_data: Path) -> None:
    from cosmo.ingest import demo

    ctx = DemoContext(
        settings=Settings(state_dir=tmp_path),
        store=None,  # type: ignore[arg-type]  # the ingest stage does not touch the graph
        workdir=tmp_path,
        console=Console(quiet=True),
        shared_data=shared_data,
    )
    demo.run(ctx)
    assert set(ctx.artifacts) == {"catalogue", "search_buy", "co_buy", "pairs"}
    pairs = pd.read_parquet(ctx.artifacts["pairs"])
    assert set(pairs.behaviour) == {"search_buy", "co_buy"}
    assert pairs.target_title.notna().all()
    assert len(pd.read_parquet(ctx.artifacts["catalogue"])) > 44  # sample + IntentionQA products
