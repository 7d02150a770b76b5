"""Read tabular behaviour files (CSV, Parquet, JSONL) row by row, with line numbers.

Every row comes back with the line it came from (1-based; the CSV header is line 1,
so the first data row of a CSV is line 2; JSONL line N is line N; a Parquet row's
"line" is its row number + 1, as if it had a header). Rows that cannot be read at all
(bytes that are not UTF-8, a CSV row with the wrong number of fields, a JSONL line that
is not a JSON object) are returned as :class:`~cosmo.core.errors.InputError` rejects, so the
good rows are still processed. Problems that make the whole file unusable (missing,
unknown format, no header, missing required columns) raise :class:`InputError`.

CSV and JSONL are parsed with the standard library so every error names its exact line;
Parquet goes through pyarrow. Callers turn the good rows into a pandas DataFrame.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError

__all__ = ["FORMATS", "RawRow", "RawTable", "detect_format", "read_table", "resolve_columns"]

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


@dataclass
class RawTable:
    """The readable rows of one file, its column names and the rows that were rejected."""

    path: Path
    columns: list[str]
    rows: list[RawRow] = field(default_factory=list)
    rejects: list[InputError] = field(default_factory=list)


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


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v != v:  # NaN from Parquet
        return None
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _decode_lines(path: Path, data: bytes, rejects: list[InputError]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) of each line; lines that are not UTF-8 become rejects."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for no, raw in enumerate(data.splitlines(), start=1):
        try:
            yield no, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = raw[max(0, e.start - 10) : e.end + 10]
            rejects.append(
                InputError(
                    f"text is not UTF-8 (byte 0x{raw[e.start]:02x} at column {e.start + 1}, "
                    f"near {bad!r}); re-save the file as UTF-8",
                    file=str(path),
                    line=no,
                )
            )


def _read_delimited(path: Path, data: bytes, delimiter: str) -> RawTable:
    rejects: list[InputError] = []
    lines = [(no, t) for no, t in _decode_lines(path, data, rejects) if t.strip()]
    if not lines:
        raise InputError("the file is empty (no header row)", file=str(path))
    # Parse the kept lines as one CSV stream; a quoted field may span lines, so map the
    # reader's physical line counter back to the original line numbers.
    text = "\n".join(t for _, t in lines)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise InputError(f"cannot read the header: {e}", file=str(path), line=lines[0][0]) from e
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise InputError(f"duplicate column names: {', '.join(dupes)}", file=str(path), line=1)
    table = RawTable(path=path, columns=header, rejects=rejects)
    while True:
        start = reader.line_num  # the next row begins on physical line start + 1
        no = lines[min(start, len(lines) - 1)][0]
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            table.rejects.append(InputError(f"malformed CSV row: {e}", file=str(path), line=no))
            continue
        if len(row) != len(header):
            table.rejects.append(
                InputError(
                    f"malformed row: {len(row)} fields, the header has {len(header)}",
                    file=str(path),
                    line=no,
                )
            )
            continue
        values = {h: (v if v != "" else None) for h, v in zip(header, row, strict=True)}
        table.rows.append(RawRow(no, values))
    return table


def _read_jsonl(path: Path, data: bytes) -> RawTable:
    rejects: list[InputError] = []
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    for no, text in _decode_lines(path, data, rejects):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            rejects.append(
                InputError(f"not valid JSON: {e.msg} at column {e.colno}", file=str(path), line=no)
            )
            continue
        if not isinstance(obj, dict):
            rejects.append(
                InputError("a JSONL line must hold one JSON object", file=str(path), line=no)
            )
            continue
        for k in obj:
            columns.setdefault(str(k), None)
        rows.append(RawRow(no, {str(k): _text(v) for k, v in obj.items()}))
    if not rows and not rejects:
        raise InputError("the file is empty", file=str(path))
    return RawTable(path=path, columns=list(columns), rows=rows, rejects=rejects)


def _read_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as e:
        raise InputError(f"not a readable Parquet file: {e}", file=str(path)) from e
    columns = [str(c) for c in table.column_names]
    rows = [
        RawRow(i + 2, {k: _text(v) for k, v in rec.items()})
        for i, rec in enumerate(table.to_pylist())
    ]
    return RawTable(path=path, columns=columns, rows=rows)


def read_table(path: Path | str, fmt: str | None = None) -> RawTable:
    """Read ``path`` into :class:`RawTable` (see the module docstring for line numbers)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    kind = detect_format(path, fmt)
    if kind == "parquet":
        return _read_parquet(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read the file: {e}", file=str(path)) from e
    if kind == "jsonl":
        return _read_jsonl(path, data)
    return _read_delimited(path, data, "\t" if kind == "tsv" else ",")


def resolve_columns(
    table: RawTable,
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
