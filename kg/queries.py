"""The Cypher the loader writes with: one ``UNWIND $rows ... MERGE`` query per kind of write.

Every write is a ``MERGE`` inside ``UNWIND $rows`` batches, so loading the same rows twice
gives the same graph. Knowledge edges remember which behaviour pairs they came from
(``sources``); a pair already recorded on an edge adds nothing to its frequency the second
time. Labels and relation types are checked against the schema before they reach the text.
"""

from __future__ import annotations

from cosmo.core.errors import InputError
from cosmo.core.schema import NODE_KEYS, label, relation_type

__all__ = [
    "HEAD_LABELS",
    "Q_CO_BUY",
    "Q_INTENTIONS",
    "Q_PRODUCTS",
    "Q_QUERIES",
    "Q_SEARCH_BUY",
    "knowledge_query",
]

HEAD_LABELS: tuple[str, ...] = ("Product", "Query")
"""The labels a knowledge edge starts at."""

Q_PRODUCTS = """UNWIND $rows AS row
MERGE (p:Product {id: row.id})
ON CREATE SET p.created_run = $run
SET p.title = coalesce(row.title, p.title), p.type = coalesce(row.type, p.type),
    p.domain = coalesce(row.domain, p.domain)"""
Q_QUERIES = """UNWIND $rows AS row
MERGE (q:Query {key: row.key})
ON CREATE SET q.text = row.text, q.created_run = $run"""
Q_INTENTIONS = """UNWIND $rows AS row
MERGE (i:Intention {id: row.id})
ON CREATE SET i.text = row.text, i.tail_type = row.tail_type, i.aliases = [], i.created_run = $run
SET i.aliases = i.aliases + [a IN row.aliases WHERE NOT a IN i.aliases AND a <> i.text]"""
Q_SEARCH_BUY = """UNWIND $rows AS row
MATCH (q:Query {key: row.q})
MATCH (p:Product {id: row.p})
MERGE (q)-[r:SEARCH_BUY]->(p)
ON CREATE SET r.count = row.count, r.created_run = $run
SET r.count = CASE WHEN row.exact THEN row.count ELSE r.count END"""
Q_CO_BUY = """UNWIND $rows AS row
MATCH (a:Product {id: row.a})
MATCH (b:Product {id: row.b})
MERGE (a)-[r:CO_BUY]->(b)
ON CREATE SET r.count = row.count, r.created_run = $run
SET r.count = CASE WHEN row.exact THEN row.count ELSE r.count END"""


def knowledge_query(head_label: str, relation: str) -> str:
    """The MERGE for one (head label, relation); both are checked against the schema first."""
    lbl, rel = label(head_label), relation_type(relation)
    if lbl not in HEAD_LABELS:
        raise InputError(f"knowledge edges start at Product or Query, not {lbl}")
    return f"""UNWIND $rows AS row
MATCH (h:{lbl} {{{NODE_KEYS[lbl]}: row.h}})
MATCH (i:Intention {{id: row.i}})
MERGE (h)-[r:{rel}]->(i)
ON CREATE SET r.created_run = $run, r.created_seq = $seq, r.created_at = $now,
    r.sources = [], r.frequency = 0, r.plausibility = row.pl, r.typicality = row.ty
WITH r, row, [p IN row.pairs WHERE NOT p[0] IN r.sources] AS fresh
SET r.sources = r.sources + [p IN fresh | p[0]],
    r.frequency = r.frequency + reduce(acc = 0, p IN fresh | acc + p[1]),
    r.plausibility = CASE WHEN row.pl > r.plausibility THEN row.pl ELSE r.plausibility END,
    r.typicality = CASE WHEN row.ty IS NULL THEN r.typicality
                        WHEN r.typicality IS NULL OR row.ty > r.typicality THEN row.ty
                        ELSE r.typicality END,
    r.model = coalesce(r.model, row.model), r.pipeline_run = coalesce(r.pipeline_run, row.prun),
    r.updated_run = $run"""
