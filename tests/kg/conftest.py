"""Triples built from IntentionQA's real co-buy pairs and their gold intentions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

_RULES = [
    (r"\bare a type of\b|\bare both a\b|\bare a kind of\b", "IS_A"),
    (r"\bcapable of\b|\bcan\b", "CAPABLE_OF"),
    (r"\bused for\b|\bused to\b", "USED_FOR_FUNC"),
    (r"\bused with\b|\bused together\b", "USED_WITH"),
    (r"\bused in\b|\bused at\b", "USED_IN_LOC"),
    (r"\bused by\b|\bfor (?:the )?(?:kids|children|men|women|babies|people)\b", "USED_FOR_AUD"),
    (r"\bwant\b|\bwill be able to\b|\bas a result\b", "xWANT"),
    (r"\binterested in\b|\brelated to the topic\b", "xINTERESTED_IN"),
]


def _relation(text: str) -> str:
    for pat, rel in _RULES:
        if re.search(pat, text):
            return rel
    return "USED_FOR_FUNC"


def _tail(option: str) -> str:
    t = re.sub(r"^(because|as a result,?)\s+(they\s+)?(both\s+|could both\s+)?", "", option.strip())
    return t.rstrip(".").strip().strip('"')


def intentionqa_triples(shared_data: Path, limit: int | None = None) -> pd.DataFrame:
    rows = []
    with open(shared_data / "intentionqa" / "task1.jsonl", encoding="utf-8") as f:
        for n, line in enumerate(f):
            if limit is not None and n >= limit:
                break
            d = json.loads(line)
            option = d["options"][d["gold_ind"]]
            rows.append(
                {
                    "behaviour": "co_buy",
                    "source": d["item_a_id"],
                    "target": d["item_b_id"],
                    "relation": _relation(option),
                    "tail": _tail(option),
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
