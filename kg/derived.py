"""Derived query → intention edges: what the products bought for a query are for.

COSMO generates knowledge for search-buy pairs (query + purchased product → intention). Where
that knowledge is absent for a query, or was filtered out, the query still has the
intentions of the products bought after it. For a query *q*, a relation *R* and an
intention *i*, the derived edge ``(q)-[R]->(i)`` has the weight

    w(q, R, i) = Σ_p count(q, p) · typicality(p, R, i)  /  Σ_p count(q, p)

over the products *p* bought for *q* (``SEARCH_BUY.count``; an edge without typicality counts
its plausibility, else 1). Only a query with no knowledge edge of its own (one with behaviour
pairs in ``sources``: generated or imported for its search-buy pairs) gets derived edges; when
it gains one, its derived edges go. Derived edges carry ``derived_from`` (the product ids the weight
came from) and ``model = 'derived'``, with the weight as ``typicality`` and the count-weighted
plausibility as ``plausibility``; a derived edge that gains a behaviour pair of its own stops
being derived.

:func:`refresh_after_load` runs at the end of every load (the incremental loader, the
``GRAPH.BULK`` first build and ``neo4j-admin import``) for the queries whose bought products'
knowledge that load touched. Edges are merged, not
recreated: a reload of the same file changes nothing, and a new derived edge gets the load's
``created_run``/``created_seq``, so ``cosmo kg diff`` lists it (and ``rollback`` removes it).

:func:`refresh_product_counts` keeps ``Intention.product_count``, the number of products
with the intention (navigation's specificity, a document frequency): every load recounts the
intentions it touched (a first build all of them), and a rollback those it took edges from.
A graph written outside cosmo's loaders has no count; navigation then treats the intention
as specific to the products it was found on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cosmo.core.schema import RELATIONS, relation_type
from cosmo.kg.store import GraphStore

__all__ = [
    "DERIVED_MODEL",
    "DerivedCounts",
    "intentions_of_run",
    "refresh_after_load",
    "refresh_derived",
    "refresh_product_counts",
]

DERIVED_MODEL = "derived"

_TOUCHED = (  # every write of a knowledge edge sets updated_run (kg.queries)
    "MATCH (p:Product)-[r]->(i:Intention) WHERE r.updated_run = $run "
    "RETURN collect(DISTINCT p.id) AS products, collect(DISTINCT i.id) AS intentions"
)
_BUYERS = (
    "UNWIND $ids AS pid MATCH (q:Query)-[:SEARCH_BUY]->(:Product {id: pid}) "
    "RETURN DISTINCT q.key AS key"
)
_BOUGHT = (
    "UNWIND $keys AS k MATCH (q:Query {key: k})-[s:SEARCH_BUY]->(p:Product) "
    "RETURN k, p.id AS p, coalesce(s.count, 1) AS c"
)
_PRODUCT_EDGES = (
    "UNWIND $ids AS pid MATCH (p:Product {id: pid})-[r]->(i:Intention) "
    "RETURN pid AS p, type(r) AS rel, i.id AS i, r.typicality AS ty, r.plausibility AS pl"
)
_QUERY_EDGES = """UNWIND $keys AS k
MATCH (q:Query {key: k})-[r]->(i:Intention)
WITH k, type(r) AS rel, i.id AS i, r.derived_from AS df, coalesce(size(r.sources), 0) AS n
WITH k, max(n) > 0 AS direct,
     collect(CASE WHEN n = 0 OR df IS NOT NULL THEN {rel: rel, i: i, df: df, n: n} END) AS edges
