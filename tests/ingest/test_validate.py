"""Bad input: every reject names file, line and field; good rows survive; manifests count rejects."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.errors import InputError
from cosmo.core.manifest import read_manifest
from cosmo.ingest import SAMPLE_DIR
from cosmo.ingest.pipeline import ingest_files
from cosmo.ingest.validate import load_catalogue, load_co_buy, load_search_buy

CATALOGUE = (
    "product_id,title,product_type,domain\n"
    "P1,Trail running shoes,shoes,Sports\n"
    "P2,Insulated water bottle,bottle,Sports\n"
    "P3,   ,tent,Sports\n"  # empty title (line 4)
    "P4,Baby wipes,wipes,Baby\n"
)


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    p = tmp / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def test_empty_title_is_rejected_with_line_and_field(tmp_path: Path) -> None:
    got = load_catalogue(_write(tmp_path, "cat.csv", CATALOGUE))
    assert [p.product_id for p in got.records] == ["P1", "P2", "P4"]
    (err,) = got.rejects
    assert (err.line, err.field) == (4, "title")
    assert "cat.csv" in str(err) and "title is empty" in str(err)
    assert got.counts["rejected"] == 1


def test_missing_column_names_what_is_missing_and_what_was_found(tmp_path: Path) -> None:
    path = _write(tmp_path, "cat.csv", "product_id,name_of_thing\nP1,x\n")
    with pytest.raises(InputError) as e:
        load_catalogue(path)
    assert e.value.field == "title"
    assert "missing required column" in str(e.value) and "name_of_thing" in str(e.value)


def test_non_utf8_line_is_rejected_and_other_rows_kept(tmp_path: Path) -> None:
    data = CATALOGUE.encode().replace(b"Baby wipes", b"B\xe9b\xe9 wipes")  # latin-1 bytes, line 5
    got = load_catalogue(_write(tmp_path, "cat.csv", data))
    assert [p.product_id for p in got.records] == ["P1", "P2"]
    lines = sorted(e.line for e in got.rejects if e.line is not None)
    assert lines == [4, 5]
    assert any("not UTF-8" in str(e) for e in got.rejects)


def test_malformed_csv_row_and_bad_count(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sb.csv",
        "query,product_id,count\nrunning gear,P1,3\nbroken row with,too,many,fields\n"
        "hydration,P2,zero\nRunning  Gear ,P1,2\n",
    )
    got = load_search_buy(path, {"P1", "P2"})
    by_line = {e.line: e for e in got.rejects}
    assert set(by_line) == {3, 4}
    assert "malformed row" in str(by_line[3])
    assert by_line[4].field == "count"
    # "Running  Gear " and "running gear" are the same query: counts add up
    (rec,) = got.records
    assert (rec.query, rec.product_id, rec.count) == ("running gear", "P1", 5)
    assert got.counts["rows_merged"] == 1


def test_unknown_product_ids_in_behaviour_rows(tmp_path: Path) -> None:
    sb = _write(
        tmp_path,
        "sb.jsonl",
        '{"query": "tents", "product_id": "P1"}\n{"query": "tents", "product_id": "NOPE"}\n',
    )
    got = load_search_buy(sb, {"P1"})
    assert len(got.records) == 1
    (err,) = got.rejects
    assert (err.line, err.field) == (2, "product_id") and "NOPE" in str(err)
    cb = _write(
        tmp_path, "cb.csv", "product_a,product_b,count\nP2,P1,2\nP1,P2,1\nP1,GONE,1\nP1,P1,1\n"
    )
    got_cb = load_co_buy(cb, {"P1", "P2"})
    (pair,) = got_cb.records
    assert (pair.product_a, pair.product_b, pair.count) == ("P1", "P2", 3)
    assert sorted((e.line, e.field) for e in got_cb.rejects) == [(4, "product_b"), (5, "product_b")]


def test_malformed_jsonl_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "cb.jsonl", '{"product_a": "P1", "product_b": "P2"}\n{not json\n[1, 2]\n'
    )
    got = load_co_buy(path)
    assert len(got.records) == 1
    assert sorted(e.line for e in got.rejects) == [2, 3]


def test_parquet_rows_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "cat.parquet"
    pd.DataFrame({"asin": ["A1", "A2"], "product_title": ["Headlamp", ""]}).to_parquet(path)
    got = load_catalogue(path)
    assert [p.product_id for p in got.records] == ["A1"]
    assert (got.rejects[0].line, got.rejects[0].field) == (3, "product_title")


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="suffix"):
        load_catalogue(_write(tmp_path, "cat.xlsx", "x"))
    with pytest.raises(InputError, match="not found"):
        load_catalogue(tmp_path / "nope.csv")


def test_ingest_writes_artifacts_manifests_and_rejects(tmp_path: Path) -> None:
    cat = _write(tmp_path, "cat.csv", CATALOGUE)
    sb = _write(tmp_path, "sb.csv", "query,product_id\nrunning,P1\nbottle,P3\n")
    out = tmp_path / "out"
    res = ingest_files(cat, out, search_buy=sb)
    assert len(pd.read_parquet(res.paths["catalogue"])) == 3
    assert read_manifest(res.paths["catalogue"])["counts"]["rejected"] == 1
    # P3 was rejected from the catalogue, so its search-buy row is an unknown product
    assert read_manifest(res.paths["search_buy"])["counts"]["rejected"] == 1
    rejects = [json.loads(x) for x in res.paths["rejects"].read_text().splitlines()]
    assert {(r["line"], r["field"]) for r in rejects} == {(4, "title"), (3, "product_id")}
    again = ingest_files(cat, out, search_buy=sb)  # rerun: same result
    assert pd.read_parquet(again.paths["catalogue"]).equals(pd.read_parquet(res.paths["catalogue"]))


def test_bundled_sample_is_clean() -> None:
    cat = load_catalogue(SAMPLE_DIR / "catalogue.csv")
    ids = {p.product_id for p in cat.records}
    sb = load_search_buy(SAMPLE_DIR / "search_buy.csv", ids)
    cb = load_co_buy(SAMPLE_DIR / "co_buy.csv", ids)
    assert not cat.rejects and not sb.rejects and not cb.rejects
    assert len(cat.records) >= 40 and len(sb.records) >= 60 and len(cb.records) >= 35
    assert len({p.domain for p in cat.records}) >= 6


def test_control_characters_and_conflicting_duplicates_are_listed_by_line(tmp_path: Path) -> None:
    cat = _write(
        tmp_path,
        "cat.csv",
        "product_id,title\nP1,Trail shoes\nP2,Bottle\x00 cap\nP1,Trail shoes\nP1,Road shoes\n",
    )
    res = ingest_files(cat, tmp_path / "out")
    rejects = [json.loads(x) for x in res.paths["rejects"].read_text().splitlines()]
    assert [(r["line"], r["field"]) for r in rejects] == [(3, "title"), (5, "title")]
    assert "U+0000" in rejects[0]["reason"]
    assert "'P1' with a different title than line 2" in rejects[1]["reason"]
    counts = read_manifest(res.paths["catalogue"])["counts"]
    assert counts["duplicates_dropped"] == 2 and counts["products"] == 1
    assert counts["rejected"] == 2


def test_a_failed_ingest_leaves_the_previous_outputs_whole(tmp_path: Path) -> None:
    cat = _write(tmp_path, "cat.csv", CATALOGUE)
    sb = _write(tmp_path, "sb.csv", "query,product_id\nrunning,P1\n")
    out = tmp_path / "out"
    first = ingest_files(cat, out, search_buy=sb)
    assert read_manifest(first.paths["catalogue"])["artifact"] == str(out / "catalogue.parquet")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    new_cat = _write(tmp_path, "cat2.csv", "product_id,title\nP9,Something else\n")
    unusable = _write(tmp_path, "sb2.csv", "no_such_column\nx\n")
    with pytest.raises(InputError, match=r"sb2\.csv"):
        ingest_files(new_cat, out, search_buy=unusable)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no staging left either
