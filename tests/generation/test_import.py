"""Importing candidates: FolkScope/IntentionQA assertions and the documented import format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from cosmo.cli import app
from cosmo.core.manifest import read_manifest
from cosmo.core.schema import RELATIONS
from cosmo.generation.folkscope import import_intentionqa
from cosmo.generation.importer import import_candidates


def test_import_shared_intentionqa(shared_data: Path) -> None:
    res = import_intentionqa(shared_data / "intentionqa" / "task1.jsonl")
    table = dict(res.table())
    assert set(table) == {*RELATIONS, "(none)"}
    assert sum(table.values()) == 1626  # every assertion counted once
    assert len(res.candidates) == sum(table.values()) - res.unmapped - res.duplicates
    assert res.unmapped / 1626 < 0.2
    assert sum(1 for n in table.values() if n > 0) >= 12  # most relations are represented
    c = res.candidates[0]
    assert (
        c.origin == "folkscope"
        and c.reference_score is not None
        and 0.6 <= c.reference_score <= 1.0
    )
    assert c.raw_output.startswith("PersonX bought") and c.source_title and c.target_title


def test_import_format_keeps_good_rows(tmp_path: Path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text(
        "behaviour,source,target,relation,tail,model,reference_score\n"
        "search_buy,camping gear,T1,used_in_loc,a campsite,llama-70b,0.9\n"
        "co_buy,A,B,NOT_A_RELATION,x,m,\n"
        "co_buy,A,B,USED_BY,,m,\n"
        "co_buy,A,B,USED_BY,hikers,m,1.7\n"
        "shopping,A,B,USED_BY,hikers,m,\n"
        "co_buy,A,B,USED_BY,hikers,m,\n"
        "co_buy,A,B,USED_BY,Hikers,m,\n"
    )
    res = import_candidates(path)
    assert [(c.relation, c.tail) for c in res.candidates] == [
        ("USED_IN_LOC", "a campsite"),
        ("USED_BY", "hikers"),
    ]
    assert sorted((e.line, e.field) for e in res.rejects) == [
        (3, "relation"),
        (4, "tail"),
        (5, "reference_score"),
        (6, "behaviour"),
    ]
    assert res.duplicates == 1
    assert res.candidates[0].origin == "imported" and res.candidates[0].model == "llama-70b"


def test_cli_import_folkscope(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "folk.parquet"
    r = CliRunner().invoke(
        app,
        [
            "--state-dir",
            str(tmp_path),
            "generate",
            "import-folkscope",
            str(shared_data / "intentionqa" / "task1.jsonl"),
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "xWANT" in r.output
    df = pd.read_parquet(out)
    man = read_manifest(out)
    assert len(df) == man["counts"]["candidates"] and set(df.origin) == {"folkscope"}
    assert man["notes"]["by_relation"]["(none)"] == man["counts"]["unmapped"]


def test_cli_generate_without_pairs_is_a_clear_error(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["--state-dir", str(tmp_path), "generate"])
    assert r.exit_code != 0
    assert "run `cosmo ingest`" in str(r.exception)
