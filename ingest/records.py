"""Behaviour and catalogue records (the contract between ingest and the later stages)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BehaviourPair", "CoBuy", "Product", "SearchBuy"]


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
