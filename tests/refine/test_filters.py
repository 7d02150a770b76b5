"""Coarse filters on real IntentionQA candidates: overlap, genericness, perplexity."""

from __future__ import annotations

import numpy as np
import pytest

from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour
from cosmo.refine.generic import GenericnessFilter, tail_statistics
from cosmo.refine.overlap import OverlapFilter, containment
from cosmo.refine.perplexity import PerplexityFilter
from cosmo.refine.settings import RefineSettings
from cosmo.refine.text import tail_sentence


def _cand(cid: str, tail: str, *, source: str = "q1", target: str = "P1", **kw) -> Candidate:  # type: ignore[no-untyped-def]
    data = dict(
        candidate_id=cid,
        behaviour=Behaviour.SEARCH_BUY,
        source=source,
        target=target,
        target_title="Coleman Sundome 4-Person Camping Tent",
        target_type="tent",
        relation="USED_FOR_EVE",
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


def test_overlap_drops_copies_of_the_input_and_keeps_explanations() -> None:
    cands = [
        _cand("a", "camping tent", source="camping tent for 4"),
        _cand("b", "Coleman Sundome 4-Person Camping Tent", source="tent"),
        _cand("c", "family camping trips in summer", source="tent"),
        _cand("d", "the", source="tent"),
    ]
    result = OverlapFilter()(cands)
    assert [c.candidate_id for c in result.kept] == ["c"]
    reasons = {d.candidate.candidate_id: d.reason for d in result.report.dropped}
    assert reasons["a"].startswith(("copies input", "contained in input"))
    assert reasons["b"].startswith("copies input")
    assert reasons["d"].startswith("too short")
    assert result.report.n_in == 4 and result.report.n_out == 1
    assert cands[0].tail == "camping tent"  # inputs untouched
    assert containment("keeping the tent dry", "dry tent") == pytest.approx(2 / 3)


def test_overlap_on_real_pairs_drops_title_copies(small_candidates) -> None:  # type: ignore[no-untyped-def]
    result = OverlapFilter()(small_candidates)
    assert 0 < result.report.n_dropped < len(small_candidates) // 2
    for d in result.report.dropped:
        assert d.reason.split(":")[0] in {
            "contained in input",
            "copies input",
            "too short",
            "too long",
        }
    assert result.report.examples(3)


def test_genericness_flags_tails_that_explain_many_unrelated_heads(iqa_candidates) -> None:  # type: ignore[no-untyped-def]
    stats = tail_statistics(iqa_candidates)
    heads, share, entropy = stats["USED_FOR_FUNC|the same purpose"]
    assert heads > 100 and share > 0.05 and entropy > 0.9
    result = GenericnessFilter(min_heads=5, max_share=0.05, min_entropy=0.75)(iqa_candidates)
    dropped_tails = {d.candidate.tail.lower() for d in result.report.dropped}
    assert "the same purpose" in dropped_tails
    kept_tails = {c.tail.lower() for c in result.kept}
    assert "keeping food warm" not in dropped_tails
    assert len(kept_tails) > 1000


def test_genericness_uses_product_types_for_entropy() -> None:
    # one tail over 6 heads of ONE product type: frequent but not spread -> kept
    same = [_cand(f"s{i}", "keeping dry", source=f"q{i}", target=f"P{i}") for i in range(6)]
    # another over 6 heads of 6 types -> generic
    spread = [
        _cand(f"g{i}", "good quality", source=f"q{i}", target=f"P{i}", target_type=f"type{i}")
        for i in range(6)
    ]
    others = [_cand(f"o{i}", f"tail number {i}", source=f"x{i}") for i in range(10)]
    result = GenericnessFilter(min_heads=5, max_share=0.1, min_entropy=0.75)(same + spread + others)
    dropped = {d.candidate.candidate_id for d in result.report.dropped}
    assert dropped == {f"g{i}" for i in range(6)}


def test_settings_read_thresholds_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSMO_REFINE_MAX_PERPLEXITY", "321")
    monkeypatch.setenv("COSMO_REFINE_KEEP_PLAUSIBILITY", "0.7")
    s = RefineSettings()
    assert s.max_perplexity == 321 and s.keep_plausibility == 0.7
    monkeypatch.setenv("COSMO_REFINE_KEEP_PLAUSIBILITY", "1.5")
    with pytest.raises(ValueError):
        RefineSettings()


@pytest.mark.slow
def test_perplexity_separates_fluent_from_scrambled_with_gemma(
    gemma_scorer, small_candidates
) -> None:  # type: ignore[no-untyped-def]
    fluent = [tail_sentence(c) for c in small_candidates[:16]]
    rng = np.random.default_rng(0)
    scrambled = []
    for s in fluent:
        words = s.rstrip(".").split()
        rng.shuffle(words)
        scrambled.append(" ".join(words) + ".")
    ppl = gemma_scorer.score(fluent + scrambled)
    f, s = ppl[:16], ppl[16:]
    assert np.median(s) > 5 * np.median(f)
    assert (s > f).mean() >= 0.85
    # batching and padding do not change the numbers
    from cosmo.refine.perplexity import naive_perplexities

    model, tok = gemma_scorer.load()
    naive = naive_perplexities(model, tok, fluent[:4])
    np.testing.assert_allclose(ppl[:4], naive, rtol=2e-3)
    # the filter stage drops the scrambled ones at a threshold between the two
    thr = float(np.sqrt(np.median(f) * np.median(s)))
    good = [c for c in small_candidates if len(c.tail.split()) >= 4][:4]
    bad = []
    for c in good:
        words = c.tail.split()
        rng.shuffle(words)
        soup = " ".join(
            f"{w[::-1]} the of" for w in words
        )  # shuffled, letters reversed: word salad
        bad.append(c.model_copy(update={"candidate_id": "x" + c.candidate_id, "tail": soup}))
    result = PerplexityFilter(gemma_scorer, max_perplexity=thr)(good + bad)
    assert result.report.n_in == 8
    kept = {c.candidate_id for c in result.kept}
    for cid, sc in result.scores.items():
        assert (cid in kept) == (sc["perplexity"] <= thr)
    assert {d.candidate.candidate_id for d in result.report.dropped} == set(result.scores) - kept
    log_good = np.log([result.scores[c.candidate_id]["perplexity"] for c in good])
    log_bad = np.log([result.scores[c.candidate_id]["perplexity"] for c in bad])
    assert (log_bad > log_good).all()
    assert log_bad.mean() - log_good.mean() > np.log(3)


class _NoDecoder:
    """A causal LM seen only through ``__call__`` (no get_decoder): the fallback path."""

    def __init__(self, model) -> None:  # type: ignore[no-untyped-def]
        self.model = model
        self.config = model.config

    def __call__(self, **kw):  # type: ignore[no-untyped-def]
        return self.model(**kw)


@pytest.mark.slow
def test_batched_perplexity_equals_the_naive_loop(gemma_scorer, small_candidates) -> None:  # type: ignore[no-untyped-def]
    """Head on real positions only, in small chunks, full-forward fallback: same numbers."""
    import torch

    from cosmo.refine.perplexity import _token_nll, naive_perplexities

    texts = [tail_sentence(c) for c in small_candidates[:6]] + ["Yes.", "It is."]
    model, tok = gemma_scorer.load()
    naive = naive_perplexities(model, tok, texts)
    old = gemma_scorer.head_chunk
    try:
        gemma_scorer.head_chunk = 5  # many chunks, one ending mid-sentence
        chunked = gemma_scorer.score(texts)
    finally:
        gemma_scorer.head_chunk = old
    np.testing.assert_allclose(chunked, naive, rtol=2e-4)
    np.testing.assert_allclose(gemma_scorer.score(texts), chunked, rtol=1e-5)
    enc = gemma_scorer._encode(texts[:3])
    width = max(len(e) for e in enc)
    ids = torch.tensor([e + [0] * (width - len(e)) for e in enc])
    mask = torch.tensor([[1] * len(e) + [0] * (width - len(e)) for e in enc])
    with torch.inference_mode():
        fast = _token_nll(model, ids, mask, 7)
        full = _token_nll(_NoDecoder(model), ids, mask, 7)
    torch.testing.assert_close(fast[0], full[0], rtol=1e-4, atol=1e-4)
    assert fast[1].tolist() == full[1].tolist() == [len(e) - 1 for e in enc]
