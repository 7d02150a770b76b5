"""Derived query → intention edges: recomputed by every load for what it affects, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cosmo.kg.loader import load_behaviour, load_triples_file
from cosmo.kg.versions import diff_runs
from tests.kg.conftest import graph_dump

PRODUCTS = [("P1", "sleeping bag"), ("P2", "tent"), ("P3", "socks"), ("P4", "beanie")]
SEARCH_BUY = [("winter camping", "P1", 3), ("winter camping", "P2", 1), ("warm socks", "P3", 2)]
COLS = ["behaviour", "source", "target", "relation", "tail", "plausibility", "typicality"]


def _file(rows: list[tuple[Any, ...]], path: Path) -> Path:
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    return path


def _derived(store: Any) -> dict[tuple[str, str, str], tuple[float, list[str]]]:
    rows = store.query(
        "MATCH (q:Query)-[r]->(i:Intention) WHERE r.derived_from IS NOT NULL "
        "RETURN q.key AS q, type(r) AS rel, i.text AS tail, r.typicality AS w, "
        "r.derived_from AS src, r.model AS model"
    )
    assert all(r["model"] == "derived" for r in rows)
    return {(r["q"], r["rel"], r["tail"]): (round(r["w"], 4), sorted(r["src"])) for r in rows}


class _Recording:
    """The real store, with every read's text and parameters kept in ``reads``."""

    def __init__(self, store: Any, reads: list[tuple[str, dict[str, Any]]]) -> None:
        self._store, self._reads = store, reads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def query(self, cypher: str, params: Any = None, **kw: Any) -> Any:
        self._reads.append((cypher, dict(params or {})))
        return self._store.query(cypher, params, **kw)


@pytest.fixture
def behaviour(store: Any) -> Any:
    load_behaviour(
        store,
        products=pd.DataFrame(
            [(p, t.title(), t, "outdoors") for p, t in PRODUCTS],
            columns=["product_id", "title", "product_type", "domain"],
        ),
        search_buy=pd.DataFrame(SEARCH_BUY, columns=["query", "product_id", "count"]),
    )
    return store


def test_loads_derive_query_edges_idempotently_and_diff_shows_them(
    behaviour: Any, tmp_path: Path
) -> None:
    store = behaviour
    a = _file(
        [
            ("co_buy", "P1", "P2", "USED_FOR_EVE", "camping in cold weather", 0.9, 0.8),
            ("co_buy", "P1", "P4", "CAPABLE_OF", "keeping the head warm", 0.7, 0.4),
            ("search_buy", "warm socks", "P3", "USED_IN_BODY", "cold feet", 0.9, 0.9),
        ],
        tmp_path / "a.csv",
    )
    ra = load_triples_file(store, a)
    # winter camping has no knowledge of its own: it gets its bought products' intentions,
    # weighted by purchases (P1 bought 3 times, P2 once) and typicality; warm socks has its own
    want = {
        ("winter camping", "USED_FOR_EVE", "camping in cold weather"): (0.8, ["P1", "P2"]),
        ("winter camping", "CAPABLE_OF", "keeping the head warm"): (0.3, ["P1"]),
    }
    assert _derived(store) == want
    assert ra.derived.added == 2 and ra.derived.queries == 2  # both bought a changed product
    # the same file again changes nothing
    before = graph_dump(store)
    again = load_triples_file(store, a)
    assert graph_dump(store) == before and again.derived.added == 0
    assert diff_runs(store, ra.run_id, again.run_id)["derived_added"] == {}

    b = _file([("co_buy", "P2", "P3", "USED_TO", "go hiking", 0.8, 0.6)], tmp_path / "b.csv")
    rb = load_triples_file(store, b)
    assert _derived(store)[("winter camping", "USED_TO", "go hiking")] == (0.15, ["P2"])
    d = diff_runs(store, again.run_id, rb.run_id)
    assert d["derived_added"] == {"USED_TO": 1} and d["added"]["USED_TO"] == 3
    run = store.query("MATCH (r:LoadRun {id: $id}) RETURN r.derived AS d", {"id": rb.run_id})
    assert '"added": 1' in run[0]["d"]

    # generated knowledge for the query itself replaces what was derived
    c = _file(
        [
            (
                "search_buy",
                "winter camping",
                "P1",
                "USED_FOR_EVE",
                "camping in cold weather",
                0.9,
                0.9,
            )
        ],
        tmp_path / "c.csv",
    )
    rc = load_triples_file(store, c)
    assert _derived(store) == {} and rc.derived.removed == 2
    own = store.query(
        "MATCH (:Query {key: 'winter camping'})-[r]->(i:Intention) "
        "RETURN i.text AS tail, r.sources AS s"
    )
    assert [(r["tail"], r["s"]) for r in own] == [
        ("camping in cold weather", ["sb:winter camping|P1"])
    ]


