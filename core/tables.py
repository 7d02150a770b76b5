"""The one table reader: CSV, TSV, JSONL or Parquet → a DataFrame, with every row's line.

Every tabular file cosmo reads goes through :func:`read_table`: behaviour and catalogue
files (ingest), importer input (generation), candidates and labels (refine), triples
(kg). It returns a :class:`Table`: the rows as a DataFrame, the line each row came from,
and the lines that could not be read.

Line numbers are 1-based and follow the file: the CSV header is line 1, so the first data
row of a CSV is line 2 (a quoted field spanning lines is counted right); JSONL line N is
line N (blank lines count); a Parquet row's line is its row number + 1, as if it had a
header. Values are what the file holds: text for CSV/TSV (an empty field is ``""``),
JSON values for JSONL (a missing key is ``None``), Parquet's own types.

A line that cannot be read (bytes that are not UTF-8, a CSV row with the wrong number of
fields, a JSONL line that is not a JSON object) is an :class:`~cosmo.core.errors.InputError`
naming file and line: raised, or with ``lenient=True`` collected in :attr:`Table.rejects`
while the good rows are kept. Problems that make the whole file unusable (missing, unknown
format, empty, no header, duplicate column names) always raise.

A row holding a control character other than TAB, LF and CR in any value
(:mod:`cosmo.core.text`) is a problem of that row naming its field, in every format: raised,
or collected in :attr:`Table.rejects` with ``lenient=True`` or ``collect_text=True`` (the
latter for callers that reject bad rows themselves but refuse unreadable files). Clean files
pay one scan of their bytes (of their text columns, for Parquet).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.jsonl import iter_jsonl, not_utf8, read_bytes
from cosmo.core.text import control_rows, find_control, has_control_bytes, record_problem

__all__ = [
    "FORMATS",
    "RawRow",
    "Table",
    "detect_format",
    "read_table",
    "resolve_columns",
    "text_value",
]

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


@dataclass(frozen=True)
class RawRow:
    """One readable row: its 1-based line and its fields as text (``None`` when absent)."""

    line: int
    values: dict[str, str | None]


def _absent_none(v: Any) -> Any:
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v


def text_value(v: Any) -> str | None:
    """A cell as text: ``None`` for missing values and ``""``; JSON for lists and maps."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False)
    text = str(v)
    return text if text != "" else None


@dataclass
class Table:
    """The readable rows of one file, the line each came from, and the rejected lines."""

    path: Path
    frame: pd.DataFrame
    lines: np.ndarray
    rejects: list[InputError] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each row as ``(line, {column: value})`` with the file's own values (``None`` if absent)."""
        cols = self.columns
        for line, rec in zip(
            self.lines, self.frame.itertuples(index=False, name=None), strict=True
        ):
            yield int(line), {c: _absent_none(v) for c, v in zip(cols, rec, strict=True)}

    @cached_property
    def rows(self) -> list[RawRow]:
        """Each row with its line, every value as text (see :func:`text_value`)."""
        cols = self.columns
        return [
            RawRow(int(line), {c: text_value(v) for c, v in zip(cols, rec, strict=True)})
            for line, rec in zip(
                self.lines, self.frame.itertuples(index=False, name=None), strict=True
            )
        ]


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The file format from ``fmt`` or the file suffix (``.gz`` is not supported)."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in set(FORMATS.values()):
            raise InputError(
                f"unknown format {fmt!r}; use csv, tsv, parquet or jsonl", file=str(path)
            )
        return fmt
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"cannot tell the format from the suffix {path.suffix!r}; "
            "use .csv, .tsv, .parquet or .jsonl (or pass the format)",
            file=str(path),
        )
    return found


def _problem(err: InputError, rejects: list[InputError] | None) -> None:
    if rejects is None:
        raise err
    rejects.append(err)


def _decoded_lines(
    path: Path, data: bytes, rejects: list[InputError] | None
) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line; a line that is not UTF-8 is a problem."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out: list[tuple[int, str]] = []
    for no, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as e:
            _problem(not_utf8(raw, e, file=str(path), line=no), rejects)
            continue
        if text.strip():
            out.append((no, text))
    return out


def _header(path: Path, reader: Any, first_line: int) -> list[str]:
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise InputError(f"cannot read the header: {e}", file=str(path), line=first_line) from e
    for name in header:
        found = find_control(name)
        if found is not None:
            raise InputError(f"a column name {found.message}", file=str(path), line=first_line)
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError(f"duplicate column names: {', '.join(dupes)}", file=str(path), line=1)
    return header


def _malformed(path: Path, row: list[str], header: list[str], no: int, *, last: bool) -> InputError:
    short = len(row) < len(header)
    msg = (
        f"the file is truncated: the last row has {len(row)} of {len(header)} fields"
        if last and short
        else f"malformed row: {len(row)} fields, the header has {len(header)}"
    )
    return InputError(msg, file=str(path), line=no, field=header[len(row)] if short else None)


