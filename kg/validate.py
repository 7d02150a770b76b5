"""Read refined-triple files and validate every row before anything is written.

Checks are vectorised with pandas (a million rows validate in seconds); only rows that
fail are passed through :class:`~cosmo.core.records.KnowledgeTriple` to word the error.
Line numbers follow the file: in CSV the header is line 1, in JSONL the first record is
line 1, in Parquet "line" is the 1-based row number.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cosmo.core.errors import InputError
from cosmo.core.records import MAX_TAIL, KnowledgeTriple
from cosmo.core.schema import RELATION_TAIL_TYPES, RELATIONS, Behaviour

__all__ = ["RowError", "ValidatedTriples", "read_table", "validate_triples"]

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


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise InputError("the file is empty; expected a header and rows", file=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"byte 0x{data[e.start]:02x} is not valid UTF-8; re-encode the file as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)",
            file=str(path),
            line=line,
        ) from e


def read_table(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Read CSV, JSONL or Parquet as strings; return the frame and each row's line number."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    suffix = "".join(path.suffixes[-2:]).lower()
    try:
        if suffix.endswith(".parquet") or suffix.endswith(".pq"):
            df = pd.read_parquet(path)
            lines = np.arange(1, len(df) + 1)
        elif suffix.endswith(".csv") or suffix.endswith(".tsv"):
            text = _decode(path)
            df = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                sep="\t" if suffix.endswith(".tsv") else ",",
            )
            lines = np.arange(2, len(df) + 2)
        elif suffix.endswith(".jsonl") or suffix.endswith(".json") or suffix.endswith(".ndjson"):
            text = _decode(path)
            records, lines_l = [], []
            for n, raw in enumerate(text.splitlines(), start=1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except json.JSONDecodeError as e:
                    raise InputError(
                        f"not valid JSON ({e.msg} at column {e.colno})", file=str(path), line=n
                    ) from e
                if not isinstance(obj, dict):
                    raise InputError("each line must be a JSON object", file=str(path), line=n)
                records.append(obj)
                lines_l.append(n)
            df = pd.DataFrame.from_records(records)
            lines = np.asarray(lines_l, dtype=np.int64)
        else:
            raise InputError("unknown format; use .parquet, .csv, .tsv or .jsonl", file=str(path))
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"could not be read: {e}", file=str(path)) from e
    if df.empty:
        raise InputError("the file has no rows", file=str(path))
    return df, lines


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def validate_triples(df: pd.DataFrame, lines: np.ndarray, *, file: str) -> ValidatedTriples:
    """Check every row; return normalised good rows plus one error per bad row."""
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; a triples file needs {', '.join(REQUIRED)}",
            file=file,
            line=1,
            field=missing[0],
        )
    n = len(df)
    out = pd.DataFrame(index=df.index)
    for c in ("behaviour", "source", "target", "relation", "tail"):
        out[c] = _text(df[c])
    bad = pd.Series("", index=df.index, dtype="object")

    def flag(mask: pd.Series, col: str) -> None:
        mask = mask.fillna(True) & (bad == "")
        bad[mask] = col

    flag(~out["behaviour"].str.lower().isin([b.value for b in Behaviour]), "behaviour")
    out["behaviour"] = out["behaviour"].str.lower()
    flag(
        out["source"].isna() | (out["source"].str.len() == 0) | (out["source"].str.len() > 500),
        "source",
    )
    flag(
        out["target"].isna() | (out["target"].str.len() == 0) | (out["target"].str.len() > 200),
        "target",
    )
    out["relation"] = out["relation"].str.upper().map(_REL_UPPER)
    flag(out["relation"].isna(), "relation")
    tail_ok = out["tail"].str.len().between(1, MAX_TAIL) & out["tail"].str.contains(
        r"\w", regex=True
    )
    flag(~tail_ok, "tail")
    for c in ("source", "target", "tail"):  # the database would cut a value at a NUL byte
        flag(out[c].str.contains("\x00", regex=False), c)
    flag((out["behaviour"] == "co_buy") & (out["source"] == out["target"]), "target")

    for col, default in (("plausibility", 1.0), ("typicality", np.nan)):
        if col in df.columns:
            vals = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
            given = df[col].notna() & (df[col].astype("string").str.strip() != "")
            flag(given & ~vals.between(0.0, 1.0), col)
            out[col] = vals.fillna(default) if not np.isnan(default) else vals
        else:
            out[col] = default
    if "frequency" in df.columns:
        freq = pd.to_numeric(df["frequency"].replace("", np.nan), errors="coerce")
        given = df["frequency"].notna() & (df["frequency"].astype("string").str.strip() != "")
        flag(given & ~((freq >= 1) & (freq == np.floor(freq))), "frequency")
        out["frequency"] = freq.fillna(1)
    else:
        out["frequency"] = 1
    if "tail_type" in df.columns:
        tt = _text(df["tail_type"]).replace("", pd.NA)
        flag(tt.notna() & ~tt.fillna("x").str.fullmatch(r"[A-Za-z0-9_]{1,40}"), "tail_type")
        out["tail_type"] = tt
    else:
        out["tail_type"] = pd.NA
    out["tail_type"] = out["tail_type"].fillna(out["relation"].map(RELATION_TAIL_TYPES))
    for opt in (
        "intention_id",
        "model",
        "pipeline_run",
        "source_title",
        "target_title",
        "target_type",
        "target_domain",
    ):
        out[opt] = _text(df[opt]).replace("", pd.NA) if opt in df.columns else pd.NA
    out["aliases"] = df["aliases"] if "aliases" in df.columns else None

    errors: list[RowError] = []
    bad_idx = np.flatnonzero((bad != "").to_numpy())
    records = df.to_dict("records") if len(bad_idx) else []
    for i in bad_idx:
        col = str(bad.iloc[i])
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
    good = out[bad == ""].copy()
    good["line"] = lines[(bad == "").to_numpy()]
    return ValidatedTriples(frame=good.reset_index(drop=True), errors=errors, total=n)
