"""The graph as six tables: the export format, its writer and its readers.

This module owns the format that ``cosmo kg export`` writes and that the GNN and the
evaluations read (:class:`KGTables`):

===================== ===================================================================
file                  columns
===================== ===================================================================
products.parquet      id, title, type, domain, brand
queries.parquet       key, text
intentions.parquet    id, text, tail_type, aliases
search_buy.parquet    query_key, product_id, count
co_buy.parquet        a, b, count
knowledge.parquet     head_label ('Product' | 'Query'), head_id, relation, intention_id,
                      plausibility, typicality, frequency, sources, created_run
===================== ===================================================================

* :func:`export_graph` pages through a :class:`~cosmo.kg.store.GraphStore` with keyset
  pagination (``WHERE key > $after ORDER BY key``), so memory for the reads stays flat, and
  writes the six files (each with a manifest);
* :func:`read_export` reads such a folder (a missing file is an empty table);
* :func:`read_store` reads the same tables straight from a store with portable Cypher
  (fine for graphs that fit in memory).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from cosmo.core.artifacts import staged_outputs, write_parquet
from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest
from cosmo.core.schema import RELATIONS
from cosmo.kg.store import GraphStore

__all__ = ["EXPORT_FILES", "TABLE_COLUMNS", "KGTables", "export_graph", "read_export", "read_store"]

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("id", "title", "type", "domain", "brand"),
    "queries": ("key", "text"),
    "intentions": ("id", "text", "tail_type", "aliases"),
    "search_buy": ("query_key", "product_id", "count"),
    "co_buy": ("a", "b", "count"),
    "knowledge": (
        "head_label",
        "head_id",
        "relation",
        "intention_id",
        "plausibility",
        "typicality",
        "frequency",
        "sources",
        "created_run",
    ),
}
EXPORT_FILES: tuple[str, ...] = tuple(TABLE_COLUMNS)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "products": ("id",),
    "queries": ("key",),
    "intentions": ("id", "text"),
    "search_buy": ("query_key", "product_id"),
    "co_buy": ("a", "b"),
    "knowledge": ("head_label", "head_id", "relation", "intention_id"),
}


def _empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in TABLE_COLUMNS[name]})


def _normalise(name: str, df: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in _REQUIRED[name] if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; expected {', '.join(TABLE_COLUMNS[name])}",
            file=source,
            field=missing[0],
        )
    df = df.copy()
    for c in TABLE_COLUMNS[name]:
        if c not in df.columns:
            df[c] = None
    for c in _REQUIRED[name]:
        bad = df[c].isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError("empty value", file=source, line=row + 2, field=c)
        df[c] = df[c].astype(str)
    return df[list(TABLE_COLUMNS[name])].reset_index(drop=True)


@dataclass
class KGTables:
    """The graph's nodes and edges as DataFrames (columns in :data:`TABLE_COLUMNS`)."""

    products: pd.DataFrame
    queries: pd.DataFrame
    intentions: pd.DataFrame
    search_buy: pd.DataFrame
    co_buy: pd.DataFrame
    knowledge: pd.DataFrame

    @classmethod
    def from_frames(cls, source: str = "<memory>", **frames: pd.DataFrame | None) -> KGTables:
        """Build from any subset of the six tables (missing ones are empty), checking columns."""
        unknown = set(frames) - set(TABLE_COLUMNS)
        if unknown:
            raise InputError(f"unknown table(s) {sorted(unknown)}", file=source)
        out: dict[str, pd.DataFrame] = {}
        for name in TABLE_COLUMNS:
            df = frames.get(name)
            out[name] = _empty(name) if df is None else _normalise(name, df, f"{source}/{name}")
        return cls(**out)

    def counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}

    def write_parquet(self, out_dir: Path) -> dict[str, Path]:
        """Write ``<table>.parquet`` files, each with a manifest, all or nothing; paths by name.

        The files are written into a temporary folder and renamed into ``out_dir`` only when
        all were written (:func:`cosmo.core.artifacts.staged_outputs`).
        """
        out_dir = Path(out_dir)
        with staged_outputs(out_dir) as stage:
            for name in TABLE_COLUMNS:
                frame = getattr(self, name)
                m = Manifest.for_stage(f"kg.export.{name}", counts={"rows": len(frame)})
                write_parquet(frame, stage / f"{name}.parquet", m)
        return {name: out_dir / f"{name}.parquet" for name in TABLE_COLUMNS}


