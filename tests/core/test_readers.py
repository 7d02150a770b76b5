"""The one JSONL reader and the one table reader: line numbers, values and problems."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.errors import InputError
from cosmo.core.jsonl import iter_jsonl
from cosmo.core.tables import read_table, resolve_columns


def test_jsonl_lines_are_physical_lines(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text('{"a": 1}\n\n{"a": 2}\r\n{"a": "x\\u2028y"}\n')
    assert list(iter_jsonl(p)) == [(1, {"a": 1}), (3, {"a": 2}), (4, {"a": "x\u2028y"})]


def test_jsonl_problems_name_their_line(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    p.write_bytes(b'{"a": 1}\n{not json\n[1, 2]\n{"a": "caf\xe9"}\n{"a": 5}\n{"a": ')
    with pytest.raises(InputError, match="line 2") as e:
        list(iter_jsonl(p))
    assert isinstance(e.value.__cause__, json.JSONDecodeError)
    problems: list[InputError] = []
    assert list(iter_jsonl(p, problems=problems)) == [(1, {"a": 1}), (5, {"a": 5})]
    assert [e.line for e in problems] == [2, 3, 4, 6]
    assert "one JSON object" in str(problems[1])
    assert "not UTF-8" in str(problems[2])
    assert "truncated" in str(problems[3])


def test_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        list(iter_jsonl(tmp_path / "none.jsonl"))
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "none.csv")
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "none.parquet")


def test_csv_line_numbers_follow_the_file(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text('id,title\nA,"two\nlines"\n\nB,plain\nC,\n')
    t = read_table(p)
    assert t.lines.tolist() == [2, 5, 6]
    assert t.frame["title"].tolist() == ["two\nlines", "plain", ""]
    assert [r.values["title"] for r in t.rows] == ["two\nlines", "plain", None]


def test_bad_csv_rows_raise_or_are_collected(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(b"id,title,type\nA,x,y\nB,too,many,fields\nC,caf\xe9,z\nD,cut")
    with pytest.raises(InputError, match=r"line 4: text is not UTF-8"):  # encoding is read first
        read_table(p)
    t = read_table(p, lenient=True)
    assert t.lines.tolist() == [2]
    assert [(e.line, e.field) for e in t.rejects] == [(4, None), (3, None), (5, "type")]
    assert "truncated" in str(t.rejects[2])


def test_jsonl_and_parquet_keep_their_values(tmp_path: Path) -> None:
    j = tmp_path / "t.jsonl"
    j.write_text('{"id": "A", "n": 3, "l": [1, 2]}\n\n{"id": "B"}\n')
    t = read_table(j)
    assert t.lines.tolist() == [1, 3]
    assert list(t.records()) == [
        (1, {"id": "A", "n": 3, "l": [1, 2]}),
        (3, {"id": "B", "n": None, "l": None}),
    ]
    assert t.rows[0].values == {"id": "A", "n": "3", "l": "[1, 2]"}
    pq = tmp_path / "t.parquet"
    pd.DataFrame({"id": ["A", "B"], "n": [1.5, None]}).to_parquet(pq)
    t = read_table(pq)
    assert t.lines.tolist() == [2, 3]
    assert [r.values for r in t.rows] == [{"id": "A", "n": "1.5"}, {"id": "B", "n": None}]


def test_whole_file_problems_always_raise(tmp_path: Path) -> None:
    for name, content in (("e.csv", b""), ("e.jsonl", b"\n\n"), ("d.csv", b"a,a\n1,2\n")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError):
            read_table(tmp_path / name, lenient=True)
    with pytest.raises(InputError, match="suffix"):
        read_table(tmp_path / "x.xlsx")
    (tmp_path / "c.csv").write_text("Product_ID,name\n1,x\n")
    t = read_table(tmp_path / "c.csv")
    assert resolve_columns(t, ["product_id", "title"], aliases={"title": ["name"]}) == {
        "product_id": "Product_ID",
        "title": "name",
    }
    with pytest.raises(InputError, match="missing required column") as e:
        resolve_columns(t, ["query"])
    assert e.value.line == 1 and e.value.field == "query"
