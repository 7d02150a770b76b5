"""Adapters from public datasets to cosmo's catalogue and behaviour records.

* **IntentionQA / FolkScope** (``task1.jsonl``, read by :mod:`cosmo.ingest.intentionqa`):
  real Amazon co-buy pairs with real titles (``item_a_id``, ``item_b_id``, ``item_a_name``,
  ``item_b_name``). Gives a catalogue
  (types and domains unknown) and co-buy pairs (each distinct pair once, count 1: the
  file repeats a pair once per assertion, which is not a purchase count).
* **ESCI Shopping Queries** (the merged examples + products table): ``query``,
  ``product_id``, ``product_title``, ``esci_label``, ``product_locale`` (optional
  ``product_brand``, ``product_description``). ``Exact`` (``E``) judgements become
  search-buy pairs; every judged product with a title joins the catalogue.

Both return :class:`~cosmo.ingest.validate.Loaded` objects, so bad rows are reported
with file, line and field exactly as for the native formats.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from cosmo.core.errors import InputError
from cosmo.core.records import CoBuy, Product, SearchBuy
from cosmo.core.schema import query_key
from cosmo.core.tables import read_table, resolve_columns, text_value
from cosmo.ingest.intentionqa import PAIR_FIELDS, read_rows
from cosmo.ingest.validate import Loaded

__all__ = ["Adapted", "read_esci", "read_intentionqa"]

EXACT_LABELS = frozenset({"e", "exact"})


@dataclass
class Adapted:
    """What an adapter produced."""

    catalogue: Loaded[Product]
    search_buy: Loaded[SearchBuy] | None = None
    co_buy: Loaded[CoBuy] | None = None


def _product(
    pid: str | None,
    title: str | None,
    path: Path,
    line: int,
    id_field: str,
    title_field: str,
    **extra: str | None,
) -> Product | InputError:
    if not pid or not pid.strip():
        return InputError("product id is empty", file=str(path), line=line, field=id_field)
    if not title or not title.strip():
        return InputError("title is empty", file=str(path), line=line, field=title_field)
    try:
        title = html.unescape(title)  # the published titles carry HTML entities ("S&amp;E")
        return Product(product_id=pid, title=title, **{k: v for k, v in extra.items() if v})
    except ValueError as e:
        return InputError(f"invalid product: {e}", file=str(path), line=line, field=title_field)


def read_intentionqa(path: Path | str) -> Adapted:
    """Catalogue and co-buy pairs from an IntentionQA / FolkScope JSONL file."""
    path = Path(path)
    unreadable: list[InputError] = []
    rows = list(read_rows(path, PAIR_FIELDS, problems=unreadable))
    cat: Loaded[Product] = Loaded(path, rejects=list(unreadable))
    cb: Loaded[CoBuy] = Loaded(path)
    products: dict[str, Product] = {}
    pairs: dict[tuple[str, str], CoBuy] = {}
    for line, v in rows:
        got = [
            _product(
                text_value(v[f"item_{s}_id"]),
                text_value(v[f"item_{s}_name"]),
                path,
                line,
                f"item_{s}_id",
                f"item_{s}_name",
            )
            for s in ("a", "b")
        ]
        bad = [g for g in got if isinstance(g, InputError)]
        if bad:
            cat.rejects.append(bad[0])
            continue
        a, b = (g for g in got if isinstance(g, Product))
        products.setdefault(a.product_id, a)
        products.setdefault(b.product_id, b)
        if a.product_id == b.product_id:
            msg = "a co-buy pair needs two different products"
            cb.rejects.append(InputError(msg, file=str(path), line=line, field="item_b_id"))
            continue
        x, y = sorted((a.product_id, b.product_id))
        pairs.setdefault((x, y), CoBuy(product_a=x, product_b=y, count=1))
    cat.records = list(products.values())
    cb.records = list(pairs.values())
    n = len(rows) + len(unreadable)
    cat.counts = {"rows_read": n, "rejected": len(cat.rejects), "products": len(cat.records)}
    cb.counts = {"rows_read": n, "rejected": len(cb.rejects), "pairs": len(cb.records)}
    return Adapted(catalogue=cat, co_buy=cb)


def read_esci(path: Path | str, locale: str | None = "us", fmt: str | None = None) -> Adapted:
    """Catalogue and search-buy pairs (Exact judgements) from an ESCI table."""
    table = read_table(path, fmt, lenient=True)
    cols = resolve_columns(
        table,
        ["query", "product_id", "product_title", "esci_label"],
        ["product_locale", "product_brand", "product_description"],
    )
    cat: Loaded[Product] = Loaded(table.path, rejects=list(table.rejects))
    sb: Loaded[SearchBuy] = Loaded(table.path)
    products: dict[str, Product] = {}
    merged: dict[tuple[str, str], SearchBuy] = {}
    skipped_locale = not_exact = 0
    for row in table.rows:
        v = row.values
        if (
            locale
            and "product_locale" in cols
            and (v.get(cols["product_locale"]) or "").lower() != locale.lower()
        ):
            skipped_locale += 1
            continue
        p = _product(
            v.get(cols["product_id"]),
            v.get(cols["product_title"]),
            table.path,
            row.line,
            cols["product_id"],
            cols["product_title"],
            brand=v.get(cols["product_brand"]) if "product_brand" in cols else None,
            description=v.get(cols["product_description"])
            if "product_description" in cols
            else None,
        )
        if isinstance(p, InputError):
            cat.rejects.append(p)
            continue
        products.setdefault(p.product_id, p)
        label = (v.get(cols["esci_label"]) or "").strip().lower()
        if label not in EXACT_LABELS:
            not_exact += 1
            continue
        q = " ".join((v.get(cols["query"]) or "").split())
        if not query_key(q):
            sb.rejects.append(
                InputError(
                    "query is empty", file=str(table.path), line=row.line, field=cols["query"]
                )
            )
            continue
        key = (query_key(q), p.product_id)
        prev = merged.get(key)
        merged[key] = SearchBuy(
            query=q, product_id=p.product_id, count=1 + (prev.count if prev else 0)
        )
    cat.records = list(products.values())
    sb.records = list(merged.values())
    n = len(table.rows) + len(table.rejects)
    cat.counts = {
        "rows_read": n,
        "rejected": len(cat.rejects),
        "products": len(cat.records),
        "other_locale": skipped_locale,
    }
    sb.counts = {
        "rows_read": n,
        "rejected": len(sb.rejects),
        "not_exact": not_exact,
        "pairs": len(sb.records),
    }
    return Adapted(catalogue=cat, search_buy=sb)
