"""Constraints and indexes for Neo4j 5 (run once per database; every statement is idempotent)."""

from __future__ import annotations

from cosmo.core.schema import RELATIONS
from cosmo.kg.search import FULLTEXT_PROPERTIES, neo4j_vector_index

__all__ = ["setup_statements"]


# Full-text indexes stem English words ("boots" finds "boot"), as FalkorDB's do, so a title
# search answers alike on both backends.
def setup_statements(*, embedding_dim: int | None = None) -> list[str]:
    """The DDL statements, in order. Relation names come from the schema, never from input."""
    stmts = [
        "CREATE CONSTRAINT product_id IF NOT EXISTS FOR (p:Product) REQUIRE p.id IS UNIQUE",
        "CREATE CONSTRAINT query_key IF NOT EXISTS FOR (q:Query) REQUIRE q.key IS UNIQUE",
        "CREATE CONSTRAINT intention_id IF NOT EXISTS FOR (i:Intention) REQUIRE i.id IS UNIQUE",
        "CREATE CONSTRAINT loadrun_id IF NOT EXISTS FOR (r:LoadRun) REQUIRE r.id IS UNIQUE",
        "CREATE INDEX product_type IF NOT EXISTS FOR (p:Product) ON (p.type)",
        "CREATE INDEX product_domain IF NOT EXISTS FOR (p:Product) ON (p.domain)",
        "CREATE INDEX intention_tail_type IF NOT EXISTS FOR (i:Intention) ON (i.tail_type)",
        "CREATE INDEX loadrun_seq IF NOT EXISTS FOR (r:LoadRun) ON (r.seq)",
        *(
            f"CREATE FULLTEXT INDEX {lbl.lower()}_{prop} IF NOT EXISTS FOR (n:{lbl}) "
            f"ON EACH [n.{prop}] OPTIONS {{indexConfig: {{`fulltext.analyzer`: 'english'}}}}"
            for lbl, prop in FULLTEXT_PROPERTIES.items()
        ),
    ]
    for rel in RELATIONS:
        stmts.append(
            f"CREATE INDEX rel_{rel.lower()}_run IF NOT EXISTS FOR ()-[r:{rel}]-() ON (r.created_seq)"
        )
    if embedding_dim:
        stmts.append(neo4j_vector_index("Product", "embedding", embedding_dim))
    return stmts