def _product_counts(store: Any) -> dict[str, int | None]:
    rows = store.query("MATCH (i:Intention) RETURN i.text AS t, i.product_count AS n")
    return {r["t"]: r["n"] for r in rows}


def test_loads_and_rollback_keep_intention_product_counts(behaviour: Any, tmp_path: Path) -> None:
    """Navigation's specificity reads Intention.product_count; every load and rollback keep it."""
    from cosmo.kg.versions import rollback_run

    store = behaviour
    camp, warm = (
        ("USED_FOR_EVE", "camping in cold weather"),
        ("CAPABLE_OF", "keeping the head warm"),
    )
    rows_a = [("P1", "P2", *camp), ("P3", "P4", *camp), ("P1", "P4", *warm)]
    a = _file([("co_buy", *r, 0.8, 0.7) for r in rows_a], tmp_path / "a.csv")
    load_triples_file(store, a)  # a co-buy triple gives both products the intention
    assert _product_counts(store) == {camp[1]: 4, warm[1]: 2}
    # P2 gains "keeping the head warm"; P2 and P3 already had camping
    b = _file([("co_buy", "P2", "P4", *warm, 0.7, 0.4), ("co_buy", "P2", "P3", *camp, 0.9, 0.8)],
              tmp_path / "b.csv")  # fmt: skip
    rb = load_triples_file(store, b)
    assert _product_counts(store) == {camp[1]: 4, warm[1]: 3}
    rollback_run(store, rb.run_id)
    assert _product_counts(store) == {camp[1]: 4, warm[1]: 2}


def test_a_refresh_in_rounds_of_one_query_writes_what_one_round_writes(
    behaviour: Any, tmp_path: Path
) -> None:
    """Queries are refreshed a round at a time (a first build refreshes all of them): one
    query per round gives the same edges and counts as every query in one round."""
    from cosmo.kg.derived import refresh_derived

    store = behaviour
    f = _file(
        [
            ("co_buy", "P1", "P2", "USED_FOR_EVE", "camping in cold weather", 0.9, 0.8),
            ("co_buy", "P1", "P4", "CAPABLE_OF", "keeping the head warm", 0.7, 0.4),
            ("co_buy", "P3", "P4", "USED_IN_BODY", "cold feet", 0.9, 0.9),
        ],
        tmp_path / "f.csv",
    )
    run = load_triples_file(store, f)
    keys = ["winter camping", "warm socks"]
    whole = _derived(store)
    assert len(whole) == 3  # two for winter camping, one for warm socks
    store.execute("MATCH (:Query)-[r]->(:Intention) WHERE r.derived_from IS NOT NULL DELETE r")
    one = refresh_derived(store, run.run_id, run.seq, "now", keys, batch=1)
    assert _derived(store) == whole
    assert (one.queries, one.added, one.kept, one.removed) == (2, 3, 0, 0)
    again = refresh_derived(store, run.run_id, run.seq, "now", keys, batch=1)
    assert (again.added, again.kept) == (0, 3) and _derived(store) == whole