RETURN k, direct, edges"""
"""Per query: whether it has knowledge of its own, and only the edges a refresh may change
(derived ones, and own ones still marked derived). Aggregated on the server: a hub query's
thousands of own edges used to come back row by row, 3.5 s of a 4.5 s refresh at 3M edges."""


@dataclass
class DerivedCounts:
    """What one refresh did: queries looked at, derived edges added, updated and removed."""

    queries: int = 0
    by_relation: dict[str, int] = field(default_factory=dict)  # added, per relation
    added: int = 0
    kept: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def refresh_after_load(
    store: GraphStore,
    run_id: str,
    seq: int,
    now: str,
    *,
    first_build: bool = False,
    touched: tuple[Iterable[str], Iterable[str]] | None = None,
) -> DerivedCounts:
    """What every load ends with: the derived edges and intention product counts it affects.

    An incremental load affects the queries that bought the products it wrote knowledge for
    and the intentions that knowledge points at: ``touched``, the (products, intentions) the
    loader's plan held, or else read from the graph, every edge the run marked (a scan of all
    product knowledge, whose cost grows with the graph: at 3M edges 12 s of a 15 s load of
    20,000 triples). A first build affects everything.
    """
    if first_build:
        keys = [r["key"] for r in store.query("MATCH (q:Query) RETURN q.key AS key")]
        derived = refresh_derived(store, run_id, seq, now, keys)
        refresh_product_counts(store)
        return derived
    if touched is None:
        rows = store.query(_TOUCHED, {"run": run_id})
        touched = (rows[0]["products"], rows[0]["intentions"]) if rows else ([], [])
    products, intentions = sorted(set(touched[0])), sorted(set(touched[1]))
    buyers = store.query(_BUYERS, {"ids": products}) if products else []
    derived = refresh_derived(store, run_id, seq, now, [r["key"] for r in buyers])
    refresh_product_counts(store, intentions)
    return derived


def _wanted(store: GraphStore, keys: list[str]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(query, relation, intention) → the derived edge's weight, plausibility and products."""
    if not keys:
        return {}
    bought = store.query(_BOUGHT, {"keys": keys})
    edges: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ids = sorted({r["p"] for r in bought})
    for r in store.query(_PRODUCT_EDGES, {"ids": ids}) if ids else []:
        edges[r["p"]].append(r)
    total: dict[str, float] = defaultdict(float)
    for b in bought:
        total[b["k"]] += float(b["c"])
    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    for b in bought:
        c = float(b["c"])
        for e in edges[b["p"]]:
            ty = e["ty"] if e["ty"] is not None else e["pl"] if e["pl"] is not None else 1.0
            pl = e["pl"] if e["pl"] is not None else 1.0
            a = acc.setdefault((b["k"], e["rel"], e["i"]), {"w": 0.0, "pl": 0.0, "from": set()})
            a["w"] += c * float(ty) / total[b["k"]]
            a["pl"] += c * float(pl) / total[b["k"]]
            a["from"].add(b["p"])
    return acc


def _write(store: GraphStore, rel: str, cypher: str, rows: list[dict[str, Any]], **p: Any) -> None:
    if rows:
        for _ in store.write_batches(cypher.format(rel=relation_type(rel)), rows, extra=p):
            pass


_MERGE = """UNWIND $rows AS row
MATCH (q:Query {{key: row.q}})
MATCH (i:Intention {{id: row.i}})
MERGE (q)-[r:{rel}]->(i)
ON CREATE SET r.created_run = $run, r.created_seq = $seq, r.created_at = $now,
    r.sources = [], r.frequency = 0, r.model = $model, r.pipeline_run = $model
SET r.derived_from = row.from, r.typicality = row.w, r.plausibility = row.pl"""
_DROP = """UNWIND $rows AS row
MATCH (q:Query {{key: row.q}})-[r:{rel}]->(i:Intention {{id: row.i}})
WHERE size(r.sources) = 0 DELETE r"""
_PROMOTE = """UNWIND $rows AS row
MATCH (q:Query {{key: row.q}})-[r:{rel}]->(i:Intention {{id: row.i}})
SET r.derived_from = null"""


DERIVED_BATCH = 1000
"""Queries refreshed per round: each round's reads and writes stay bounded, whatever the
graph's size (a first build refreshes every query; one 300,000-id read held a 10M FalkorDB
for over an hour)."""


