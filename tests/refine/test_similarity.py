"""Similarity filter and intention resolution with the real packaged MiniLM."""

from __future__ import annotations

from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour, intention_id
from cosmo.refine.similarity import IntentionResolver, SimilarityFilter


def _cand(cid: str, tail: str, relation: str = "USED_FOR_EVE", **kw) -> Candidate:  # type: ignore[no-untyped-def]
    data = dict(
        candidate_id=cid,
        behaviour=Behaviour.SEARCH_BUY,
        source="winter camping tent",
        target="P1",
        target_title="Coleman Sundome 4-Person Camping Tent",
        relation=relation,
        tail=tail,
        raw_output=tail,
        prompt_version="t",
        model="m",
        params="{}",
        origin="generated",
        pipeline_run="r",
    )
    data.update(kw)
    return Candidate.model_validate(data)


def test_similarity_drops_paraphrases_of_the_query(embedder) -> None:  # type: ignore[no-untyped-def]
    cands = [
        _cand("para", "tent for camping in winter"),
        _cand("ok", "a family trip to the lake"),
    ]
    result = SimilarityFilter(embedder, max_cosine=0.8)(cands)
    assert [c.candidate_id for c in result.kept] == ["ok"]
    assert result.scores["para"]["input_cosine"] >= 0.8 > result.scores["ok"]["input_cosine"]
    assert result.report.dropped[0].reason.startswith("paraphrases input")


def test_resolution_clusters_paraphrases_and_keeps_aliases(embedder) -> None:  # type: ignore[no-untyped-def]
    cands = [
        _cand("a1", "keeping warm in winter", "USED_TO"),
        _cand("a2", "keeping warm in the winter", "USED_TO"),
        _cand("a3", "Keeping warm in winter.", "USED_TO", source="q2"),
        _cand("a4", "keep warm during winter", "USED_TO"),
        _cand("b1", "hiking in the mountains", "USED_TO"),
        _cand("b2", "hiking in mountains", "USED_TO"),
        _cand("c1", "a birthday party", "USED_FOR_EVE"),
        # same words, other tail type: never merged with USED_TO tails
        _cand("d1", "keeping warm in winter", "CAPABLE_OF"),
    ]
    mapping = IntentionResolver(embedder, threshold=0.85).resolve(cands)
    a = mapping["a1"]
    assert mapping["a2"].id == mapping["a3"].id == mapping["a4"].id == a.id
    assert a.text == "keeping warm in winter"  # the most frequent surface form
    assert a.id == intention_id("keeping warm in winter", "activity")
    assert "keeping warm in the winter" in a.aliases
    assert "keep warm during winter" in a.aliases
    assert mapping["b1"].id == mapping["b2"].id != a.id
    assert mapping["c1"].id not in {a.id, mapping["b1"].id}
    assert mapping["d1"].id != a.id and mapping["d1"].tail_type == "capability"
    assert sorted(a.members) == ["a1", "a2", "a3", "a4"]


def test_resolution_report_counts_intentions(embedder, small_candidates) -> None:  # type: ignore[no-untyped-def]
    resolver = IntentionResolver(embedder, threshold=0.9)
    result = resolver(small_candidates)
    assert result.kept == list(small_candidates)
    p = result.report.parameters
    assert 0 < p["intentions"] <= p["distinct_tails"] <= len(small_candidates)
