"""Fragment bombs: validation work linear in the document, ``TOO_COMPLEX``, a server that
keeps answering ``/healthz`` while it refuses them (a real uvicorn)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from graphql import parse

from tests.conftest import serve_app


def bomb(n: int) -> str:
    """A document whose ``n`` fragments each spread the next one twice (2^n fields)."""
    frags = [f"fragment F{i} on Product {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n - 1)]
    frags.append(f"fragment F{n - 1} on Product {{ id title }}")
    return '{ product(id: "P1") { ...F0 } } ' + " ".join(frags)


@pytest.mark.parametrize("n", [30, 300, 3000])
def test_validation_work_is_at_most_fragments_plus_spreads(n: int) -> None:
    from cosmo.api.graphql.complexity import Limits, measure
    from cosmo.api.graphql.limits import LIST_FIELDS

    limits = Limits(12, 15, 2000, 5000, 20, 100, LIST_FIELDS)
    sizes, m = measure(parse(bomb(n)), limits)
    spreads = 2 * (n - 1) + 1
    assert m.visits <= n + spreads
    # saturated just above each limit, however far the document would expand
    assert sizes["anonymous"].fields == 2001 and sizes["anonymous"].cost == 5001


def test_fragments_count_towards_depth_aliases_and_cost() -> None:
    from cosmo.api.graphql.complexity import Limits, measure
    from cosmo.api.graphql.limits import LIST_FIELDS

    limits = Limits(12, 15, 2000, 5000, 20, 100, LIST_FIELDS)
    doc = """{ a: product(id: "P1") { ...A } b: product(id: "P2") { ...A } }
      fragment A on Product { x: id y: title coBought(first: 7) { ...B } }
      fragment B on ProductConnection { totalCount edges { node { product { id } } } }"""
    sizes, _ = measure(parse(doc), limits)
    s = sizes["anonymous"]
    assert (s.depth, s.aliases) == (5, 2 + 2 * 2)
    # product: 1 + id + title + coBought(7 x (1 + totalCount + edges(node(product(id)))))
    assert s.cost == 2 * (1 + 1 + 1 + 7 * (1 + 1 + 1 + 1 + 1 + 1))
    assert s.fields == 2 * (1 + 2 + 1 + 5)


def _code(out: dict[str, Any]) -> str:
    return str(out["errors"][0]["extensions"]["code"])


def test_fragment_bombs_are_too_complex(make_client: Any, gql: Any) -> None:
    client, store = make_client()
    out = gql(client, bomb(30))
    assert _code(out) == "TOO_COMPLEX" and "expands to over 2000 fields" in str(out["errors"])
    out = gql(client, bomb(300))  # over the token limit, refused while parsing
    assert _code(out) == "TOO_COMPLEX" and "more than 2000 tokens" in out["errors"][0]["message"]
    assert store.calls == []
    client, store = make_client(max_tokens=100_000)
    out = gql(client, bomb(300))
    assert _code(out) == "TOO_COMPLEX" and "expands to over 2000 fields" in str(out["errors"])
    out = gql(client, '{ product(id: "P1") { ...F } } fragment F on Product { id title }')
    assert out == {"data": {"product": {"id": "P1", "title": PRODUCT_TITLE}}}


PRODUCT_TITLE = "Coleman North Rim sleeping bag, 0 degrees"


def test_healthz_answers_while_bombs_are_refused(api_graph: Any, prefix: str) -> None:
    from cosmo.api import ApiSettings, create_app

    app = create_app(
        ApiSettings(key_prefix=prefix, max_tokens=100_000, response_cache_size=0), core=api_graph
    )
    with serve_app(app) as url:
        answers: list[dict[str, Any]] = []

        def attack() -> None:
            with httpx.Client(base_url=url, timeout=10) as c:
                for n in (30, 300, 30, 300):
                    answers.append(c.post("/graphql", json={"query": bomb(n)}).json())

        threads = [threading.Thread(target=attack) for _ in range(4)]
        for t in threads:
            t.start()
        health = []
        with httpx.Client(base_url=url, timeout=10) as c:
            while any(t.is_alive() for t in threads) or len(health) < 5:
                health.append(c.get("/healthz").status_code)
        for t in threads:
            t.join()
        assert set(health) == {200}
        assert len(answers) == 16 and all(_code(a) == "TOO_COMPLEX" for a in answers)
