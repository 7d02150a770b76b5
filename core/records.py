"""The records every artifact is made of, from ingest to the knowledge graph.

========================  =====================  ==========================================
record                    artifact               written by → read by
========================  =====================  ==========================================
:class:`Product`          ``catalogue.parquet``  ingest → sampling, kg
:class:`SearchBuy`        ``search_buy.parquet`` ingest → sampling, kg
:class:`CoBuy`            ``co_buy.parquet``     ingest → sampling, kg
:class:`BehaviourPair`    ``pairs.parquet``      sampling → generation
:class:`Candidate`        ``candidates.parquet`` generation, importers → refine, annotation
:class:`KnowledgeTriple`  ``triples.parquet``    refine → ``cosmo kg load``
========================  =====================  ==========================================

A refined triple says: *this behaviour pair* (``source`` → ``target``) *is explained by*
``relation`` → ``tail``. Its columns:

=============== ======== ===================================================================
column          required meaning
=============== ======== ===================================================================
behaviour       yes      ``search_buy`` (source is a query text) or ``co_buy`` (source is
                         product A's id)
source          yes      query text, or product A id
target          yes      purchased product id, or product B id
relation        yes      one of the 15 COSMO relations (any case)
tail            yes      the intention text, e.g. "camping in cold weather"
tail_type       no       facet group; defaults to the relation's (see ``RELATION_TAIL_TYPES``)
intention_id    no       canonical id from intention resolution; default derived from tail
aliases         no       other surface forms of the same intention (list, or ``|``-joined)
plausibility    no       0..1 (default 1.0)
typicality      no       0..1 (default: empty)
frequency       no       how many times generated for this pair (default 1)
model           no       generator model name
pipeline_run    no       id of the generation/refinement run
source_title    no       title of product A (co_buy) - creates/updates the Product node
target_title    no       title of the target product
target_type     no       product type of the target
target_domain   no       domain / category of the target
=============== ======== ===================================================================
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cosmo.core.schema import (
    RELATION_TAIL_TYPES,
    Behaviour,
    intention_id,
    normalise_text,
    relation_type,
)

__all__ = [
    "CANDIDATE_COLUMNS",
    "TRIPLE_COLUMNS",
    "BehaviourPair",
    "Candidate",
    "CoBuy",
    "KnowledgeTriple",
    "Product",
    "SearchBuy",
]

MAX_TAIL = 200


class Product(BaseModel):
    """A catalogue entry."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    product_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=2000)
    product_type: str | None = None
    domain: str | None = None
    brand: str | None = None
    description: str | None = None


class SearchBuy(BaseModel):
    """A query whose search ended in the purchase of a product, with how often."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    query: str = Field(min_length=1, max_length=500)
    product_id: str = Field(min_length=1, max_length=200)
    count: int = Field(default=1, ge=1)


class CoBuy(BaseModel):
    """Two products bought together, with how often (unordered: a < b after normalising)."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    product_a: str = Field(min_length=1, max_length=200)
    product_b: str = Field(min_length=1, max_length=200)
    count: int = Field(default=1, ge=1)


class BehaviourPair(BaseModel):
    """A sampled behaviour pair with the titles the generator needs (``pairs.parquet``).

    ``source`` is the query text (search-buy) or product A's id (co-buy); ``target`` is the
    purchased product's id or product B's id. ``reason`` says why the sampler took it.
    """

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    behaviour: str = Field(pattern="^(search_buy|co_buy)$")
    source: str = Field(min_length=1, max_length=500)
    target: str = Field(min_length=1, max_length=200)
    source_title: str | None = None
    target_title: str = Field(min_length=1)
    source_type: str | None = None
    target_type: str | None = None
    target_domain: str | None = None
    count: int = Field(default=1, ge=1)
    specificity: float | None = None
    reason: str = "all"


class Candidate(BaseModel):
    """A candidate tail with full provenance."""

    model_config = ConfigDict(frozen=True)

    candidate_id: str = Field(description="stable hash of (pair, relation, tail, model, prompt)")
    behaviour: Behaviour
    source: str = Field(description="query text (search_buy) or product A id (co_buy)")
    target: str = Field(description="purchased product id, or product B id")
    source_title: str | None = None
    target_title: str | None = None
    target_type: str | None = None
    target_domain: str | None = None
    relation: str
    tail: str
    raw_output: str = Field(description="the model's whole answer, for provenance")
    prompt_version: str
    model: str
    params: str = Field(description="JSON of the sampling parameters")
    origin: str = Field(description="'generated' or the name of an importer, e.g. 'folkscope'")
    pipeline_run: str
    reference_score: float | None = Field(
        default=None, description="a score that came with imported knowledge (e.g. typicality)"
    )


CANDIDATE_COLUMNS: tuple[str, ...] = tuple(Candidate.model_fields)


class KnowledgeTriple(BaseModel):
    """One refined piece of knowledge about one behaviour pair."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    behaviour: Behaviour
    source: str = Field(min_length=1, max_length=500)
    target: str = Field(min_length=1, max_length=200)
    relation: str
    tail: str = Field(min_length=1, max_length=MAX_TAIL)
    tail_type: str | None = Field(default=None, max_length=40)
    intention_id: str | None = Field(default=None, max_length=120)
    aliases: tuple[str, ...] = ()
    plausibility: float = Field(default=1.0, ge=0.0, le=1.0)
    typicality: float | None = Field(default=None, ge=0.0, le=1.0)
    frequency: int = Field(default=1, ge=1)
    model: str | None = Field(default=None, max_length=200)
    pipeline_run: str | None = Field(default=None, max_length=120)
    source_title: str | None = Field(default=None, max_length=1000)
    target_title: str | None = Field(default=None, max_length=1000)
    target_type: str | None = Field(default=None, max_length=200)
    target_domain: str | None = Field(default=None, max_length=200)

    @field_validator("relation")
    @classmethod
    def _relation(cls, v: str) -> str:
        return relation_type(v)

    @field_validator("tail")
    @classmethod
    def _tail(cls, v: str) -> str:
        if not normalise_text(v):
            raise ValueError("tail has no words")
        return v

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v: Any) -> Any:
        if v is None:
            return ()
        if isinstance(v, str):
            return tuple(a.strip() for a in v.split("|") if a.strip())
        return tuple(v)

    @field_validator("tail_type")
    @classmethod
    def _tail_type(cls, v: str | None) -> str | None:
        if v is not None and not v.replace("_", "").isalnum():
            raise ValueError("tail_type may hold letters, digits and underscores only")
        return v

    @model_validator(mode="after")
    def _co_buy_pair(self) -> KnowledgeTriple:
        if self.behaviour is Behaviour.CO_BUY and self.source == self.target:
            raise ValueError("a co-buy pair needs two different products")
        return self

    @property
    def resolved_tail_type(self) -> str:
        return self.tail_type or RELATION_TAIL_TYPES[self.relation]

    @property
    def resolved_intention_id(self) -> str:
        return self.intention_id or intention_id(self.tail, self.resolved_tail_type)


TRIPLE_COLUMNS: tuple[str, ...] = tuple(KnowledgeTriple.model_fields)
