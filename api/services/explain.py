"""Online explanations: answer from the cache, else from the graph, else queue and say pending.

:class:`ExplainService` is what the ``explain`` resolver calls; it never waits for a model.
:class:`ExplainWorker` drains the miss queue in batches through any
:class:`~cosmo.generation.base.TextGenerator`; :func:`refresh` is the daily job that
preloads the explanations of the most frequent queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cosmo.api.services.cache import CacheStore, Explanation, FeatureStore, Job
from cosmo.api.services.graph import GraphReader
from cosmo.core.schema import pair_key, query_key, relation_type
from cosmo.generation.base import GenerationParams, TextGenerator
from cosmo.generation.prompts import load_templates

__all__ = [
    "ExplainResult",
    "ExplainService",
    "ExplainWorker",
    "RefreshReport",
    "parse_generation",
    "prompt_for",
    "refresh",
]

log = logging.getLogger(__name__)

Status = Literal["ready", "pending", "unknown_product"]

_GRAPH_EDGES = (
    "UNWIND $pairs AS x MATCH (q:Query {key: x.key})-[r]->(i:Intention) WHERE x.pair IN r.sources "
    "WITH x, r, i ORDER BY coalesce(r.plausibility, 0.0) DESC "
    "RETURN x.pair AS pair, collect({relation: type(r), tail: i.text}) AS intents"
)


@dataclass(frozen=True)
class ExplainResult:
    status: Status
    explanation: Explanation | None = None
    tier: str | None = None


def prompt_for(query: str, title: str, relation: str | None = None) -> str:
    """The COSMO-style prompt for one search-buy pair, asking ``relation`` when given
    (the question of the generation templates for that relation), else what they wanted."""
    if relation is not None:
        question = load_templates().question(relation, "search_buy")
        return (
            f'A customer searched for "{query}" and then bought "{title}".\n'
            f"Question: {question}\nAnswer in a few words.\nAnswer:"
        )
    return (
        f'A customer searched for "{query}" and then bought "{title}".\n'
        "In a few words, what did the customer want?\n"
        "Answer: the customer wanted"
    )


_CUT = re.compile(r"[\n.!?;]")


def parse_generation(text: str) -> str:
    """The first clause of a completion, cleaned (empty when nothing usable came back)."""
    first = _CUT.split(text.strip(), maxsplit=1)[0]
    first = re.sub(r"\s+", " ", first).strip(" \"'`*:-,")
    return first[:200]


def _from_graph(job: Job, intents: list[dict[str, str]]) -> Explanation:
    tails = "; ".join(f"{i['relation']} {i['tail']}" for i in intents[:5])
    return Explanation(
        job.pair,
        job.query,
        job.product_id,
        f"Known intentions: {tails}",
        intents[:20],
        "graph",
        relation=job.relation,
    )


class ExplainService:
    """Answer ``explain(query, productId)`` without blocking on a model."""

    def __init__(self, reader: GraphReader, cache: CacheStore, features: FeatureStore) -> None:
        self.reader = reader
        self.cache = cache
        self.features = features

    async def explain(
        self, query: str, product_id: str, relation: str | None = None
    ) -> ExplainResult:
        """Explain the pair with ``relation`` (any case; checked against the schema), or,
        by default, with any relation the graph knows (``xWANT`` when generated)."""
        rel = None if relation is None else relation_type(relation)
        key = query_key(query)
        pair = pair_key("search_buy", query, product_id)
        hit, tier = await self.cache.get(pair, rel)
        if hit is not None:
            return ExplainResult("ready", hit, tier)
        rows = await self.reader.rows(
            "OPTIONAL MATCH (p:Product {id: $pid}) "
            "OPTIONAL MATCH (q:Query {key: $key})-[r]->(i:Intention) WHERE $pair IN r.sources "
            "AND ($rel IS NULL OR type(r) = $rel) "
            "WITH p, r, i ORDER BY coalesce(r.plausibility, 0.0) DESC "
            "RETURN p.title AS title, p.id AS id, "
            "collect(CASE WHEN i IS NULL THEN NULL ELSE {relation: type(r), tail: i.text} END) AS intents",
            {"pid": product_id, "key": key, "pair": pair, "rel": rel},
        )
        row = rows[0] if rows else {"id": None, "title": None, "intents": []}
        if row["id"] is None:
            return ExplainResult("unknown_product")
        job = Job(pair, query, product_id, row["title"] or product_id, rel)
        intents = [i for i in row["intents"] or [] if i]
        if intents:
            exp = _from_graph(job, intents)
            await self.cache.put([exp], "on_demand")
            await self.features.record([exp], [key])
            return ExplainResult("ready", exp, "on_demand")
        await self.cache.enqueue(job)
        return ExplainResult("pending")


class ExplainWorker:
    """Explains queued misses in batches and writes the cache and the feature store."""

    def __init__(
        self,
        cache: CacheStore,
        features: FeatureStore,
        generator: TextGenerator,
        *,
        batch: int = 8,
        params: GenerationParams | None = None,
    ) -> None:
        self.cache = cache
        self.features = features
        self.generator = generator
        self.batch = batch
        self.params = params or GenerationParams(max_new_tokens=24, temperature=0.0)

    async def generate(self, jobs: Sequence[Job]) -> list[Explanation]:
        prompts = [prompt_for(j.query, j.title, j.relation) for j in jobs]
        gens = await asyncio.to_thread(self.generator.generate, prompts, self.params)
        out = []
        for job, g in zip(jobs, gens, strict=True):
            tail = parse_generation(g.text)
            rel = job.relation or "xWANT"
            intents = [{"relation": rel, "tail": tail}] if tail else []
            if not tail:
                text = "No explanation could be generated."
            elif job.relation is None:
                text = f"The customer wanted {tail}."
            else:
                text = f"{rel}: {tail}."
            out.append(
                Explanation(
                    job.pair,
                    job.query,
                    job.product_id,
                    text,
                    intents,
                    "generated",
                    self.generator.model_name,
                    relation=job.relation,
                )
            )
        return out

    async def run_once(self) -> int:
        """Explain up to one batch of queued misses; return how many were done."""
        jobs = await self.cache.take(self.batch)
        if not jobs:
            return 0
        try:
            exps = await self.generate(jobs)
            await self.cache.put(exps, "on_demand")
            await self.features.record(exps, [query_key(j.query) for j in jobs])
        finally:
            await self.cache.release([j.slot for j in jobs])
        return len(jobs)

    async def run_forever(self, stop: asyncio.Event, idle_s: float = 0.5) -> None:
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:  # keep serving; the next batch may succeed
                log.exception("explanation batch failed")
                done = 0
            if not done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_s)


@dataclass
class RefreshReport:
    queries: int = 0
    pairs: int = 0
    from_graph: int = 0
    generated: int = 0
    queued: int = 0


async def refresh(
    reader: GraphReader,
    cache: CacheStore,
    features: FeatureStore,
    *,
    generator: TextGenerator | None = None,
    top: int = 200,
    per_query: int = 5,
    batch: int = 8,
) -> RefreshReport:
    """The daily job: preload explanations of the ``top`` most frequent queries.

    Pairs the graph already explains are preloaded from it; the others are generated with
    ``generator`` (or queued for the worker when there is none).
    """
    rows = await reader.rows(
        "MATCH (q:Query)-[s:SEARCH_BUY]->(:Product) WITH q, sum(coalesce(s.count, 1)) AS n "
        "ORDER BY n DESC, q.key LIMIT $top "
        "MATCH (q)-[s2:SEARCH_BUY]->(p:Product) WITH q, n, p, s2 ORDER BY s2.count DESC "
        "WITH q, n, collect({id: p.id, title: p.title}) AS ps "
        "RETURN q.key AS key, q.text AS text, ps[0..$per] AS products",
        {"top": top, "per": per_query},
    )
    report = RefreshReport(queries=len(rows))
    jobs = [
        Job(
            pair_key("search_buy", r["key"], p["id"]),
            r["text"] or r["key"],
            p["id"],
            p["title"] or p["id"],
        )
        for r in rows
        for p in r["products"]
    ]
    report.pairs = len(jobs)
    known: dict[str, list[dict[str, str]]] = {}
    for i in range(0, len(jobs), 500):
        chunk = jobs[i : i + 500]
        got = await reader.rows(
            _GRAPH_EDGES, {"pairs": [{"pair": j.pair, "key": query_key(j.query)} for j in chunk]}
        )
        known.update({g["pair"]: g["intents"] for g in got})
    graph_exps = [_from_graph(j, known[j.pair]) for j in jobs if known.get(j.pair)]
    await cache.put(graph_exps, "preloaded")
    await features.record(graph_exps, [query_key(e.query) for e in graph_exps])
    report.from_graph = len(graph_exps)
    missing = [j for j in jobs if not known.get(j.pair)]
    if generator is None:
        for j in missing:
            report.queued += int(await cache.enqueue(j))
        return report
    worker = ExplainWorker(cache, features, generator, batch=batch)
    for i in range(0, len(missing), batch):
        exps = await worker.generate(missing[i : i + batch])
        await cache.put(exps, "preloaded")
        await features.record(exps, [query_key(e.query) for e in exps])
        report.generated += len(exps)
    return report
