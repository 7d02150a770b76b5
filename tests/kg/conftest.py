"""Triples built from IntentionQA's real co-buy pairs and their gold intentions."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pandas as pd
import pytest

from cosmo.ingest.intentionqa import PAIR_FIELDS, parse_assertion, read_rows


def intentionqa_triples(shared_data: Path, limit: int | None = None) -> pd.DataFrame:
    """One co-buy triple per IntentionQA row: its gold assertion as relation and tail."""
    need = (*PAIR_FIELDS, "assertion", "typicality")
    rows = []
    for _, d in islice(read_rows(shared_data / "intentionqa" / "task1.jsonl", need), limit):
        relation, tail = parse_assertion(d["assertion"])
        rows.append(
            {
                "behaviour": "co_buy",
                "source": d["item_a_id"],
                "target": d["item_b_id"],
                "relation": relation,
                "tail": tail,
                "typicality": d["typicality"],
                "plausibility": 0.9,
                "source_title": d["item_a_name"],
                "target_title": d["item_b_name"],
                "model": "folkscope",
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def iqa_triples(shared_data: Path) -> pd.DataFrame:
    return intentionqa_triples(shared_data)


_RUN_PROPS = {"created_run", "updated_run", "created_at"}  # differ by design between two runs


def graph_dump(st) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    """Every node and edge with its properties (run ids and times left out), sorted."""

    def norm(props: dict) -> tuple:  # type: ignore[type-arg]
        return tuple(
            sorted(
                (k, tuple(sorted(v)) if k in ("sources", "aliases") else v)
                for k, v in props.items()
                if k not in _RUN_PROPS
            )
        )

    nodes = st.query("MATCH (n) WHERE NOT n:LoadRun RETURN labels(n)[0] AS l, properties(n) AS p")
    edges = st.query(
        "MATCH (a)-[r]->(b) RETURN coalesce(a.id, a.key) AS a, type(r) AS t, "
        "coalesce(b.id, b.key) AS b, properties(r) AS p"
    )
    return sorted(
        [("node", n["l"], norm(n["p"])) for n in nodes]
        + [("edge", e["a"], e["t"], e["b"], norm(e["p"])) for e in edges],
        key=repr,
    )


def assert_resumed_to(st, expected: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    """After a killed load and its rerun: ``expected``'s counts (load runs aside), no
    duplicate edge, and one load run, finished."""
    from cosmo.kg.versions import graph_stats, list_runs

    got = graph_stats(st)
    assert got["relationships"] == expected["relationships"]
    assert {k: v for k, v in got["nodes"].items() if k != "LoadRun"} == {
        k: v for k, v in expected["nodes"].items() if k != "LoadRun"
    }
    # no duplicate edges: every (head, relation, intention) appears once
    dup = st.query(
        "MATCH (h)-[r]->(i:Intention) WITH h, type(r) AS t, i, count(r) AS n WHERE n > 1 "
        "RETURN count(*) AS d"
    )
    assert dup == [{"d": 0}]
    assert [r.status for r in list_runs(st)] == ["done"]
