"""The text rule: no value holds U+0000 or another C0 control character except TAB, LF and CR.

A NUL ends a string in the graph database's C code, and the other C0 controls are never
text a person meant: a NUL in one optional column once shifted every property after it in
a bulk-loaded graph, crashed the server on a read and left an append-only file it could no
longer load. So every reader refuses such a value, naming file, line and field
(:mod:`cosmo.core.tables`, :mod:`cosmo.core.jsonl`), the API refuses such an argument, and
every write path to a graph database refuses one again, whatever its caller did.

* :func:`find_control` finds the first such character in a value (text, or the texts inside
  lists and maps, keys included); :func:`refuse_control` raises it as an
  :class:`~cosmo.core.errors.InputError`.
* :func:`control_rows` does the same for every cell of a DataFrame, vectorised;
  :func:`has_control_bytes` is the quick look at a file's bytes that lets clean files (nearly
  all of them) skip it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError

__all__ = [
    "CONTROL_CHARACTERS",
    "ControlChar",
    "control_rows",
    "find_control",
    "has_control_bytes",
    "record_problem",
    "refuse_control",
]

CONTROL_CHARACTERS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
"""The characters no value may hold: U+0000 to U+001F except TAB, LF and CR."""

_CONTROL = re.compile(f"[{re.escape(CONTROL_CHARACTERS)}]")
_CONTROL_BYTES = CONTROL_CHARACTERS.encode()
_NAMES = [
    "NUL",
    "SOH",
    "STX",
    "ETX",
    "EOT",
    "ENQ",
    "ACK",
    "BEL",
    "BS",
    "HT",
    "LF",
    "VT",
    "FF",
    "CR",
    "SO",
    "SI",
    "DLE",
    "DC1",
    "DC2",
    "DC3",
    "DC4",
    "NAK",
    "SYN",
    "ETB",
    "CAN",
    "EM",
    "SUB",
    "ESC",
    "FS",
    "GS",
    "RS",
    "US",
]
# how JSON writes them: \u0000-\u001f, and \b and \f
_JSON_ESCAPE = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|[bf])")


@dataclass(frozen=True)
class ControlChar:
    """Where a value holds a control character: its place inside the value, and which one."""

    path: str  # "" for the value itself, "[2]" or ".key" inside lists and maps
    position: int  # 1-based, in the string that holds it
    char: str

    @property
    def message(self) -> str:
        path = self.path.lstrip(".")
        where = f"item {path} " if path.startswith("[") else f"{path} " if path else ""
        code = ord(self.char)
        return (
            f"{where}contains the control character U+{code:04X} ({_NAMES[code]}) at character "
            f"{self.position}; text may hold no control character other than TAB, LF and CR"
        )


def _in_text(text: str) -> ControlChar | None:
    m = _CONTROL.search(text)
    return None if m is None else ControlChar("", m.start() + 1, m.group())


def find_control(value: Any) -> ControlChar | None:
    """The first control character in ``value`` (see the module docstring), or ``None``."""
    if isinstance(value, str):
        return _in_text(value)
    if isinstance(value, Mapping):
        for k, v in value.items():
            for part, where in ((k, f" (in the key {str(k)[:40]!r})"), (v, "")):
                found = find_control(part)
                if found is not None:
                    path = f".{k}{found.path}" if where == "" else where
                    return ControlChar(path, found.position, found.char)
        return None
    if isinstance(value, list | tuple | np.ndarray):
        for i, v in enumerate(value):
            found = find_control(v)
            if found is not None:
                return ControlChar(f"[{i}]{found.path}", found.position, found.char)
    return None


def refuse_control(
    value: Any, *, file: str | None = None, line: int | None = None, field: str | None = None
) -> None:
    """Raise an :class:`InputError` naming file, line and field if ``value`` holds a control character."""
    found = find_control(value)
    if found is not None:
        raise InputError(found.message, file=file, line=line, field=field)


def record_problem(
    record: Mapping[str, Any], *, file: str | None = None, line: int | None = None
) -> InputError | None:
    """The problem of a record (a row, a JSON object) holding a control character, naming its field."""
    for key, value in record.items():
        found = find_control(key)
        if found is not None:
            return InputError(f"a field name {found.message}", file=file, line=line)
        found = find_control(value)
        if found is not None:
            return InputError(found.message, file=file, line=line, field=str(key))
    return None


def has_control_bytes(data: bytes, *, json_escapes: bool = False) -> bool:
    """Whether a file's bytes may hold a control character (no false negatives).

    UTF-8 never uses bytes below 0x20 inside another character, so a byte search is exact
    for text files; ``json_escapes`` also looks for the ways JSON writes them (``\\u0000``,
    ``\\b``, ``\\f``; a false positive only costs the precise check).
    """
    if len(data.translate(None, _CONTROL_BYTES)) != len(data):
        return True
    return json_escapes and _JSON_ESCAPE.search(data) is not None


def _column_hits(col: pd.Series) -> np.ndarray:
    """Positions of the cells of ``col`` that hold a control character."""
    values = col.to_numpy(dtype=object)
    texts = [v for v in values if isinstance(v, str)]
    structured = any(not isinstance(v, str | int | float | bool | type(None)) for v in values)
    if not structured:
        joined = "\n".join(texts).encode("utf-8", "surrogatepass")
        if not has_control_bytes(joined):
            return np.zeros(0, dtype=np.int64)
    return np.asarray(
        [i for i, v in enumerate(values) if find_control(v) is not None], dtype=np.int64
    )


def control_rows(frame: pd.DataFrame) -> dict[int, tuple[str, ControlChar]]:
    """Row position → (first column, what was found) for every row holding a control character.

    Columns are checked in order, so a row is named by its first bad column. A column of
    plain texts costs one join and one byte scan; only columns with a hit are walked.
    """
    found: dict[int, tuple[str, ControlChar]] = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype != object and not isinstance(col.dtype, pd.StringDtype):
            continue
        for i in _column_hits(col):
            if int(i) not in found:
                hit = find_control(col.iat[int(i)])
                assert hit is not None
                found[int(i)] = (str(name), hit)
    return found
