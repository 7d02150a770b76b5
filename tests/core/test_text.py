"""The text rule (core/text.py): no value holds U+0000 or a C0 control other than TAB, LF, CR."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.errors import InputError
from cosmo.core.jsonl import iter_jsonl
from cosmo.core.tables import read_table
from cosmo.core.text import (
    CONTROL_CHARACTERS,
    control_rows,
    find_control,
    has_control_bytes,
    refuse_control,
)


def test_the_rule_covers_c0_but_tab_lf_cr() -> None:
    assert len(CONTROL_CHARACTERS) == 29 and not set("\t\n\r") & set(CONTROL_CHARACTERS)
    assert find_control("a\tb\nc\r") is None and find_control("\u2028 \x7f é") is None
    hit = find_control("ab\x00c")
    assert hit is not None and hit.position == 3 and "U+0000 (NUL)" in hit.message
    assert find_control(["ok", {"k": "x\x1b"}]).path == "[1].k"  # type: ignore[union-attr]
    assert find_control({"a\x01": 1}) is not None  # keys too
    with pytest.raises(InputError, match=r"f\.csv, line 4, field 'model'.*U\+0007"):
        refuse_control("bell\x07", file="f.csv", line=4, field="model")
    assert has_control_bytes(b"a\x00") and not has_control_bytes(b"a\tb\r\n")
    assert has_control_bytes(b'{"a": "\\u0000"}', json_escapes=True)
    assert not has_control_bytes(b'{"a": "\\u0000"}')


def test_control_rows_names_each_row_by_its_first_bad_column() -> None:
    df = pd.DataFrame({"a": ["ok", "x\x00", None, "y"], "b": ["\x02", "z\x03", 1, ["q\x04"]]})
    got = {i: (c, f.char) for i, (c, f) in control_rows(df).items()}
    assert got == {0: ("b", "\x02"), 1: ("a", "\x00"), 3: ("b", "\x04")}


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "parquet"])
def test_every_reader_refuses_a_control_character_naming_file_line_field(
    tmp_path: Path, fmt: str
) -> None:
    rows = [{"id": "A", "model": "m"}, {"id": "B", "model": "m\x00x"}, {"id": "C", "model": None}]
    p = tmp_path / f"t.{fmt}"
    df = pd.DataFrame(rows)
    if fmt == "jsonl":
        p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif fmt == "parquet":
        df.to_parquet(p)
    else:
        df.to_csv(p, sep="\t" if fmt == "tsv" else ",", index=False)
    line = 3 if fmt != "jsonl" else 2
    with pytest.raises(InputError) as e:
        read_table(p)
    assert (e.value.file, e.value.line, e.value.field) == (str(p), line, "model")
    assert "U+0000" in str(e.value)
    for kw in ({"lenient": True}, {"collect_text": True}):
        t = read_table(p, **kw)  # type: ignore[arg-type]
        assert [r.values.get("id") for r in t.rows] == ["A", "C"]
        assert [(r.line, r.field) for r in t.rejects] == [(line, "model")]


def test_jsonl_escapes_and_control_in_keys_and_lists(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text('{"a": "\\b"}\n{"a": ["x", "\\u001f"]}\n{"a\\u0001": 1}\n{"a": "\\\\b ok"}\n')
    problems: list[InputError] = []
    assert list(iter_jsonl(p, problems=problems)) == [(4, {"a": "\\b ok"})]
    assert [(e.line, e.field) for e in problems] == [(1, "a"), (2, "a"), (3, None)]
    assert "item [1]" in str(problems[1]) and "field name" in str(problems[2])


def test_a_control_character_in_a_csv_header_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("id,mo\x00del\nA,b\n")
    with pytest.raises(InputError, match="column name"):
        read_table(p, lenient=True)


def test_stage_artifacts_refuse_control_characters(tmp_path: Path) -> None:
    """Candidates and pairs are read strictly: the first bad value names file, line, field."""
    from cosmo.core.artifacts import read_candidates, read_pairs

    p = tmp_path / "candidates.jsonl"
    p.write_text('{"tail": "ok"}\n{"tail": "warm\\u0000th", "pair_id": "x"}\n')
    with pytest.raises(InputError) as e:
        read_candidates(p)
    assert (e.value.line, e.value.field) == (2, "tail")
    q = tmp_path / "pairs.parquet"
    pd.DataFrame({"pair_id": ["a", "b\x1b"]}).to_parquet(q)
    with pytest.raises(InputError) as e:
        read_pairs(q)
    assert (e.value.line, e.value.field) == (3, "pair_id")
