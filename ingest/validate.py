"""Validate catalogue, search-buy and co-buy files into records, keeping the good rows.

Each loader returns a :class:`Loaded`: the valid, normalised, de-duplicated records, and
one :class:`~cosmo.core.errors.InputError` per rejected row naming file, line and field.
Normalisation:

* queries are compared by :func:`cosmo.core.schema.query_key` (NFKC, lower case, single
  spaces, no punctuation at the ends); rows with the same key and product merge and
  their counts add up (the first surface form is kept, white space collapsed);
* co-buy pairs are unordered: ``(b, a)`` is stored as ``(a, b)`` with ``a < b``, and
  duplicates add up;
* a product id listed twice in the catalogue keeps its first row (counted as duplicate);
  a repeat whose title differs is also a reject, naming its line and the kept one's.

Behaviour rows naming a product that is not in the catalogue are rejected (when a
catalogue is given), because the generator needs the product's title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from cosmo.core.errors import InputError
from cosmo.core.records import CoBuy, Product, SearchBuy
from cosmo.core.schema import query_key
from cosmo.core.tables import Table, read_table, resolve_columns

__all__ = [
    "CATALOGUE_ALIASES",
    "CO_BUY_ALIASES",
    "SEARCH_BUY_ALIASES",
    "Loaded",
    "load_catalogue",
    "load_co_buy",
    "load_search_buy",
]

R = TypeVar("R", bound=BaseModel)

CATALOGUE_ALIASES: dict[str, tuple[str, ...]] = {
    "product_id": ("id", "asin", "item_id", "sku"),
    "title": ("product_title", "name", "item_name"),
    "product_type": ("type", "product_type_name"),
    "domain": ("category", "department", "main_category"),
    "brand": ("product_brand",),
    "description": ("product_description",),
}
SEARCH_BUY_ALIASES: dict[str, tuple[str, ...]] = {
    "query": ("search_query", "keywords", "search_term"),
    "product_id": ("asin", "item_id", "purchased_product_id"),
    "count": ("purchases", "n", "frequency"),
    "timestamp": ("ts", "time", "purchased_at"),
}
CO_BUY_ALIASES: dict[str, tuple[str, ...]] = {
    "product_a": ("item_a_id", "a", "product_id_a", "source"),
    "product_b": ("item_b_id", "b", "product_id_b", "target"),
    "count": ("n", "frequency", "purchases"),
}

_SPACE = re.compile(r"\s+")


@dataclass
class Loaded(Generic[R]):
    """Valid records of one file, the rejected rows and what happened to the rest."""

    path: Path
    records: list[R] = field(default_factory=list)
    rejects: list[InputError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        """The records as a DataFrame (columns in record-field order)."""
        if not self.records:
            return pd.DataFrame(columns=list(self._fields()))
        return pd.DataFrame([r.model_dump() for r in self.records])

    def _fields(self) -> Iterable[str]:
        return self.records[0].model_fields if self.records else ()


def _friendly(err: dict[str, Any], column: str) -> str:
    kind = err.get("type", "")
    if kind in ("string_too_short", "missing") or (
        kind == "string_type" and err.get("input") is None
    ):
        return f"{column} is empty"
    if kind == "string_too_long":
        return f"{column} is too long (max {err.get('ctx', {}).get('max_length')} characters)"
    if kind.startswith("int_") or kind == "greater_than_equal":
        return f"{column} must be a whole number ≥ 1, got {err.get('input')!r}"
    return f"{column}: {err.get('msg', 'invalid value')}"


def _build(
    model: type[R], values: Mapping[str, Any], table: Table, line: int, colmap: Mapping[str, str]
) -> R | InputError:
    try:
        return model(**values)
    except ValidationError as e:
        first = e.errors()[0]
        name = str(first["loc"][0]) if first.get("loc") else None
        column = colmap.get(name, name) if name else None
        return InputError(
            _friendly(dict(first), column or "row"), file=str(table.path), line=line, field=column
        )


def _pick(
    values: Mapping[str, str | None], colmap: Mapping[str, str], names: Iterable[str]
) -> dict[str, Any]:
    return {n: values.get(colmap[n]) for n in names if n in colmap}


def load_catalogue(path: Path | str, fmt: str | None = None) -> Loaded[Product]:
    """Read and validate a catalogue (product_id, title, product_type, domain, brand, description)."""
    table = read_table(path, fmt, lenient=True)
    colmap = resolve_columns(
        table,
        ["product_id", "title"],
        ["product_type", "domain", "brand", "description"],
        CATALOGUE_ALIASES,
    )
    out: Loaded[Product] = Loaded(table.path, rejects=list(table.rejects))
    seen: dict[str, Product] = {}
    lines: dict[str, int] = {}
    dupes = 0
    for row in table.rows:
        values = _pick(row.values, colmap, colmap)
        for k in ("product_type", "domain", "brand", "description"):
            if values.get(k) is not None and not str(values[k]).strip():
                values[k] = None
        rec = _build(Product, values, table, row.line, colmap)
        if isinstance(rec, InputError):
            out.rejects.append(rec)
            continue
        first = seen.get(rec.product_id)
        if first is not None:
            dupes += 1
            if first.title != rec.title:
                out.rejects.append(_conflict(table, row.line, colmap["title"], rec, lines))
            continue
        seen[rec.product_id], lines[rec.product_id] = rec, row.line
        out.records.append(rec)
    out.counts = {
        "rows_read": len(table.rows) + len(table.rejects),
        "rejected": len(out.rejects),
        "duplicates_dropped": dupes,
        "products": len(out.records),
    }
    return out


def _conflict(
    table: Table, line: int, column: str, rec: Product, lines: Mapping[str, int]
) -> InputError:
    return InputError(
        f"duplicate product id {rec.product_id!r} with a different title than line "
        f"{lines[rec.product_id]} (that row is kept)",
        file=str(table.path),
        line=line,
        field=column,
    )


def _unknown(table: Table, line: int, column: str, pid: str) -> InputError:
    return InputError(
        f"unknown product id {pid!r} (not in the catalogue)",
        file=str(table.path),
        line=line,
        field=column,
    )


def _parse_count(values: dict[str, Any], colmap: Mapping[str, str]) -> None:
    raw = values.get("count")
    if raw is None:
        values.pop("count", None)  # a row is one purchase (e.g. one timestamped event)
        return
    text = str(raw).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        values["count"] = int(float(text))


def load_search_buy(
    path: Path | str, product_ids: Iterable[str] | None = None, fmt: str | None = None
) -> Loaded[SearchBuy]:
    """Read search-buy rows (query, product_id, count or timestamp), merging repeats."""
    table = read_table(path, fmt, lenient=True)
    colmap = resolve_columns(
        table, ["query", "product_id"], ["count", "timestamp"], SEARCH_BUY_ALIASES
    )
    known = set(product_ids) if product_ids is not None else None
    out: Loaded[SearchBuy] = Loaded(table.path, rejects=list(table.rejects))
    merged: dict[tuple[str, str], SearchBuy] = {}
    for row in table.rows:
        values = _pick(row.values, colmap, ("query", "product_id", "count"))
        if values.get("query") is not None:
            values["query"] = _SPACE.sub(" ", str(values["query"])).strip()
            if values["query"] and not query_key(values["query"]):
                out.rejects.append(
                    InputError(
                        "query has no words",
                        file=str(table.path),
                        line=row.line,
                        field=colmap["query"],
                    )
                )
                continue
        _parse_count(values, colmap)
        rec = _build(SearchBuy, values, table, row.line, colmap)
        if isinstance(rec, InputError):
            out.rejects.append(rec)
            continue
        if known is not None and rec.product_id not in known:
            out.rejects.append(_unknown(table, row.line, colmap["product_id"], rec.product_id))
            continue
        key = (query_key(rec.query), rec.product_id)
        prev = merged.get(key)
        merged[key] = (
            rec if prev is None else prev.model_copy(update={"count": prev.count + rec.count})
        )
    out.records = list(merged.values())
    good = len(table.rows) - (len(out.rejects) - len(table.rejects))
    out.counts = {
        "rows_read": len(table.rows) + len(table.rejects),
        "rejected": len(out.rejects),
        "rows_merged": good - len(out.records),
        "pairs": len(out.records),
        "queries": len({query_key(r.query) for r in out.records}),
    }
    return out


def load_co_buy(
    path: Path | str, product_ids: Iterable[str] | None = None, fmt: str | None = None
) -> Loaded[CoBuy]:
    """Read co-buy rows (product_a, product_b, count); pairs are unordered and merged."""
    table = read_table(path, fmt, lenient=True)
    colmap = resolve_columns(table, ["product_a", "product_b"], ["count"], CO_BUY_ALIASES)
    known = set(product_ids) if product_ids is not None else None
    out: Loaded[CoBuy] = Loaded(table.path, rejects=list(table.rejects))
    merged: dict[tuple[str, str], CoBuy] = {}
    for row in table.rows:
        values = _pick(row.values, colmap, ("product_a", "product_b", "count"))
        _parse_count(values, colmap)
        rec = _build(CoBuy, values, table, row.line, colmap)
        if isinstance(rec, InputError):
            out.rejects.append(rec)
            continue
        if rec.product_a == rec.product_b:
            out.rejects.append(
                InputError(
                    "a co-buy pair needs two different products",
                    file=str(table.path),
                    line=row.line,
                    field=colmap["product_b"],
                )
            )
            continue
        bad = next(
            (
                c
                for c in ("product_a", "product_b")
                if known is not None and getattr(rec, c) not in known
            ),
            None,
        )
        if bad is not None:
            out.rejects.append(_unknown(table, row.line, colmap[bad], getattr(rec, bad)))
            continue
        a, b = sorted((rec.product_a, rec.product_b))
        prev = merged.get((a, b))
        count = rec.count + (prev.count if prev else 0)
        merged[(a, b)] = CoBuy(product_a=a, product_b=b, count=count)
    out.records = list(merged.values())
    good = len(table.rows) - (len(out.rejects) - len(table.rejects))
    out.counts = {
        "rows_read": len(table.rows) + len(table.rejects),
        "rejected": len(out.rejects),
        "rows_merged": good - len(out.records),
        "pairs": len(out.records),
    }
    return out