def _read_delimited(
    path: Path,
    data: bytes,
    delimiter: str,
    rejects: list[InputError] | None,
    text_rejects: list[InputError] | None,
) -> Table:
    lines = _decoded_lines(path, data, rejects)
    if not lines:
        raise InputError("the file is empty (no header row)", file=str(path))
    # Parse the kept lines as one CSV stream; a quoted field may span lines, so map the
    # reader's physical line counter back to the original line numbers.
    cut = not data.endswith(b"\n")  # a last row cut short is a truncated file
    controls = has_control_bytes(data)
    reader = csv.reader(io.StringIO("\n".join(t for _, t in lines)), delimiter=delimiter)
    header = _header(path, reader, lines[0][0])
    rows: list[list[str]] = []
    numbers: list[int] = []
    while True:
        no = lines[min(reader.line_num, len(lines) - 1)][0]  # the next row's first line
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            _problem(InputError(f"malformed CSV row: {e}", file=str(path), line=no), rejects)
            continue
        if len(row) != len(header):
            _problem(_malformed(path, row, header, no, last=cut and no == lines[-1][0]), rejects)
            continue
        if controls:
            bad = record_problem(dict(zip(header, row, strict=True)), file=str(path), line=no)
            if bad is not None:
                _problem(bad, text_rejects)
                continue
        rows.append(row)
        numbers.append(no)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return Table(path, frame, np.asarray(numbers, dtype=np.int64), rejects or [])


def _read_jsonl(
    path: Path,
    data: bytes,
    rejects: list[InputError] | None,
    text_rejects: list[InputError] | None,
) -> Table:
    if not data.strip():
        raise InputError("the file is empty", file=str(path))
    got = list(iter_jsonl(path, problems=rejects, data=data, text_problems=text_rejects))
    frame = pd.DataFrame([obj for _, obj in got], dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    return Table(path, frame, np.asarray([n for n, _ in got], dtype=np.int64), rejects or [])


def _may_hold_text_control(col: Any) -> bool:
    """Whether an Arrow column may hold a control character (a scan of its string bytes)."""
    import pyarrow as pa

    for chunk in col.chunks:
        arr = chunk
        while pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            arr = arr.flatten()
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            buf = arr.buffers()[2]
            if buf is not None and has_control_bytes(buf.to_pybytes()):
                return True
        elif pa.types.is_nested(arr.type) or pa.types.is_dictionary(arr.type):
            return True  # look at each value
        elif pa.types.is_string_view(arr.type):
            return True
    return False


def _read_parquet(path: Path, text_rejects: list[InputError] | None) -> Table:
    import pyarrow.parquet as pq

    try:
        arrow = pq.read_table(path, use_pandas_metadata=True)
        frame = arrow.to_pandas()
    except Exception as e:
        raise InputError(f"not a readable Parquet file: {e}", file=str(path)) from e
    frame.columns = [str(c) for c in frame.columns]
    lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    suspect = [str(n) for n in arrow.column_names if _may_hold_text_control(arrow.column(n))]
    bad = control_rows(frame[suspect]) if suspect else {}
    for i in sorted(bad):
        col, found = bad[i]
        err = InputError(found.message, file=str(path), line=int(lines[i]), field=col)
        _problem(err, text_rejects)
    if bad:
        keep = np.ones(len(frame), dtype=bool)
        keep[list(bad)] = False
        frame, lines = frame[keep].reset_index(drop=True), lines[keep]
    return Table(path, frame, lines, list(text_rejects or []))


def read_table(
    path: Path | str, fmt: str | None = None, *, lenient: bool = False, collect_text: bool = False
) -> Table:
    """Read ``path`` (see the module docstring for line numbers, values and problems).

    Args:
        fmt: ``csv``, ``tsv``, ``jsonl`` or ``parquet``; default from the suffix.
        lenient: collect unreadable lines and rows holding a control character in
            :attr:`Table.rejects` instead of raising.
        collect_text: collect only the rows holding a control character (unreadable lines
            still raise).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder, not a file", file=str(path))
    kind = detect_format(path, fmt)
    rejects: list[InputError] | None = [] if lenient else None
    text_rejects = rejects if lenient else ([] if collect_text else None)
    if kind == "parquet":
        if not path.exists():
            raise InputError("file not found", file=str(path))
        return _read_parquet(path, text_rejects)
    data = read_bytes(path)
    if kind == "jsonl":
        table = _read_jsonl(path, data, rejects, text_rejects)
    else:
        table = _read_delimited(path, data, "\t" if kind == "tsv" else ",", rejects, text_rejects)
    if collect_text and not lenient:
        table.rejects = list(text_rejects or [])
    return table


def resolve_columns(
    table: Table,
    required: Sequence[str],
    optional: Sequence[str] = (),
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """Map each wanted column to the file's column (case-insensitive, with aliases).

    Raises :class:`InputError` naming every missing required column and what was found.
    """
    aliases = aliases or {}
    lower = {c.strip().lower(): c for c in table.columns}
    found: dict[str, str] = {}
    for name in (*required, *optional):
        for cand in (name, *aliases.get(name, ())):
            if cand.lower() in lower:
                found[name] = lower[cand.lower()]
                break
    missing = [c for c in required if c not in found]
    if missing:
        wanted = "; ".join(
            f"{c} (or {', '.join(aliases[c])})" if aliases.get(c) else c for c in missing
        )
        raise InputError(
            f"missing required column(s): {wanted}. Columns found: {', '.join(table.columns) or 'none'}",
            file=str(table.path),
            line=1,
            field=missing[0],
        )
    return found
