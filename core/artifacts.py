"""The files that pass between stages: one reader and one writer for each.

=========================  ===============================  ==================================
artifact                   written by                       read by
=========================  ===============================  ==================================
``pairs.parquet``          :func:`write_pairs` (sampling)   :func:`read_pairs` (generation)
``candidates.parquet``     :func:`write_candidates`         :func:`read_candidates` (refine,
                           (generation, importers,          annotation)
                           annotation)
``triples.parquet``        :func:`write_triples` (refine)   ``cosmo kg load``
                                                            (:func:`cosmo.kg.validate.read_triples`)
=========================  ===============================  ==================================

Every write is atomic (a temporary file renamed into place); a manifest, when given, is
written last, so an artifact with a manifest is a finished artifact. A stage that writes
several outputs writes them into :func:`staged_outputs`, a temporary folder whose files are
renamed into place only when all of them were written, so a failure leaves the old set whole. The records are in
:mod:`cosmo.core.records`; files are read with :func:`cosmo.core.tables.read_table`, so a
bad row is named by its line.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from cosmo.core.errors import InputError
from cosmo.core.manifest import MANIFEST_SUFFIX, Manifest
from cosmo.core.records import (
    CANDIDATE_COLUMNS,
    TRIPLE_COLUMNS,
    BehaviourPair,
    Candidate,
    KnowledgeTriple,
)
from cosmo.core.tables import read_table

__all__ = [
    "CANDIDATE_REQUIRED",
    "candidates_from_frame",
    "read_candidates",
    "read_pairs",
    "staged_outputs",
    "write_candidates",
    "write_pairs",
    "write_parquet",
    "write_triples",
]

CANDIDATE_REQUIRED: tuple[str, ...] = tuple(
    name for name, f in Candidate.model_fields.items() if f.is_required()
)


def write_parquet(frame: pd.DataFrame, path: Path, manifest: Manifest | None = None) -> Path:
    """Write ``frame`` as Parquet atomically (then its manifest, when given); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)
    if manifest is not None:
        manifest.write(path)
    return path


@contextlib.contextmanager
def staged_outputs(out_dir: Path) -> Iterator[Path]:
    """A temporary folder in ``out_dir`` for a stage's outputs, all-or-nothing.

    When the block succeeds its files are renamed into ``out_dir`` (manifests last, each
    naming its artifact's final path); when it raises, the folder is removed and ``out_dir``
    keeps what it held.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_dir))
    try:
        yield stage
        files = sorted(stage.iterdir(), key=lambda f: (f.name.endswith(MANIFEST_SUFFIX), f.name))
        for f in files:
            if f.name.endswith(MANIFEST_SUFFIX):
                data = json.loads(f.read_text())
                data["artifact"] = str(out_dir / f.name.removesuffix(MANIFEST_SUFFIX))
                f.write_text(json.dumps(data, indent=2, default=str))
            f.replace(out_dir / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


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


# -- pairs.parquet -----------------------------------------------------------------------
def write_pairs(
    pairs: Sequence[BehaviourPair], path: Path, manifest: Manifest | None = None
) -> Path:
    """Write the sampled pairs (``pairs.parquet``)."""
    frame = pd.DataFrame([p.model_dump() for p in pairs], columns=list(BehaviourPair.model_fields))
    return write_parquet(frame, path, manifest)


def read_pairs(path: Path) -> list[BehaviourPair]:
    """Read ``pairs.parquet`` written by ``cosmo sample`` (or any table with its columns)."""
    table = read_table(path)
    out = []
    for line, row in table.records():
        try:
            out.append(BehaviourPair(**{k: _clean(v) for k, v in row.items()}))
        except ValidationError as e:
            err = e.errors()[0]
            fld = ".".join(str(p) for p in err["loc"]) or None
            raise InputError(err["msg"], file=str(path), line=line, field=fld) from e
    return out


# -- candidates.parquet ------------------------------------------------------------------
def write_candidates(
    candidates: Sequence[Candidate], path: Path, manifest: Manifest | None = None
) -> Path:
    """Write ``candidates.parquet`` (every :class:`Candidate` column, in order)."""
    frame = pd.DataFrame(
        [c.model_dump(mode="json") for c in candidates], columns=list(CANDIDATE_COLUMNS)
    )
    return write_parquet(frame, path, manifest)


def candidates_from_frame(
    frame: Any, *, file: str | None = None, lines: Sequence[int] | None = None
) -> list[Candidate]:
    """Validate a DataFrame into :class:`Candidate` records.

    Raises :class:`InputError` naming the missing column, or the line and field of the
    first bad row: ``lines`` are the rows' lines in the file (:class:`cosmo.core.tables.Table`),
    by default the row number + 1, as if there were a header. Duplicate ``candidate_id``
    values are an error too: refinement keys everything by that id.
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
    numbers = list(lines) if lines is not None else range(2, len(frame) + 2)
    rows = frame[fields].itertuples(index=False, name=None)
    for i, row in zip((int(n) for n in numbers), rows, strict=True):
        data = {k: _clean(v) for k, v in zip(fields, row, strict=True)}
        try:
            cand = Candidate.model_validate({k: v for k, v in data.items() if v is not None})
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
    table = read_table(path)
    return candidates_from_frame(table.frame, file=str(path), lines=table.lines)


# -- triples.parquet ---------------------------------------------------------------------
def write_triples(
    triples: Sequence[KnowledgeTriple] | Iterable[KnowledgeTriple], path: Path
) -> int:
    """Write triples as Parquet (or JSONL/CSV by suffix) atomically; return the row count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([t.model_dump(mode="json") for t in triples], columns=list(TRIPLE_COLUMNS))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame["aliases"] = frame["aliases"].map(lambda a: list(a) if a is not None else [])
        write_parquet(frame, path)
        return len(frame)
    tmp = path.with_name(f".{path.name}.tmp")
    if suffix in (".jsonl", ".json"):
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