def refresh_derived(
    store: GraphStore,
    run_id: str,
    seq: int,
    now: str,
    keys: list[str],
    *,
    batch: int = DERIVED_BATCH,
) -> DerivedCounts:
    """Recompute the derived edges of the queries ``keys``, recorded on the run ``run_id``.

    Queries are independent of each other, so they are refreshed ``batch`` at a time.
    """
    keys = sorted(set(keys))
    out = DerivedCounts(queries=len(keys))
    if not keys:
        return out
    extra = {"run": run_id, "seq": seq, "now": now, "model": DERIVED_MODEL}
    for lo in range(0, len(keys), batch):
        _refresh_some(store, keys[lo : lo + batch], out, extra)
    store.execute(
        "MATCH (r:LoadRun {id: $id}) SET r.derived = $d",
        {"id": run_id, "d": json.dumps(out.as_dict(), sort_keys=True)},
    )
    return out


def query_edges(
    store: GraphStore, keys: list[str]
) -> tuple[set[str], dict[tuple[str, str, str], dict[str, Any]]]:
    """Of the queries ``keys``: those with knowledge of their own, and the edges a refresh may
    change by (query, relation, intention), each ``{df: derived_from, n: its sources}``."""
    rows = store.query(_QUERY_EDGES, {"keys": keys})
    direct = {r["k"] for r in rows if r["direct"]}
    return direct, {(r["k"], e["rel"], e["i"]): e for r in rows for e in r["edges"]}


def _refresh_some(
    store: GraphStore, keys: list[str], out: DerivedCounts, extra: dict[str, Any]
) -> None:
    """Refresh the derived edges of one round of queries, adding to the counts ``out``."""
    direct, have = query_edges(store, keys)
    # a query with knowledge of its own gets no derived edge: its products are not even read
    # (at 10M edges, weighing every bought product's intentions first took hours of Python)
    wanted = _wanted(store, [k for k in keys if k not in direct])
    plan: dict[str, dict[str, list[dict[str, Any]]]] = {
        rel: {"merge": [], "drop": [], "promote": []} for rel in RELATIONS
    }
    for (k, rel, i), e in have.items():
        own = int(e["n"]) > 0
        if own and e["df"] is not None:
            plan[rel]["promote"].append({"q": k, "i": i})
        elif not own and (k, rel, i) not in wanted:
            plan[rel]["drop"].append({"q": k, "i": i})
    for (k, rel, i), a in sorted(wanted.items()):
        row = {"q": k, "i": i, "w": round(a["w"], 6), "pl": round(a["pl"], 6)}
        plan[rel]["merge"].append({**row, "from": sorted(a["from"])})
        if (k, rel, i) not in have:
            out.added += 1
            out.by_relation[rel] = out.by_relation.get(rel, 0) + 1
        else:
            out.kept += 1
    for rel, p in plan.items():
        _write(store, rel, _MERGE, p["merge"], **extra)
        _write(store, rel, _DROP, p["drop"])
        _write(store, rel, _PROMOTE, p["promote"])
        out.removed += len(p["drop"])


_RUN_INTENTIONS = (  # created_run too: a later load may have updated an edge this run created
    "MATCH (:Product)-[r]->(i:Intention) WHERE r.updated_run = $run OR r.created_run = $run "
    "RETURN DISTINCT i.id AS id"
)
_COUNT_PRODUCTS = """UNWIND $rows AS row
MATCH (i:Intention {id: row.id})
OPTIONAL MATCH (p:Product)-[]->(i)
WITH i, count(DISTINCT p) AS n
SET i.product_count = n"""


def intentions_of_run(store: GraphStore, run_id: str) -> list[str]:
    """Ids of the intentions that ``run_id`` created or reinforced a product edge to."""
    return sorted(r["id"] for r in store.query(_RUN_INTENTIONS, {"run": run_id}))


def refresh_product_counts(store: GraphStore, ids: list[str] | None = None) -> int:
    """Recount ``Intention.product_count`` for ``ids`` (default: every intention)."""
    if ids is None:
        ids = sorted(r["id"] for r in store.query("MATCH (i:Intention) RETURN i.id AS id"))
    for _ in store.write_batches(_COUNT_PRODUCTS, [{"id": i} for i in ids]):
        pass
    return len(ids)
