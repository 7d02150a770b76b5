"""``cosmo ingest``: validate behaviour files and write clean Parquet artifacts.

Writes into ``out_dir``: ``catalogue.parquet``, ``search_buy.parquet``, ``co_buy.parquet``
(each with a manifest counting read, rejected, merged and kept rows) and
``rejects.jsonl`` (one line per rejected row: file, line, field, reason). Every input is
validated before anything is written; the outputs are written into a temporary folder and
renamed into place only when all were written, so a failure leaves the previous set whole
and a rerun replaces it (idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cosmo.core.artifacts import staged_outputs, write_parquet
from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest
from cosmo.core.records import CoBuy, Product, SearchBuy
from cosmo.ingest.validate import Loaded, load_catalogue, load_co_buy, load_search_buy

__all__ = [
    "IngestResult",
    "ingest_files",
    "read_artifacts",
    "write_loaded",
    "write_rejects",
]

_COLUMNS = {
    "catalogue": list(Product.model_fields),
    "search_buy": list(SearchBuy.model_fields),
    "co_buy": list(CoBuy.model_fields),
}


@dataclass
class IngestResult:
    """Paths of the written artifacts and every rejected row."""

    paths: dict[str, Path] = field(default_factory=dict)
    rejects: list[InputError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def write_rejects(rejects: list[InputError], path: Path) -> Path:
    """One JSON object per rejected row: file, line, field, reason, message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for e in rejects:
            rec = {
                "file": e.file,
                "line": e.line,
                "field": e.field,
                "reason": e.reason,
                "message": str(e),
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def _write(name: str, loaded: Loaded, out_dir: Path, params: dict[str, object]) -> Path:
    path = out_dir / f"{name}.parquet"
    df = pd.DataFrame([r.model_dump() for r in loaded.records], columns=_COLUMNS[name])
    m = Manifest.for_stage(
        f"ingest.{name}", parameters=params, inputs={name: loaded.path}, counts=loaded.counts
    )
    if loaded.rejects:
        m.notes["first_rejects"] = [str(e) for e in loaded.rejects[:20]]
    return write_parquet(df, path, m)


def ingest_files(
    catalogue: Path,
    out_dir: Path,
    search_buy: Path | None = None,
    co_buy: Path | None = None,
    fmt: str | None = None,
) -> IngestResult:
    """Validate the files and write the artifacts (see the module docstring).

    Raises :class:`InputError` only when a whole file is unusable (missing, unknown
    format, missing columns) or when no valid product is left; then nothing is written.
    """
    cat = load_catalogue(catalogue, fmt)
    if not cat.records:
        first = f" First problem: {cat.rejects[0]}" if cat.rejects else ""
        raise InputError(f"no valid product in the catalogue.{first}", file=str(catalogue))
    ids = {p.product_id for p in cat.records}
    sb = load_search_buy(search_buy, ids, fmt) if search_buy is not None else None
    cb = load_co_buy(co_buy, ids, fmt) if co_buy is not None else None
    return write_loaded(out_dir, cat, sb, cb, {"format": fmt or "auto"})


def write_loaded(
    out_dir: Path,
    catalogue: Loaded[Product],
    search_buy: Loaded[SearchBuy] | None = None,
    co_buy: Loaded[CoBuy] | None = None,
    params: dict[str, object] | None = None,
) -> IngestResult:
    """Write validated records (also those of :mod:`cosmo.ingest.adapters`), all or nothing.

    Every artifact and ``rejects.jsonl`` is written into a temporary folder and renamed
    into ``out_dir`` only once all were written (:func:`cosmo.core.artifacts.staged_outputs`).
    """
    result = IngestResult()
    params = params or {}
    with staged_outputs(out_dir) as stage:
        for name, loaded in (
            ("catalogue", catalogue),
            ("search_buy", search_buy),
            ("co_buy", co_buy),
        ):
            if loaded is None:
                continue
            result.paths[name] = out_dir / _write(name, loaded, stage, params).name
            result.counts[name] = loaded.counts
            result.rejects += loaded.rejects
        write_rejects(result.rejects, stage / "rejects.jsonl")
    result.paths["rejects"] = out_dir / "rejects.jsonl"
    return result


def read_artifacts(
    catalogue: Path, search_buy: Path | None = None, co_buy: Path | None = None
) -> tuple[list[Product], list[SearchBuy], list[CoBuy]]:
    """Read artifacts written by :func:`ingest_files` back into records."""

    def rows(path: Path | None) -> list[dict[str, object]]:
        if path is None:
            return []
        df = pd.read_parquet(path)
        return [
            {str(k): (None if pd.isna(v) else v) for k, v in r.items()}
            for r in df.to_dict("records")
        ]

    return (
        [Product(**r) for r in rows(catalogue)],  # type: ignore[arg-type]
        [SearchBuy(**r) for r in rows(search_buy)],  # type: ignore[arg-type]
        [CoBuy(**r) for r in rows(co_buy)],  # type: ignore[arg-type]
    )
