"""The refined-triple record: what refinement hands to the KG loader.

A file of these (Parquet, CSV or JSONL) is what ``cosmo kg load`` reads. One row says:
*this behaviour pair* (``source`` → ``target``) *is explained by* ``relation`` → ``tail``.

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

from cosmo.kg.schema import (
    RELATION_TAIL_TYPES,
    Behaviour,
    intention_id,
    normalise_text,
    relation_type,
)

__all__ = ["TRIPLE_COLUMNS", "KnowledgeTriple"]

MAX_TAIL = 200


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