def test_a_query_with_knowledge_of_its_own_is_not_weighed(behaviour: Any, tmp_path: Path) -> None:
    """Its derived edges would be thrown away, so its bought products are not read: at 10M
    edges, weighing hub products' intentions for such queries took hours."""
    from cosmo.kg.derived import _BOUGHT, refresh_derived

    store = behaviour
    f = _file(
        [
            ("co_buy", "P1", "P2", "USED_FOR_EVE", "camping in cold weather", 0.9, 0.8),
            ("co_buy", "P3", "P4", "USED_IN_BODY", "cold feet", 0.9, 0.9),
            ("search_buy", "warm socks", "P3", "USED_IN_BODY", "cold feet", 0.9, 0.9),
        ],
        tmp_path / "f.csv",
    )
    run = load_triples_file(store, f)
    assert {q for q, _, _ in _derived(store)} == {"winter camping"}
    read: list[tuple[str, dict[str, Any]]] = []

    keys = ["winter camping", "warm socks"]
    counts = refresh_derived(_Recording(store, read), run.run_id, run.seq, "now", keys)  # type: ignore[arg-type]
    assert (counts.added, counts.kept, counts.removed) == (0, 1, 0)
    bought = [p["keys"] for cypher, p in read if cypher == _BOUGHT]
    assert bought == [["winter camping"]]
    assert all("P3" not in p.get("ids", []) for _, p in read)


def test_a_refresh_reads_back_only_the_edges_it_may_change(behaviour: Any, tmp_path: Path) -> None:
    """A query's own knowledge edges stay on the server: per query, the refresh gets whether
    it has any, and only its derived edges (at 3M edges, hub queries' own edges coming back
    row by row were three quarters of an incremental load's refresh)."""
    from cosmo.kg.derived import _QUERY_EDGES

    store = behaviour
    f = _file(
        [
            ("co_buy", "P1", "P2", "USED_FOR_EVE", "camping in cold weather", 0.9, 0.8),
            ("co_buy", "P1", "P4", "CAPABLE_OF", "keeping the head warm", 0.7, 0.4),
            ("search_buy", "warm socks", "P3", "USED_IN_BODY", "cold feet", 0.9, 0.9),
            ("search_buy", "warm socks", "P3", "USED_FOR_FUNC", "keeping feet dry", 0.8, 0.7),
        ],
        tmp_path / "f.csv",
    )
    load_triples_file(store, f)
    keys = ["winter camping", "warm socks"]
    got = {r["k"]: r for r in store.query(_QUERY_EDGES, {"keys": keys})}
    assert got["warm socks"]["direct"] is True and got["warm socks"]["edges"] == []
    assert got["winter camping"]["direct"] is False
    edges = sorted((e["rel"], e["n"], sorted(e["df"])) for e in got["winter camping"]["edges"])
    assert edges == [("CAPABLE_OF", 0, ["P1"]), ("USED_FOR_EVE", 0, ["P1", "P2"])]


def test_a_load_refreshes_from_its_plan_what_the_graph_marks_as_its_own(
    behaviour: Any, tmp_path: Path
) -> None:
    """The products and intentions an incremental load's refresh starts from come from its
    plan, not from a scan of every product edge for the run's mark (a cost that grew with
    the graph); they are exactly the ones the graph marks."""
    from cosmo.kg.derived import _TOUCHED
    from cosmo.kg.planner import ProductKnowledge, iter_plan
    from cosmo.kg.validate import read_triples

    store = behaviour
    f = _file(
        [
            ("co_buy", "P1", "P2", "USED_FOR_EVE", "camping in cold weather", 0.9, 0.8),
            ("co_buy", "P1", "P4", "CAPABLE_OF", "keeping the head warm", 0.7, 0.4),
            ("search_buy", "warm socks", "P3", "USED_IN_BODY", "cold feet", 0.9, 0.9),
        ],
        tmp_path / "f.csv",
    )
    sent: list[tuple[str, dict[str, Any]]] = []

    run = load_triples_file(_Recording(store, sent), f)  # type: ignore[arg-type]
    assert _TOUCHED not in [cypher for cypher, _ in sent]
    assert run.derived is not None and run.derived.queries == 2  # both queries bought P1..P3
    marked = store.query(_TOUCHED, {"run": run.run_id})[0]
    plan = ProductKnowledge()
    for _ in plan.seen(iter_plan(read_triples(f).frame)):
        pass
    assert plan.products == set(marked["products"]) == {"P1", "P2", "P3", "P4"}
    assert plan.intentions == set(marked["intentions"]) and len(plan.intentions) == 3
