"""The candidate record: one tail an LLM proposed for one behaviour pair and relation.

Generation writes these (``candidates.parquet``); refinement reads them and turns the
survivors into :class:`cosmo.kg.records.KnowledgeTriple` rows.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from cosmo.kg.schema import Behaviour

__all__ = ["Candidate"]


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