def read_export(directory: Path) -> KGTables:
    """Read the Parquet files of ``cosmo kg export`` (a missing file is an empty table).

    Raises:
        InputError: the folder does not exist, holds none of the files, or a file lacks
            a required column.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError("not a folder; run `cosmo kg export DIR` first", file=str(directory))
    frames: dict[str, pd.DataFrame | None] = {}
    for name in TABLE_COLUMNS:
        path = directory / f"{name}.parquet"
        if not path.exists():
            frames[name] = None
            continue
        try:
            frames[name] = pd.read_parquet(path)
        except Exception as e:
            raise InputError(f"not a readable Parquet file ({e})", file=str(path)) from e
    if all(v is None for v in frames.values()):
        raise InputError(
            f"holds none of {', '.join(f'{n}.parquet' for n in TABLE_COLUMNS)}",
            file=str(directory),
        )
    return KGTables.from_frames(str(directory), **frames)


# -- reading a store -------------------------------------------------------------------------
_KNOWLEDGE_FIELDS = (
    "i.id AS intention_id, r.plausibility AS plausibility, r.typicality AS typicality, "
    "r.frequency AS frequency, r.sources AS sources, r.created_run AS created_run"
)
_STORE_QUERIES: dict[str, str] = {
    "products": "MATCH (p:Product) RETURN p.id AS id, p.title AS title, p.type AS type, "
    "p.domain AS domain, p.brand AS brand",
    "queries": "MATCH (q:Query) RETURN q.key AS key, q.text AS text",
    "intentions": "MATCH (i:Intention) RETURN i.id AS id, i.text AS text, "
    "i.tail_type AS tail_type, i.aliases AS aliases",
    "search_buy": "MATCH (q:Query)-[r:SEARCH_BUY]->(p:Product) "
    "RETURN q.key AS query_key, p.id AS product_id, r.count AS count",
    "co_buy": "MATCH (a:Product)-[r:CO_BUY]->(b:Product) RETURN a.id AS a, b.id AS b, r.count AS count",
    "knowledge": "MATCH (h)-[r]->(i:Intention) WHERE h:Product OR h:Query "
    "RETURN CASE WHEN h:Product THEN 'Product' ELSE 'Query' END AS head_label, "
    "CASE WHEN h:Product THEN h.id ELSE h.key END AS head_id, type(r) AS relation, "
    + _KNOWLEDGE_FIELDS,
}


def read_store(store: GraphStore, *, timeout_ms: int | None = None) -> KGTables:
    """Read the six tables straight from a graph store (the whole graph, in memory)."""
    frames: dict[str, pd.DataFrame | None] = {}
    for name, cypher in _STORE_QUERIES.items():
        rows: list[dict[str, Any]] = store.query(cypher, timeout_ms=timeout_ms)
        frames[name] = pd.DataFrame(rows, columns=list(TABLE_COLUMNS[name])) if rows else None
    return KGTables.from_frames(f"graph store ({store.backend})", **frames)


# -- exporting a store, page by page -----------------------------------------------------
_NODE_PAGES = {
    "products": ("Product", "id"),
    "queries": ("Query", "key"),
    "intentions": ("Intention", "id"),
}


def _pages(
    store: GraphStore, lbl: str, key: str, columns: tuple[str, ...], page: int
) -> Iterator[list[dict[str, Any]]]:
    fields_ = ", ".join(f"n.{c} AS {c}" for c in columns)
    after = ""
    while True:
        rows = store.query(
            f"MATCH (n:{lbl}) WHERE n.{key} > $after RETURN {fields_} ORDER BY n.{key} LIMIT $k",
            {"after": after, "k": page},
        )
        if not rows:
            return
        yield rows
        after = rows[-1][key]


def _edges_from(store: GraphStore, lbl: str, key: str, page: int) -> Iterator[dict[str, Any]]:
    """Edges grouped by their head node, paging over the head nodes."""
    for heads in _pages(store, lbl, key, (key,), page):
        ids = [h[key] for h in heads]
        if lbl == "Query":
            yield from store.query(
                "UNWIND $ids AS k MATCH (q:Query {key: k})-[r:SEARCH_BUY]->(p:Product) "
                "RETURN 'sb' AS kind, q.key AS query_key, p.id AS product_id, r.count AS count",
                {"ids": ids},
            )
        else:
            yield from store.query(
                "UNWIND $ids AS k MATCH (a:Product {id: k})-[r:CO_BUY]->(b:Product) "
                "RETURN 'cb' AS kind, a.id AS a, b.id AS b, r.count AS count",
                {"ids": ids},
            )
        for rel in RELATIONS:
            yield from store.query(
                f"UNWIND $ids AS k MATCH (h:{lbl} {{{key}: k}})-[r:{rel}]->(i:Intention) "
                f"RETURN 'kn' AS kind, '{lbl}' AS head_label, h.{key} AS head_id, "
                f"'{rel}' AS relation, {_KNOWLEDGE_FIELDS}",
                {"ids": ids},
            )


def export_graph(store: GraphStore, out_dir: Path, *, page: int = 20_000) -> dict[str, Path]:
    """Write the six Parquet files (and manifests); return their paths by name."""
    frames: dict[str, pd.DataFrame | None] = {}
    for name, (lbl, key) in _NODE_PAGES.items():
        rows = [r for p in _pages(store, lbl, key, TABLE_COLUMNS[name], page) for r in p]
        frames[name] = pd.DataFrame(rows, columns=list(TABLE_COLUMNS[name]))
    edges: dict[str, list[dict[str, Any]]] = {"sb": [], "cb": [], "kn": []}
    for lbl, key in (("Query", "key"), ("Product", "id")):
        for r in _edges_from(store, lbl, key, page):
            edges[r.pop("kind")].append(r)
    for name, kind in (("search_buy", "sb"), ("co_buy", "cb"), ("knowledge", "kn")):
        frames[name] = pd.DataFrame(edges[kind], columns=list(TABLE_COLUMNS[name]))
    return KGTables.from_frames("graph export", **frames).write_parquet(Path(out_dir))
