"""Intentions persist across loads: a paraphrase in a later load joins the earlier Intention
(real MiniLM, real vector index, both backends)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cosmo.core.schema import intention_id
from cosmo.kg.intentions import IntentionMatcher
from cosmo.kg.loader import load_triples_file
from cosmo.kg.settings import DEFAULT_THRESHOLD
from cosmo.kg.versions import diff_runs, graph_stats, rollback_run


def _triples(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "behaviour": "co_buy",
                "source": a,
                "target": b,
                "relation": rel,
                "tail": tail,
                "plausibility": 0.9,
            }
            for a, b, rel, tail in rows
        ]
    )


RUN_1 = [
    ("P1", "P2", "USED_FOR_FUNC", "keep warm in winter"),
    ("P3", "P4", "USED_FOR_FUNC", "make coffee at home"),
    ("P5", "P6", "USED_FOR_EVE", "go camping"),
]
RUN_2 = [
    ("P7", "P8", "USED_FOR_FUNC", "keeping warm in the winter"),  # paraphrase (cos 0.95)
    ("P9", "P10", "USED_FOR_FUNC", "brew coffee at home"),  # paraphrase (cos 0.92)
    ("P5", "P6", "USED_FOR_EVE", "go hiking"),  # near, not the same (cos 0.66)
    ("P1", "P2", "CAPABLE_OF", "keep warm in winter"),  # same text, other tail type
    ("P7", "P8", "USED_FOR_FUNC", "repair a bicycle"),  # unrelated
]


@pytest.fixture(scope="module")
def matcher(minilm_dir: Path) -> IntentionMatcher:
    from cosmo.core.embeddings import SentenceTransformerEmbedder

    return IntentionMatcher(SentenceTransformerEmbedder(str(minilm_dir)))  # default threshold


def _intentions(store) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    rows = store.query("MATCH (i:Intention) RETURN i.id AS id, i.text AS text, i.aliases AS a")
    return {r["id"]: {"text": r["text"], "aliases": sorted(r["a"])} for r in rows}


def test_paraphrases_join_earlier_intentions(store, matcher, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "run1.csv"
    _triples(RUN_1).to_csv(first, index=False)
    load_triples_file(store, first, matcher=matcher)
    before = _intentions(store)
    second = tmp_path / "run2.csv"
    _triples(RUN_2).to_csv(second, index=False)
    report = load_triples_file(store, second, matcher=matcher)
    after = _intentions(store)

    warm, coffee = (
        intention_id("keep warm in winter", "function"),
        intention_id("make coffee at home", "function"),
    )
    new = set(after) - set(before)
    # no node for a paraphrase: only the three tails that paraphrase nothing
    assert {after[i]["text"] for i in new} == {
        "go hiking",
        "keep warm in winter",  # capability, not function
        "repair a bicycle",
    }
    assert after[warm] == {"text": "keep warm in winter", "aliases": ["keeping warm in the winter"]}
    assert after[coffee]["aliases"] == ["brew coffee at home"]
    assert report.aliases_added == 2
    # the paraphrase's edges point at the earlier node
    heads = store.query(
        "MATCH (p:Product)-[:USED_FOR_FUNC]->(i:Intention {id: $i}) RETURN p.id AS p ORDER BY p",
        {"i": warm},
    )
    assert [r["p"] for r in heads] == ["P1", "P2", "P7", "P8"]

    diff = diff_runs(store, "1", "2")
    assert diff["aliases_added"] == 2
    assert {(a["intention"], a["alias"]) for a in diff["alias_examples"]} == {
        (warm, "keeping warm in the winter"),
        (coffee, "brew coffee at home"),
    }
    assert all(a["score"] >= DEFAULT_THRESHOLD for a in diff["alias_examples"])

    # reloading the same file adds nothing: no node, no edge, no alias
    stats = graph_stats(store)
    again = load_triples_file(store, second, matcher=matcher)
    assert again.written.nodes_created == 0 and again.written.relationships_created == 0
    assert again.aliases_added == 0 and _intentions(store) == after
    assert graph_stats(store)["relationships"] == stats["relationships"]
    assert diff_runs(store, "2", "3")["aliases_added"] == 0

    # rolling back run 2 takes its aliases back
    rollback_run(store, "2")
    assert _intentions(store)[warm]["aliases"] == []


def _env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The settings as the COSMO_* variables a user would set."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is not None:
            secret = getattr(value, "get_secret_value", None)
            env[f"COSMO_{name.upper()}"] = str(secret() if secret else value)
    return env


def test_kg_diff_lists_alias_additions(graph_settings, store, matcher, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for n, rows in enumerate((RUN_1, RUN_2[:1]), 1):
        path = tmp_path / f"run{n}.csv"
        _triples(rows).to_csv(path, index=False)
        load_triples_file(store, path, matcher=matcher)
    from cosmo.cli import app

    out = CliRunner().invoke(app, ["kg", "diff", "1", "2"], env=_env(graph_settings))
    assert out.exit_code == 0, out.output
    assert '"aliases_added": 1' in out.output
    assert '"alias": "keeping warm in the winter"' in out.output


def test_intentions_without_vectors_get_them_before_matching(store, matcher, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "run1.csv"
    _triples(RUN_1).to_csv(first, index=False)
    load_triples_file(store, first)  # as a first build or a load without matching: no vectors
    second = tmp_path / "run2.csv"
    _triples(RUN_2[:2]).to_csv(second, index=False)
    report = load_triples_file(store, second, matcher=matcher)
    assert report.aliases_added == 2 and report.written.nodes_created == 4  # products only
    missing = store.query("MATCH (i:Intention) WHERE i.text_embedding IS NULL RETURN count(i) AS n")
    assert missing[0]["n"] == 0  # run 1's, written by run 2, which made no Intention
