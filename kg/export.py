"""Export the graph to Parquet: nodes and edges, for the GNN and for users.

Files written to ``out_dir`` (each with a manifest):

=====================  =========================================================================
products.parquet       id, title, type, domain
queries.parquet        key, text
intentions.parquet     id, text, tail_type, aliases
search_buy.parquet     query_key, product_id, count
co_buy.parquet         a, b, count
knowledge.parquet      head_label, head_id, relation, intention_id, plausibility, typicality,
                       frequency, sources, created_run
=====================  =========================================================================

Reads page through the graph with keyset pagination (``WHERE key > $after ORDER BY key``),
so memory stays flat on large graphs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from cosmo.core.manifest import Manifest
from cosmo.core.schema import RELATIONS
from cosmo.kg.store import GraphStore

__all__ = ["EXPORT_FILES", "export_graph"]

EXPORT_FILES = ("products", "queries", "intentions", "search_buy", "co_buy", "knowledge")

_NODE_QUERIES = {
    "products": (
        "Product",
        "id",
        "n.id AS id, n.title AS title, n.type AS type, n.domain AS domain",
    ),
    "queries": ("Query", "key", "n.key AS key, n.text AS text"),
    "intentions": (
        "Intention",
        "id",
        "n.id AS id, n.text AS text, n.tail_type AS tail_type, n.aliases AS aliases",
    ),
}


def _pages(
    store: GraphStore, lbl: str, key: str, fields: str, page: int
) -> Iterator[list[dict[str, Any]]]:
    after = ""
    while True:
        rows = store.query(
            f"MATCH (n:{lbl}) WHERE n.{key} > $after RETURN {fields} ORDER BY n.{key} LIMIT $k",
            {"after": after, "k": page},
        )
        if not rows:
            return
        yield rows
        after = rows[-1][key]


def _edges_from(store: GraphStore, lbl: str, key: str, page: int) -> Iterator[dict[str, Any]]:
    """Edges grouped by their head node, paging over the head nodes."""
    for heads in _pages(store, lbl, key, f"n.{key} AS {key}", page):
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
                f"RETURN 'kn' AS kind, '{lbl}' AS head_label, h.{key} AS head_id, '{rel}' AS relation, "
                "i.id AS intention_id, r.plausibility AS plausibility, r.typicality AS typicality, "
                "r.frequency AS frequency, r.sources AS sources, r.created_run AS created_run",
                {"ids": ids},
            )


def export_graph(store: GraphStore, out_dir: Path, *, page: int = 20_000) -> dict[str, Path]:
    """Write the six Parquet files (and manifests); return their paths by name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, (lbl, key, fields) in _NODE_QUERIES.items():
        rows = [r for p in _pages(store, lbl, key, fields, page) for r in p]
        cols = [f.split(" AS ")[1].strip() for f in fields.split(",")]
        paths[name] = _write(pd.DataFrame(rows, columns=cols), out_dir / f"{name}.parquet", name)
    sb: list[dict[str, Any]] = []
    cb: list[dict[str, Any]] = []
    kn: list[dict[str, Any]] = []
    for lbl, key in (("Query", "key"), ("Product", "id")):
        for r in _edges_from(store, lbl, key, page):
            kind = r.pop("kind")
            (sb if kind == "sb" else cb if kind == "cb" else kn).append(r)
    paths["search_buy"] = _write(
        pd.DataFrame(sb, columns=["query_key", "product_id", "count"]),
        out_dir / "search_buy.parquet",
        "search_buy",
    )
    paths["co_buy"] = _write(
        pd.DataFrame(cb, columns=["a", "b", "count"]), out_dir / "co_buy.parquet", "co_buy"
    )
    kcols = [
        "head_label",
        "head_id",
        "relation",
        "intention_id",
        "plausibility",
        "typicality",
        "frequency",
        "sources",
        "created_run",
    ]
    paths["knowledge"] = _write(
        pd.DataFrame(kn, columns=kcols), out_dir / "knowledge.parquet", "knowledge"
    )
    return paths


def _write(df: pd.DataFrame, path: Path, name: str) -> Path:
    tmp = path.with_suffix(".parquet.tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)
    Manifest(stage=f"kg.export.{name}").write(path, rows=len(df))
    return path
