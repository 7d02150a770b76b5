"""``cosmo ingest``: validate behaviour files and write clean Parquet artifacts.

Writes into ``out_dir``: ``catalogue.parquet``, ``search_buy.parquet``, ``co_buy.parquet``
(each with a manifest counting read, rejected, merged and kept rows) and
``rejects.jsonl`` (one line per rejected row: file, line, field, reason). Files are
written to a temporary name and renamed, so a rerun replaces them whole (idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cosmo.core.artifacts import write_parquet
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
    format, missing columns) or when no valid product is left.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    result = IngestResult()
    cat = load_catalogue(catalogue, fmt)
    if not cat.records:
        first = f" First problem: {cat.rejects[0]}" if cat.rejects else ""
        raise InputError(f"no valid product in the catalogue.{first}", file=str(catalogue))
    params: dict[str, object] = {"format": fmt or "auto"}
    result.paths["catalogue"] = _write("catalogue", cat, out_dir, params)
    result.counts["catalogue"] = cat.counts
    result.rejects += cat.rejects
    ids = {p.product_id for p in cat.records}
    if search_buy is not None:
        sb = load_search_buy(search_buy, ids, fmt)
        result.paths["search_buy"] = _write("search_buy", sb, out_dir, params)
        result.counts["search_buy"] = sb.counts
        result.rejects += sb.rejects
    if co_buy is not None:
        cb = load_co_buy(co_buy, ids, fmt)
        result.paths["co_buy"] = _write("co_buy", cb, out_dir, params)
        result.counts["co_buy"] = cb.counts
        result.rejects += cb.rejects
    result.paths["rejects"] = write_rejects(result.rejects, out_dir / "rejects.jsonl")
    return result


def write_loaded(
    out_dir: Path,
    catalogue: Loaded[Product],
    search_buy: Loaded[SearchBuy] | None = None,
    co_buy: Loaded[CoBuy] | None = None,
    params: dict[str, object] | None = None,
) -> IngestResult:
    """Write already-validated records (e.g. from :mod:`cosmo.ingest.adapters`)."""
    result = IngestResult()
    params = params or {}
    for name, loaded in (("catalogue", catalogue), ("search_buy", search_buy), ("co_buy", co_buy)):
        if loaded is None:
            continue
        result.paths[name] = _write(name, loaded, out_dir, params)
        result.counts[name] = loaded.counts
        result.rejects += loaded.rejects
    result.paths["rejects"] = write_rejects(result.rejects, out_dir / "rejects.jsonl")
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
