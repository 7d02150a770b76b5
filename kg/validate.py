"""Read refined-triple files and validate every row before anything is written.

Checks are vectorised with pandas (a million rows validate in seconds); only rows that
fail are passed through :class:`~cosmo.core.records.KnowledgeTriple` to word the error.
Line numbers follow the file (:mod:`cosmo.core.tables`): in CSV the header is line 1, in
JSONL line N is line N, in Parquet a row's line is its row number + 1.

A value holding a control character other than TAB, LF and CR (:mod:`cosmo.core.text`) makes
its row bad, in any column. :func:`refuse_if_too_many` is the one rule for refusing a whole
file; the :class:`RejectedFile` it raises carries every bad row, so a caller can list them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.records import MAX_TAIL, KnowledgeTriple
from cosmo.core.schema import RELATION_TAIL_TYPES, RELATIONS, Behaviour
from cosmo.core.tables import read_table
from cosmo.core.text import control_rows

__all__ = [
    "RejectedFile",
    "RowError",
    "ValidatedTriples",
    "read_triples",
    "refuse_if_too_many",
    "validate_triples",
]

REQUIRED = ("behaviour", "source", "target", "relation", "tail")
_REL_UPPER = {r.upper(): r for r in RELATIONS}


@dataclass(frozen=True)
class RowError:
    """One rejected row."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, field '{self.field}': {self.message}"


@dataclass
class ValidatedTriples:
    """The good rows (a normalised DataFrame) and the rejected ones."""

    frame: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    total: int = 0


class RejectedFile(InputError):
    """A file refused whole because too many of its rows are bad; :attr:`errors` lists them all."""

    def __init__(self, message: str, *, file: str, errors: list[RowError], total: int) -> None:
        super().__init__(message, file=file)
        self.errors, self.total = errors, total


def refuse_if_too_many(
    checked: ValidatedTriples, path: Path | str, *, max_rejected: float, verb: str = "loaded"
) -> None:
    """Raise :class:`RejectedFile` when no row is good or more than ``max_rejected`` (a fraction) are bad."""
    bad = len(checked.errors)
    if checked.frame.empty or bad / max(checked.total, 1) > max_rejected:
        first = checked.errors[0] if checked.errors else "no rows"
        raise RejectedFile(
            f"{bad} of {checked.total} rows are invalid (first: {first}); nothing was {verb}",
            file=str(path),
            errors=checked.errors,
            total=checked.total,
        )


def read_triples(path: Path | str) -> ValidatedTriples:
    """Read a triples file (:func:`cosmo.core.tables.read_table`) and validate every row.

    Raises:
        InputError: the file cannot be read whole (missing, empty, not UTF-8, a line that
            is not JSON), has no rows, or lacks a required column.
    """
    table = read_table(path, collect_text=True)
    text = [RowError(str(path), e.line or 0, e.field or "", e.reason) for e in table.rejects]
    if table.frame.empty:
        if not text:
            raise InputError("the file has no rows", file=str(path))
        return ValidatedTriples(pd.DataFrame(), text, len(text))
    checked = validate_triples(table.frame, table.lines, file=str(path), text_checked=True)
    if text:
        checked.errors = sorted([*checked.errors, *text], key=lambda e: e.line)
        checked.total += len(text)
    return checked


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


_OPTIONAL_TEXT = (
    "intention_id",
    "model",
    "pipeline_run",
    "source_title",
    "target_title",
    "target_type",
    "target_domain",
)


class _Flags:
    """The first bad column of each row (``""`` while the row is good)."""

    def __init__(self, index: pd.Index) -> None:
        self.bad = pd.Series("", index=index, dtype="object")

    def __call__(self, mask: pd.Series, col: str) -> None:
        mask = mask.fillna(True) & (self.bad == "")
        self.bad[mask] = col


def _required(df: pd.DataFrame, file: str) -> None:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; a triples file needs {', '.join(REQUIRED)}",
            file=file,
            line=1,
            field=missing[0],
        )


def _check_text(df: pd.DataFrame, out: pd.DataFrame, flag: _Flags) -> None:
    """behaviour, source, target, relation and tail: normalised into ``out`` and checked."""
    for c in REQUIRED:
        out[c] = _text(df[c])
    flag(~out["behaviour"].str.lower().isin([b.value for b in Behaviour]), "behaviour")
    out["behaviour"] = out["behaviour"].str.lower()
    for c, longest in (("source", 500), ("target", 200)):
        flag(out[c].isna() | (out[c].str.len() == 0) | (out[c].str.len() > longest), c)
    out["relation"] = out["relation"].str.upper().map(_REL_UPPER)
    flag(out["relation"].isna(), "relation")
    tail_ok = out["tail"].str.len().between(1, MAX_TAIL) & out["tail"].str.contains(
        r"\w", regex=True
    )
    flag(~tail_ok, "tail")
    flag((out["behaviour"] == "co_buy") & (out["source"] == out["target"]), "target")


