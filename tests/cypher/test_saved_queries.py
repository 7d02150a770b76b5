"""Every saved query runs on FalkorDB, and everything Neo4j will run parses with Neo4j's parser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.schema import RELATIONS
from cosmo.cypher import saved_queries
from cosmo.kg import queries
from cosmo.kg.loader import load_triples_file
from cosmo.kg.queries import knowledge_query
from cosmo.kg.setup_neo4j import setup_statements

HERE = Path(__file__).resolve().parent
NON_PORTABLE = [r"\bEXISTS\s*\{", r"\bCOUNT\s*\{", r"\belementId\s*\(", r"\bapoc\.", r"\bCALL\s*\{"]


def shared_queries() -> dict[str, str]:
    """Queries that both backends run: saved queries and the loader's writes."""
    out = {f"saved:{n}": q.text for n, q in saved_queries().items()}
    for name in ("Q_PRODUCTS", "Q_QUERIES", "Q_INTENTIONS", "Q_SEARCH_BUY", "Q_CO_BUY"):
        out[f"loader:{name}"] = getattr(queries, name)
    for rel in RELATIONS:
        out[f"loader:{rel}"] = knowledge_query("Product", rel)
    return out


@pytest.fixture
def loaded(store, shared_data, tmp_path):  # type: ignore[no-untyped-def]
    from tests.kg.conftest import intentionqa_triples

    df = intentionqa_triples(shared_data, limit=300)
    extra = pd.DataFrame(
        [
            {
                "behaviour": "search_buy",
                "source": "USB extension cable",
                "target": "B00000J1U8",
                "relation": "USED_FOR_FUNC",
                "tail": "extend a usb connection",
            },
            {
                "behaviour": "search_buy",
                "source": "usb extension cable",
                "target": "B00N9HRTFU",
                "relation": "USED_FOR_FUNC",
                "tail": "extend a usb connection",
            },
            {
                "behaviour": "co_buy",
                "source": "B00000J1U8",
                "target": "B00N9HRTFU",
                "relation": "USED_FOR_AUD",
                "tail": "kids who play video games",
            },
        ]
    )
    path = tmp_path / "t.parquet"
    pd.concat([df, extra], ignore_index=True).to_parquet(path)
    load_triples_file(store, path)
    return store


def test_headers_are_complete() -> None:
    qs = saved_queries()
    assert len(qs) >= 8
    for q in qs.values():
        assert q.description and q.params and q.text
        for p in re.findall(r"\$(\w+)", q.text):
            assert p in q.example, f"{q.file}: example lacks ${p}"


def test_every_saved_query_runs_on_falkordb(loaded) -> None:  # type: ignore[no-untyped-def]
    for name, q in saved_queries().items():
        rows = loaded.query(q.text, q.example)
        assert rows, f"{name} returned nothing on the sample"
        assert all(isinstance(r, dict) for r in rows)


def test_query_facets_are_a_single_traversal(loaded) -> None:  # type: ignore[no-untyped-def]
    q = saved_queries()["query_facets_products"]
    rows = loaded.query(q.text, q.example)
    facet = next(r for r in rows if r["intention"] == "extend a usb connection")
    assert facet["relation"] == "USED_FOR_FUNC" and facet["product_count"] == 2


def test_shared_queries_stay_in_the_portable_subset() -> None:
    for name, text in shared_queries().items():
        for pat in NON_PORTABLE:
            assert not re.search(pat, text, re.IGNORECASE), f"{name} uses {pat}"


@pytest.fixture(scope="session")
def cypher_linter() -> Path:
    """Install Neo4j's Cypher parser (npm) next to the lint script, once."""
    if not (HERE / "node_modules" / "@neo4j-cypher" / "language-support").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install @neo4j-cypher/language-support")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
            timeout=600,
        )
    return HERE / "lint.cjs"


def _lint(linter: Path, queries: dict[str, str]) -> list[dict[str, object]]:
    payload = json.dumps([{"name": n, "text": t} for n, t in queries.items()])
    out = subprocess.run(
        ["node", str(linter)],
        input=payload,
        capture_output=True,
        text=True,
        cwd=HERE,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_neo4j_parser_accepts_saved_queries_loader_and_ddl(cypher_linter: Path) -> None:
    queries = shared_queries()
    queries.update({f"ddl:{i}": s for i, s in enumerate(setup_statements(embedding_dim=384))})
    problems = _lint(cypher_linter, queries)
    assert problems == []


def test_neo4j_parser_catches_a_broken_query(cypher_linter: Path) -> None:
    problems = _lint(cypher_linter, {"broken": "MATCH (n:Product RETURN n"})
    assert problems and problems[0]["name"] == "broken"
