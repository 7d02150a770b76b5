"""Reading candidates and writing refined triples (Parquet, JSONL or CSV)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cosmo.core.errors import InputError
from cosmo.core.records import TRIPLE_COLUMNS, Candidate, KnowledgeTriple

__all__ = [
    "CANDIDATE_REQUIRED",
    "candidates_from_frame",
    "read_candidates",
    "read_table",
    "write_triples",
]

CANDIDATE_REQUIRED: tuple[str, ...] = tuple(
    name for name, f in Candidate.model_fields.items() if f.is_required()
)


def read_table(path: Path) -> Any:
    """A pandas DataFrame from a Parquet, JSONL/JSON or CSV file, with clear errors."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        if suffix in (".jsonl", ".json", ".ndjson"):
            rows = []
            with open(path, encoding="utf-8") as f:
                for i, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise InputError(
                            f"not valid JSON ({e.msg}); is the file truncated?",
                            file=str(path),
                            line=i,
                        ) from e
                    if not isinstance(obj, dict):
                        raise InputError("each line must be a JSON object", file=str(path), line=i)
                    rows.append(obj)
            return pd.DataFrame(rows)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"cannot read the file: {e}", file=str(path)) from e
    raise InputError(f"unknown file type {suffix!r}; use .parquet, .jsonl or .csv", file=str(path))


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def candidates_from_frame(frame: Any, *, file: str | None = None) -> list[Candidate]:
    """Validate a DataFrame into :class:`Candidate` records.

    Raises :class:`InputError` naming the missing column, or the line (header = line 1 for
    CSV; row number + 1 otherwise) and field of the first bad row. Duplicate
    ``candidate_id`` values are an error too: refinement keys everything by that id.
    """
    missing = [c for c in CANDIDATE_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; candidates need {', '.join(CANDIDATE_REQUIRED)}",
            file=file,
            field=missing[0],
        )
    fields = [c for c in frame.columns if c in Candidate.model_fields]
    out: list[Candidate] = []
    seen: dict[str, int] = {}
    for i, row in enumerate(frame[fields].itertuples(index=False, name=None), start=2):
        data = {k: _clean(v) for k, v in zip(fields, row, strict=True)}
        data = {k: v for k, v in data.items() if v is not None}
        try:
            cand = Candidate.model_validate(data)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or None
            raise InputError(f"{err['msg']}", file=file, line=i, field=loc) from e
        if cand.candidate_id in seen:
            raise InputError(
                f"duplicate candidate_id {cand.candidate_id!r} (first on line {seen[cand.candidate_id]})",
                file=file,
                line=i,
                field="candidate_id",
            )
        seen[cand.candidate_id] = i
        out.append(cand)
    return out


def read_candidates(path: Path) -> list[Candidate]:
    """Candidates from ``candidates.parquet`` (or JSONL / CSV with the same columns)."""
    return candidates_from_frame(read_table(Path(path)), file=str(path))


def write_triples(
    triples: Sequence[KnowledgeTriple] | Iterable[KnowledgeTriple], path: Path
) -> int:
    """Write triples as Parquet (or JSONL/CSV by suffix) atomically; return the row count."""
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [t.model_dump(mode="json") for t in triples]
    frame = pd.DataFrame(rows, columns=list(TRIPLE_COLUMNS))
    tmp = path.with_name(f".{path.name}.tmp")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame["aliases"] = frame["aliases"].map(lambda a: list(a) if a is not None else [])
        frame.to_parquet(tmp, index=False)
    elif suffix in (".jsonl", ".json"):
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    elif suffix == ".csv":
        frame["aliases"] = frame["aliases"].map(lambda a: "|".join(a or ()))
        frame.to_csv(tmp, index=False)
    else:
        raise InputError(
            f"unknown output type {suffix!r}; use .parquet, .jsonl or .csv", file=str(path)
        )
    tmp.replace(path)
    return len(frame)