def _given(df: pd.DataFrame, col: str) -> tuple[pd.Series, pd.Series]:
    """The column as numbers, and where a value was given at all."""
    vals = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
    given = df[col].notna() & (df[col].astype("string").str.strip() != "")
    return vals, given


def _check_numbers(df: pd.DataFrame, out: pd.DataFrame, flag: _Flags) -> None:
    """plausibility and typicality in 0..1, frequency a whole number ≥ 1 (with defaults)."""
    for col, default in (("plausibility", 1.0), ("typicality", np.nan)):
        if col in df.columns:
            vals, given = _given(df, col)
            flag(given & ~vals.between(0.0, 1.0), col)
            out[col] = vals.fillna(default) if not np.isnan(default) else vals
        else:
            out[col] = default
    if "frequency" in df.columns:
        freq, given = _given(df, "frequency")
        flag(given & ~((freq >= 1) & (freq == np.floor(freq))), "frequency")
        out["frequency"] = freq.fillna(1)
    else:
        out["frequency"] = 1


def _check_optional(df: pd.DataFrame, out: pd.DataFrame, flag: _Flags) -> None:
    """tail_type (default: the relation's), the optional texts and the aliases."""
    if "tail_type" in df.columns:
        tt = _text(df["tail_type"]).replace("", pd.NA)
        flag(tt.notna() & ~tt.fillna("x").str.fullmatch(r"[A-Za-z0-9_]{1,40}"), "tail_type")
        out["tail_type"] = tt
    else:
        out["tail_type"] = pd.NA
    out["tail_type"] = out["tail_type"].fillna(out["relation"].map(RELATION_TAIL_TYPES))
    for opt in _OPTIONAL_TEXT:
        out[opt] = _text(df[opt]).replace("", pd.NA) if opt in df.columns else pd.NA
    out["aliases"] = df["aliases"] if "aliases" in df.columns else None


def _row_errors(
    df: pd.DataFrame, bad: pd.Series, lines: np.ndarray, file: str, worded: dict[int, str]
) -> list[RowError]:
    """One error per bad row: ``worded[i]`` where given, else worded by :class:`KnowledgeTriple`."""
    errors: list[RowError] = []
    bad_idx = np.flatnonzero((bad != "").to_numpy())
    records = df.to_dict("records") if len(bad_idx) else []
    for i in bad_idx:
        col = str(bad.iloc[i])
        if int(i) in worded:
            errors.append(RowError(file, int(lines[i]), col, worded[int(i)]))
            continue
        msg = f"invalid value {str(df.iloc[i].get(col, ''))[:60]!r}"
        try:
            KnowledgeTriple.model_validate(
                {k: v for k, v in records[i].items() if v is not None and v == v}
            )
        except Exception as e:
            first: list[Any] = getattr(e, "errors", lambda: [])()
            if first:
                col = str(first[0]["loc"][0]) if first[0].get("loc") else col
                msg = first[0]["msg"]
        errors.append(RowError(file, int(lines[i]), col, msg))
    return errors


def validate_triples(
    df: pd.DataFrame, lines: np.ndarray, *, file: str, text_checked: bool = False
) -> ValidatedTriples:
    """Check every row; return normalised good rows plus one error per bad row.

    ``text_checked``: the reader already refused control characters (:func:`read_triples`).
    """
    _required(df, file)
    out = pd.DataFrame(index=df.index)
    flag = _Flags(df.index)
    controls = {} if text_checked else control_rows(df)
    for col in dict.fromkeys(c for c, _ in controls.values()):
        mask = np.zeros(len(df), dtype=bool)
        mask[[i for i, (c, _) in controls.items() if c == col]] = True
        flag(pd.Series(mask, index=df.index), col)
    worded = {i: found.message for i, (_, found) in controls.items()}
    _check_text(df, out, flag)
    _check_numbers(df, out, flag)
    _check_optional(df, out, flag)
    bad = flag.bad
    good = out[bad == ""].copy()
    good["line"] = lines[(bad == "").to_numpy()]
    return ValidatedTriples(
        frame=good.reset_index(drop=True),
        errors=_row_errors(df, bad, lines, file, worded),
        total=len(df),
    )
