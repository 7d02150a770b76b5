"""Search navigation, recommendation and relevance over the knowledge graph.

Navigation follows COSMO's Figure 9: a query's candidate products are those bought for it
(``SEARCH_BUY``) and those sharing an intention with it; selecting intentions keeps the
products that have every selected one; facets are the candidates' intentions grouped by
relation and tail type, with product counts, ranked by :func:`facet_score` (coverage of the
result products × typicality × specificity); a value every result product has is left out.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from cosmo.api.services.graph import PRODUCT, GraphReader
from cosmo.kg.store import Row

__all__ = [
    "Candidates",
    "Facet",
    "FacetValue",
    "GraphRecommender",
    "Recommendation",
    "Recommender",
    "Relevance",
    "TTLCache",
    "candidates",
    "candidates_cypher",
    "facet_rows",
    "facet_score",
    "facets",
    "group_facets",
    "relevance",
]


class TTLCache:
    """A small in-process LRU cache whose entries expire after ``ttl_s`` seconds.

    Navigation answers change only when the graph is reloaded (in batches), so a short
    TTL takes repeated queries off the database; ``ttl_s=0`` turns it off.
    """

    def __init__(self, ttl_s: float, size: int) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any:
        hit = self._data.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        self._data.move_to_end(key)
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        if self.ttl_s <= 0:
            return
        self._data[key] = (time.monotonic() + self.ttl_s, value)
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


_COLS = "p.id AS id, p.title AS title, p.type AS type, p.domain AS domain"
_FILTER = (
    "MATCH (p)-->(si:Intention) WHERE si.id IN $sel "
    "WITH p, {keep}, count(DISTINCT si) AS hit WHERE hit = $nsel "
)


@dataclass
class Candidates:
    """Ranked candidate products of one navigation request."""

    products: list[Row]
    scores: dict[str, float]
    known_query: bool


@dataclass
class FacetValue:
    intention: Row
    count: int
    selected: bool
    score: float = 0.0  # facet_score: coverage × typicality × specificity


@dataclass
class Facet:
    relation: str
    tail_type: str
    values: list[FacetValue] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(v.count for v in self.values)


def _merge(rows: list[Row]) -> tuple[list[Row], dict[str, float]]:
    best: dict[str, Row] = {}
    bought: dict[str, float] = {}
    shared: dict[str, float] = {}
    for r in rows:
        best[r["id"]] = {
            "id": r["id"],
            "title": r["title"],
            "type": r["type"],
            "domain": r["domain"],
        }
        bought[r["id"]] = bought.get(r["id"], 0.0) + float(r["bought"] or 0)
        shared[r["id"]] = shared.get(r["id"], 0.0) + float(r["shared"] or 0)
    top_b = max(bought.values(), default=0.0) or 1.0
    top_s = max(shared.values(), default=0.0) or 1.0
    scores = {i: bought[i] / top_b + 0.5 * shared[i] / top_s for i in best}
    order = sorted(best, key=lambda i: (-scores[i], i))
    return [best[i] for i in order], scores


def candidates_cypher(selected: bool) -> str:
    """The read of a known query's candidates: its bought products and those sharing an
    intention with it (parameters ``key``, ``cap`` and, when ``selected``, ``sel``/``nsel``)."""
    f1 = _FILTER.format(keep="c") if selected else ""
    # scores use counts, not edge properties: reading a property of every traversed
    # edge dominated the cost on large graphs; maps are built after LIMIT for the same reason
    bought = (
        "MATCH (q:Query {key: $key})-[s:SEARCH_BUY]->(p:Product) WITH p, s.count AS c "
        f"{f1}WITH p, coalesce(c, 1) * 1.0 AS bought ORDER BY bought DESC LIMIT $cap "
        f"RETURN {_COLS}, bought, 0 AS shared "
    )
    if not selected:
        return (
            f"{bought}UNION ALL "
            "MATCH (q:Query {key: $key})-->(i:Intention)<--(p:Product) "
            "WITH p, count(DISTINCT i) AS shared ORDER BY shared DESC LIMIT $cap "
            f"RETURN {_COLS}, 0.0 AS bought, shared"
        )
    # with a selection, the shared half starts from the selected intentions' products (by
    # index) and keeps those with the query's intentions: the rows of filtering every
    # product sharing an intention by all its edges, at half the FalkorDB time and a fifth
    # of Neo4j's db hits (bench/nav_db.py); the query's intentions are collected first, as
    # FalkorDB otherwise expands an intention to all its queries
    return (
        f"{bought}UNION ALL "
        "MATCH (q:Query {key: $key})-->(qi:Intention) WITH collect(DISTINCT qi) AS qis "
        "UNWIND $sel AS sid MATCH (si:Intention {id: sid})<--(p:Product) "
        "WITH qis, p, count(DISTINCT si) AS hit WHERE hit = $nsel "
        "MATCH (p)-->(i:Intention) WHERE i IN qis "
        "WITH p, count(DISTINCT i) AS shared ORDER BY shared DESC LIMIT $cap "
        f"RETURN {_COLS}, 0.0 AS bought, shared"
    )


async def candidates(
    reader: GraphReader, key: str, text: str, selected: Sequence[str], cap: int
) -> Candidates:
    """Products for a query (one round trip; for an unknown query, a full-text search of the
    titles and the read of its products)."""
    sel = list(dict.fromkeys(selected))
    p: dict[str, Any] = {"key": key, "sel": sel, "nsel": len(sel), "cap": cap}
    rows = await reader.rows(candidates_cypher(bool(sel)), p)
    known = bool(rows)
    if not rows:  # an unknown query: products whose titles share its words
        hits = await reader.store.fulltext_search(
            "Product", text, None if sel else cap, timeout_ms=reader.timeout_ms
        )
        f3 = _FILTER.format(keep="score") if sel else ""
        rows = (
            await reader.rows(
                "UNWIND $hits AS h MATCH (p:Product {id: h.id}) WITH p, h.score AS score "
                f"{f3}WITH p, score ORDER BY score DESC LIMIT $cap "
                f"RETURN {_COLS}, 0.0 AS bought, score AS shared",
                {**p, "hits": hits},
            )
            if hits
            else []
        )
    products, scores = _merge(rows)
    return Candidates(products[:cap], scores, known)


# one (product, relation, intention) edge exists at most once, so count(*) counts products
FACET_CYPHER = (
    "UNWIND $ids AS k MATCH (p:Product {id: k})-[r]->(i:Intention) "
    "WITH type(r) AS relation, i, count(*) AS n, "
    "avg(coalesce(r.typicality, r.plausibility, 1.0)) AS ty "
    "ORDER BY n DESC, i.id, relation LIMIT $top "
    "RETURN relation, n, i.id AS id, i.text AS text, i.tail_type AS tail_type, ty, "
    "i.product_count AS df "
    "ORDER BY n DESC, id, relation"
)
FACET_ROWS = 200  # rows a facet read keeps for sizes up to FACET_ROWS // 20


def facet_row_limit(per_facet: int) -> int:
    return max(FACET_ROWS, 20 * per_facet)


async def facet_rows(reader: GraphReader, product_ids: Sequence[str], top: int) -> list[Row]:
    """The ``top`` most frequent (relation, intention) pairs of ``product_ids``, in a total order.

    The order (count, intention id, relation) is total, so the rows for a smaller ``top``
    are a prefix of these: a precomputed read serves every size it covers exactly. Each row
    also carries ``ty``, the mean typicality of its product edges, and ``df``, how many
    products of the whole graph have the intention (for :func:`facet_score`): the
    ``product_count`` every load keeps on the intention (:mod:`cosmo.kg.derived`), read here
    instead of counted, which cost more than the rest of the read.
    """
    if not product_ids:
        return []
    return await reader.rows(FACET_CYPHER, {"ids": list(product_ids), "top": top})


def facet_score(n: int, n_products: int, typicality: float | None, df: int | None) -> float:
    """How much a facet value is worth clicking: coverage × typicality × specificity.

    * coverage = ``n / n_products``, the share of the result products that have the intention;
    * typicality = the mean typicality of those products' edges to it (plausibility where an
      edge has none, else 1);
    * specificity = ``1 / (1 + ln df)``, ``df`` being the number of products in the whole graph
      with the intention: 1 for an intention of one product, 0.30 for one of ten.
    """
    coverage = n / n_products if n_products else 0.0
    ty = 1.0 if typicality is None else float(typicality)
    specificity = 1.0 / (1.0 + math.log(max(int(df or 0), n, 1)))
    return coverage * ty * specificity


def group_facets(
    rows: Sequence[Row], selected: Sequence[str], per_facet: int, n_products: int | None = None
) -> list[Facet]:
    """Group facet rows by (relation, tail type), ``per_facet`` values each, best first.

    Values are ranked by :func:`facet_score`, facets by their best value. A value that every
    one of ``n_products`` (two or more) result products has would not narrow them, so it is
    left out unless it is selected.
    """
    chosen = set(selected)
    rows = rows[: facet_row_limit(per_facet)]
    total = n_products if n_products is not None else max((int(r["n"]) for r in rows), default=0)
    scored = []
    for r in rows:
        n, sel = int(r["n"]), r["id"] in chosen
        if total >= 2 and n >= total and not sel:
            continue
        score = facet_score(n, total, r.get("ty"), r.get("df"))
        scored.append((-score, r["id"], r["relation"], r, score))
    groups: dict[tuple[str, str], Facet] = {}
    for _, _, _, r, score in sorted(scored, key=lambda x: x[:3]):
        i = {"id": r["id"], "text": r["text"], "tail_type": r["tail_type"]}
        g = groups.setdefault(
            (r["relation"], i["tail_type"] or ""), Facet(r["relation"], i["tail_type"] or "")
        )
        if len(g.values) < per_facet:
            g.values.append(FacetValue(i, int(r["n"]), i["id"] in chosen, round(score, 6)))
    return sorted(
        groups.values(), key=lambda f: (-f.values[0].score, -f.count, f.relation, f.tail_type)
    )


async def facets(
    reader: GraphReader, product_ids: Sequence[str], selected: Sequence[str], per_facet: int
) -> list[Facet]:
    """Intentions of ``product_ids`` grouped by (relation, tail type), best first."""
    rows = await facet_rows(reader, product_ids, facet_row_limit(per_facet))
    return group_facets(rows, selected, per_facet, len(set(product_ids)))


@dataclass(frozen=True)
class Relevance:
    product_id: str
    product: Row | None
    score: float
    purchased: bool
    shared: list[Row]


async def relevance(reader: GraphReader, key: str, product_ids: Sequence[str]) -> list[Relevance]:
    """Score products for a query by intention overlap and past purchases (one round trip)."""
    rows = await reader.rows(
        "OPTIONAL MATCH (q:Query {key: $key})-[r]->(i:Intention) "
        "WITH collect(DISTINCT i.id) AS qi "
        "UNWIND $ids AS k OPTIONAL MATCH (p:Product {id: k}) "
        "OPTIONAL MATCH (p)-[r2]->(j:Intention) "
        "WITH qi, k, p, collect(DISTINCT CASE WHEN j IS NULL THEN NULL ELSE "
        "{id: j.id, text: j.text, tail_type: j.tail_type} END) AS pis "
        "OPTIONAL MATCH (:Query {key: $key})-[s:SEARCH_BUY]->(p) "
        f"RETURN k, qi, pis, CASE WHEN p IS NULL THEN NULL ELSE {PRODUCT} END AS product, "
        "count(s) AS bought",
        {"key": key, "ids": list(dict.fromkeys(product_ids))},
    )
    by = {r["k"]: r for r in rows}
    out = []
    for pid in product_ids:
        r = by.get(pid)
        if r is None or r["product"] is None:
            out.append(Relevance(pid, None, 0.0, False, []))
            continue
        qi = set(r["qi"] or [])
        shared = [i for i in r["pis"] or [] if i and i["id"] in qi]
        purchased = int(r["bought"] or 0) > 0
        overlap = len(shared) / len(qi) if qi else 0.0
        score = 0.5 * overlap + (0.5 if purchased else 0.0)
        out.append(Relevance(pid, r["product"], round(score, 6), purchased, shared))
    return out


@dataclass(frozen=True)
class Recommendation:
    product: Row
    score: float
    co_buys: int
    shared_intentions: int


@runtime_checkable
class Recommender(Protocol):
    """Next products for a session; a trained model can be plugged in behind this."""

    async def recommend(self, session: Sequence[str], k: int) -> list[Recommendation]: ...


class GraphRecommender:
    """Co-buy counts plus shared intentions with the session's products."""

    def __init__(self, reader: GraphReader, *, cap: int = 200) -> None:
        self.reader = reader
        self.cap = cap

    async def recommend(self, session: Sequence[str], k: int) -> list[Recommendation]:
        if not session:
            return []
        rows = await self.reader.rows(
            "UNWIND $session AS sid MATCH (s:Product {id: sid})-[c:CO_BUY]-(p:Product) "
            "WHERE NOT p.id IN $session WITH p, sum(coalesce(c.count, 1)) AS cb "
            f"RETURN p.id AS id, {PRODUCT} AS product, cb * 1.0 AS cb, 0 AS shared "
            "ORDER BY cb DESC LIMIT $cap "
            "UNION ALL "
            "UNWIND $session AS sid "
            "MATCH (s:Product {id: sid})-[r]->(i:Intention)<-[r2]-(p:Product) "
            "WHERE NOT p.id IN $session AND type(r) = type(r2) "
            "WITH p, count(DISTINCT i) AS shared "
            f"RETURN p.id AS id, {PRODUCT} AS product, 0.0 AS cb, shared "
            "ORDER BY shared DESC LIMIT $cap",
            {"session": list(dict.fromkeys(session)), "cap": self.cap},
        )
        prod: dict[str, Row] = {}
        cb: dict[str, float] = {}
        sh: dict[str, int] = {}
        for r in rows:
            prod[r["id"]] = r["product"]
            cb[r["id"]] = cb.get(r["id"], 0.0) + float(r["cb"] or 0)
            sh[r["id"]] = sh.get(r["id"], 0) + int(r["shared"] or 0)
        top_cb = max(cb.values(), default=0.0) or 1.0
        top_sh = max(sh.values(), default=0) or 1
        recs = [
            Recommendation(prod[i], cb[i] / top_cb + 0.5 * sh[i] / top_sh, int(cb[i]), sh[i])
            for i in prod
        ]
        recs.sort(key=lambda x: (-x.score, x.product["id"]))
        return recs[:k]
