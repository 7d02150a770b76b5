"""Online explanations: two-tier cache in real Redis, miss queue, worker, feature store, refresh."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest

from cosmo.generation.base import Generation, GenerationParams

EXPLAIN = """query($q: String!, $p: ID!) { explain(query: $q, productId: $p) {
  status text source tier model intents { relation tail } } }"""


class FakeGenerator:
    """A TextGenerator for unit tests: answers every prompt the same way, counts calls."""

    model_name = "fake-lm"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        self.batches.append(len(prompts))
        return [Generation(" a warm coat for the kids. Also more text", len(p), 8) for p in prompts]


def test_graph_knowledge_is_ready_then_cached(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    e = gql(client, EXPLAIN, {"q": "winter camping", "p": "P1"})["data"]["explain"]
    assert e["status"] == "READY" and e["source"] == "graph" and e["tier"] == "on_demand"
    assert {"relation": "USED_FOR_EVE", "tail": "camping in cold weather"} in e["intents"]
    n = len(store.calls)
    again = gql(client, EXPLAIN, {"q": "Winter camping!", "p": "P1"})["data"]["explain"]
    assert again["text"] == e["text"] and len(store.calls) == n  # served by the cache alone


def test_miss_is_pending_queued_once_then_worker_fills_cache_and_features(
    make_client: Any, gql: Any
) -> None:
    from cosmo.api.services.explain import ExplainWorker

    client, _ = make_client()
    services = client.app.state.services
    for _ in range(3):
        e = gql(client, EXPLAIN, {"q": "gift for a child", "p": "P4"})["data"]["explain"]
        assert e == {
            "status": "PENDING",
            "text": None,
            "source": None,
            "tier": None,
            "model": None,
            "intents": [],
        }
    gen = FakeGenerator()
    worker = ExplainWorker(services.cache, services.features, gen, batch=4)

    async def drain() -> tuple[int, int, int]:
        before = await services.cache.queue_length()
        done = await worker.run_once()
        return before, done, await services.cache.queue_length()

    assert client.portal.call(drain) == (1, 1, 0)  # queued once, explained in one batch
    e = gql(client, EXPLAIN, {"q": "gift for a child", "p": "P4"})["data"]["explain"]
    assert e["status"] == "READY" and e["source"] == "generated" and e["model"] == "fake-lm"
    assert e["intents"] == [{"relation": "xWANT", "tail": "a warm coat for the kids"}]
    feats = gql(
        client,
        '{ searchQuery(text: "gift for a child") { features { explained intents { tail } } } product(id: "P4") { features { intents { tail } } } }',
    )["data"]
    assert feats["searchQuery"]["features"]["intents"] == [{"tail": "a warm coat for the kids"}]
    assert feats["product"]["features"]["intents"] == [{"tail": "a warm coat for the kids"}]
    assert gen.batches == [1]


def test_unknown_product(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    e = gql(client, EXPLAIN, {"q": "winter camping", "p": "NOPE"})["data"]["explain"]
    assert e["status"] == "UNKNOWN_PRODUCT"
    assert client.portal.call(client.app.state.services.cache.queue_length) == 0


def test_worker_in_the_app_answers_misses_in_the_background(make_client: Any, gql: Any) -> None:
    gen = FakeGenerator()
    client, _ = make_client(generator=gen, worker_idle_s=0.05)
    pairs = [("cheap tent", "P2"), ("socks gift", "P3"), ("mat for pilates", "P6")]
    for q, p in pairs:
        assert gql(client, EXPLAIN, {"q": q, "p": p})["data"]["explain"]["status"] == "PENDING"
    deadline = time.time() + 10
    ready: set[str] = set()
    while time.time() < deadline and len(ready) < 3:
        for q, p in pairs:
            if gql(client, EXPLAIN, {"q": q, "p": p})["data"]["explain"]["status"] == "READY":
                ready.add(q)
        time.sleep(0.05)
    assert len(ready) == 3
    assert sum(gen.batches) == 3


def test_a_pair_explained_meanwhile_is_not_queued_again(make_client: Any) -> None:
    """A request that missed the cache while the worker was answering must not queue the
    pair again once the worker has written the answer and released it."""
    from cosmo.api.services.cache import Explanation, Job

    client, _ = make_client()
    cache = client.app.state.services.cache
    job = Job("race|P2", "race", "P2", "4-person dome camping tent")

    async def race() -> tuple[bool, bool, int, bool, int]:
        first = await cache.enqueue(job)
        again = await cache.enqueue(job)  # still queued: not twice
        taken = await cache.take(10)
        await cache.put([Explanation(job.pair, job.query, job.product_id, "a tent")], "on_demand")
        await cache.release([j.pair for j in taken])
        stale = await cache.enqueue(job)  # the miss seen before put, acted on after release
        return first, again, len(taken), stale, await cache.queue_length()

    assert client.portal.call(race) == (True, False, 1, False, 0)


def test_refresh_preloads_frequent_queries(make_client: Any, gql: Any) -> None:
    from cosmo.api.services.explain import refresh

    client, _ = make_client()
    s = client.app.state.services
    gen = FakeGenerator()
    report = client.portal.call(
        lambda: refresh(s.reader, s.cache, s.features, generator=gen, top=10)
    )
    # 3 queries, 4 pairs; every pair has refined knowledge in the graph except none
    assert (report.queries, report.pairs) == (3, 4)
    assert report.from_graph == 4 and report.generated == 0
    e = gql(client, EXPLAIN, {"q": "yoga", "p": "P6"})["data"]["explain"]
    assert e["tier"] == "preloaded" and e["source"] == "graph"


def test_refresh_generates_what_the_graph_cannot_explain(
    store: Any, graph_settings: Any, make_client: Any, gql: Any
) -> None:
    import pandas as pd

    from cosmo.api.services.explain import refresh
    from cosmo.kg.loader import load_behaviour

    load_behaviour(
        store,
        products=pd.DataFrame(
            [("Q1", "Trail running shoes", "shoes", "sports")],
            columns=["product_id", "title", "product_type", "domain"],
        ),
        search_buy=pd.DataFrame(
            [("running shoes", "Q1", 9)], columns=["query", "product_id", "count"]
        ),
    )
    client, _ = make_client(graph_settings)
    s = client.app.state.services
    gen = FakeGenerator()
    report = client.portal.call(
        lambda: refresh(s.reader, s.cache, s.features, generator=gen, top=5)
    )
    assert (report.pairs, report.from_graph, report.generated) == (1, 0, 1)
    e = gql(client, EXPLAIN, {"q": "running shoes", "p": "Q1"})["data"]["explain"]
    assert e["status"] == "READY" and e["tier"] == "preloaded" and e["model"] == "fake-lm"
    # without a generator the misses are queued for the worker instead
    client.portal.call(s.cache.clear)
    report = client.portal.call(lambda: refresh(s.reader, s.cache, s.features, top=5))
    assert report.queued == 1 and client.portal.call(s.cache.queue_length) == 1


def test_parse_generation() -> None:
    from cosmo.api.services.explain import parse_generation

    assert parse_generation(' "to keep warm".\nmore') == "to keep warm"
    assert parse_generation("\n\n") == ""
    assert len(parse_generation("x" * 500)) == 200


@pytest.mark.slow
def test_real_generator_through_the_worker(make_client: Any, gql: Any, gemma_dir: Any) -> None:
    """The worker with a real model (Gemma 3 270M on CPU) behind the TextGenerator interface."""
    from cosmo.api.services.explain import ExplainWorker

    gen = real_generator(gemma_dir)
    client, _ = make_client()
    s = client.app.state.services
    assert (
        gql(client, EXPLAIN, {"q": "present for a camper", "p": "P1"})["data"]["explain"]["status"]
        == "PENDING"
    )
    worker = ExplainWorker(
        s.cache, s.features, gen, params=GenerationParams(max_new_tokens=12, temperature=0.0)
    )
    assert client.portal.call(worker.run_once) == 1
    e = gql(client, EXPLAIN, {"q": "present for a camper", "p": "P1"})["data"]["explain"]
    assert e["status"] == "READY" and e["source"] == "generated"
    assert e["model"] == gen.model_name and e["text"]
    assert client.portal.call(s.cache.queue_length) == 0


def real_generator(model_dir: Any) -> Any:
    from cosmo.generation.hf import TransformersGenerator

    return TransformersGenerator(str(model_dir))
