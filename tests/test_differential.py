"""The same graph on FalkorDB and on Neo4j answers every shared query identically.

Both backends get the demo's graph (its catalogue, behaviour and refined triples) plus the API
tests' sample graph. Then:

* every saved query in ``cypher/`` runs with its example parameters and with parameters drawn
  from the graph (so that it returns rows), and must return the same rows on both;
* every GraphQL query the API tests send (read from their source: each ``gql(client, doc,
  variables)`` call whose document and variables are literals or module constants) is sent to
  an app on each backend, and the answers must be the same.

"The same", after sorting: rows and lists are compared as sorted collections, floats to six
places, load-run ids and timestamps (which differ between two loads by design) masked, and
similarity and full-text scores left out (the check is then the same ids, as the two
databases compute scores differently), and the ``properties_set`` counter of a load run masked
(FalkorDB counts a SET that leaves a value unchanged, Neo4j does not).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import OperationType, parse

from cosmo.core.settings import Settings
from cosmo.cypher import saved_queries
from cosmo.kg.factory import open_store
from tests.api.conftest import load_graph
from tests.api.test_demo_facets import load_demo
from tests.conftest import wipe

API_TESTS = Path(__file__).resolve().parent / "api"
_RUN = re.compile(r"run-\d{8}-\d{6}-[\w-]+")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)?")
_SCORES = {"score", "similarity"}
# a load run's counters as each database reports them: FalkorDB counts a SET of an unchanged
# property, Neo4j does not, so "properties_set" differs by design
_PROPERTIES_SET = re.compile(r'"properties_set": \d+')


def normalise(value: Any) -> Any:
    """A value made comparable across backends (see the module docstring)."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items()) if k not in _SCORES}
    if isinstance(value, list | tuple):
        return sorted((normalise(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, str):
        value = _PROPERTIES_SET.sub('"properties_set": <n>', value)
        return _TIME.sub("<time>", _RUN.sub("<run>", value))
    return value


def _load(settings: Settings, demo: Path) -> None:
    store = open_store(settings)
    try:
        store.setup(embedding_dim=8)
        load_demo(store, demo)
        load_graph(store)  # the API tests' sample, with its 8-d product vectors
    finally:
        store.close()


@pytest.fixture(scope="module")
def both(
    falkordb_settings: Settings, neo4j_settings: Settings, falkordb_demo: dict[str, Any]
) -> Iterator[dict[str, Settings]]:
    """Settings of the two databases, each loaded with the same graph."""
    graphs = {
        "falkordb": falkordb_settings.model_copy(update={"graph": "differential"}),
        "neo4j": neo4j_settings,
    }
    for settings in graphs.values():
        wipe(settings)
        _load(settings, Path(falkordb_demo["workdir"]))
    yield graphs
    for settings in graphs.values():
        wipe(settings)


def _drawn_parameters(settings: Settings) -> dict[str, Any]:
    """Parameter values that make each saved query return rows on this graph."""
    store = open_store(settings)
    try:
        first = store.query
        product = first(
            "MATCH (p:Product)-[r]->(:Intention) WITH p, count(r) AS n "
            "RETURN p.id AS id ORDER BY n DESC, id LIMIT 1"
        )[0]["id"]
        query = first(
            "MATCH (q:Query)-[r]->(:Intention) WITH q, count(r) AS n "
            "RETURN q.key AS key ORDER BY n DESC, key LIMIT 1"
        )[0]["key"]
        edge = first(
            "MATCH (p:Product {id: $p})-[r]->(i:Intention) RETURN i.text AS t ORDER BY t LIMIT 1",
            {"p": product},
        )[0]["t"]
        audience = first(
            "MATCH ()-[:USED_FOR_AUD|USED_BY]->(i:Intention) RETURN i.text AS t ORDER BY t LIMIT 1"
        )[0]["t"]
    finally:
        store.close()
    return {
        "product_id": product, "query_key": query, "head_id": product, "intention_text": edge,
        "text": edge.split()[0].lower(), "audience": audience.split()[-1], "min_plausibility": 0.0,
        "from_seq": 0, "to_seq": 10, "limit": 50, "per_facet": 10,
    }  # fmt: skip


def test_every_saved_query_answers_alike(both: dict[str, Settings]) -> None:
    drawn = _drawn_parameters(both["falkordb"])
    stores = {name: open_store(s) for name, s in both.items()}
    try:
        empty = []
        for name, q in saved_queries().items():
            ours = {k: drawn.get(k, v) for k, v in q.example.items()}
            for params in (q.example, ours):
                answers = {b: normalise(st.query(q.text, params)) for b, st in stores.items()}
                assert answers["falkordb"] == answers["neo4j"], f"{name} with {params}"
            if not answers["neo4j"]:
                empty.append(name)
        assert not empty, f"saved queries that answered nothing with {drawn}: {empty}"
    finally:
        for st in stores.values():
            st.close()


def _constants(tree: ast.Module) -> dict[str, Any]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    out[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return out


def _literal(node: ast.AST, constants: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def api_test_queries() -> list[tuple[str, str, dict[str, Any]]]:
    """(where, document, variables) of every read-only ``gql(...)`` call in the API tests."""
    found = []
    for path in sorted(API_TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "gql" and len(node.args) >= 2):  # fmt: skip
                continue
            doc = _literal(node.args[1], constants)
            variables = _literal(node.args[2], constants) if len(node.args) > 2 else {}
            if not isinstance(doc, str) or not isinstance(variables, dict):
                continue
            try:
                ops = parse(doc).definitions
            except Exception:
                continue  # a deliberately broken document: no data to compare
            if all(getattr(d, "operation", None) == OperationType.QUERY for d in ops):
                found.append((f"{path.name}:{node.lineno}", doc, variables))
    return found


def test_the_api_tests_queries_are_found() -> None:
    queries = api_test_queries()
    assert len(queries) >= 20
    fields = {m for _, doc, _ in queries for m in re.findall(r"\b(\w+)\s*\(", doc)}
    assert {"product", "navigate", "searchQuery"} <= fields


def test_every_api_test_query_answers_alike(both: dict[str, Settings]) -> None:
    from fastapi.testclient import TestClient

    from cosmo.api import ApiSettings, create_app

    api = ApiSettings(key_prefix="cosmo:differential:", response_cache_size=0)
    clients = {b: TestClient(create_app(api, core=s)) for b, s in both.items()}
    for c in clients.values():
        c.__enter__()
    try:
        compared = 0
        for where, doc, variables in api_test_queries():
            answers = {
                b: c.post("/graphql", json={"query": doc, "variables": variables})
                for b, c in clients.items()
            }
            codes = {b: r.status_code for b, r in answers.items()}
            assert codes["falkordb"] == codes["neo4j"], f"{where}: {codes}"
            bodies = {b: normalise(r.json()) for b, r in answers.items()}
            assert bodies["falkordb"] == bodies["neo4j"], f"{where}: {doc[:120]}"
            compared += bool(bodies["neo4j"].get("data") or {})
        assert compared >= 20
    finally:
        for c in clients.values():
            c.__exit__(None, None, None)


def _plan_counts(client: Any) -> dict[str, float]:
    found = re.findall(r'cosmo_api_prepared_plans_total\{result="(\w+)"\} ([\d.]+)',
                       client.get("/metrics").text)  # fmt: skip
    return {k: float(v) for k, v in found}


def _sample(settings: Settings) -> Settings:
    wipe(settings)
    store = open_store(settings)
    try:
        store.setup(embedding_dim=8)
        load_graph(store)  # the graph the API tests' queries are written for
    finally:
        store.close()
    return settings


def test_prepared_plans_answer_like_the_executor(
    falkordb_settings: Settings, neo4j_settings: Settings
) -> None:
    """Each API test query, answered by its prepared plan and by the normal executor, alike.

    The plan app answers each document twice (the first answer, by the executor, prepares
    it); its second answer must be byte for byte the answer of an app without plans. The
    graph is the API tests' sample on each backend (the demo graph adds nothing these
    queries read, and takes minutes to build).
    """
    from fastapi.testclient import TestClient

    from cosmo.api import ApiSettings, create_app

    both = {
        "falkordb": falkordb_settings.model_copy(update={"graph": "differential_plans"}),
        "neo4j": neo4j_settings,
    }
    for backend, settings in both.items():
        _sample(settings)
        apps = {
            "plans": ApiSettings(key_prefix="cosmo:differential:", response_cache_size=0),
            "executor": ApiSettings(
                key_prefix="cosmo:differential:", response_cache_size=0, prepared_plans=0
            ),
        }
        clients = {k: TestClient(create_app(a, core=settings)) for k, a in apps.items()}
        for c in clients.values():
            c.__enter__()
        try:
            for where, doc, variables in api_test_queries():
                body = {"query": doc, "variables": variables}
                clients["plans"].post("/graphql", json=body)  # prepares it when it answers
                ours = clients["plans"].post("/graphql", json=body)
                theirs = clients["executor"].post("/graphql", json=body)
                assert ours.status_code == theirs.status_code, f"{backend} {where}"
                same = (orjson.dumps(orjson.loads(r.content), option=orjson.OPT_SORT_KEYS)
                        for r in (ours, theirs))  # fmt: skip
                assert next(same) == next(same), f"{backend} {where}: {doc[:120]}"
            counts = _plan_counts(clients["plans"])
            assert counts.get("answered", 0) >= 15, (backend, counts)
            assert not _plan_counts(clients["executor"]), "plans=0 must not prepare"
        finally:
            for c in clients.values():
                c.__exit__(None, None, None)
            wipe(settings)
