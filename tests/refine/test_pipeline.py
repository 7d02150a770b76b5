"""The whole refinement on real candidates: triples in the KG format, funnel report files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cosmo.core.errors import PipelineError
from cosmo.core.manifest import read_manifest
from cosmo.core.records import TRIPLE_COLUMNS, KnowledgeTriple
from cosmo.refine.pipeline import refine
from cosmo.refine.run import run_refine, train_classifier
from cosmo.refine.settings import RefineSettings

SAMPLE = Path(__file__).resolve().parents[2] / "refine" / "sample" / "annotations.jsonl"


@pytest.fixture(scope="module")
def sample_classifier(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    model = tmp_path_factory.mktemp("clf") / "classifier.npz"
    metrics = train_classifier(SAMPLE, model, embedder, holdout=0.25)
    return model, metrics


def test_bundled_sample_trains_a_classifier_with_a_calibration_report(sample_classifier) -> None:  # type: ignore[no-untyped-def]
    model, metrics = sample_classifier
    assert set(metrics["holdout"]) == {"plausibility", "typicality"}
    assert 150 <= sum(1 for _ in SAMPLE.open()) <= 300
    assert model.exists() and Path(f"{model}.json").exists()
    assert model.with_name("classifier.calibration.png").stat().st_size > 5000
    report = json.loads(model.with_name("classifier.calibration.json").read_text())
    held = report["holdout"]["plausibility"]
    assert held["auc"] > 0.6 and 0 <= held["brier"] < 0.25
    assert sum(b["n"] for b in report["calibration"]["plausibility"]["bins"]) == held["n"]
    assert read_manifest(model)["counts"]["labelled_candidates"] > 150


def test_run_refine_writes_triples_manifest_and_funnel(
    tmp_path: Path, embedder, small_candidates, sample_classifier
) -> None:  # type: ignore[no-untyped-def]
    model, _ = sample_classifier
    before = [c.model_copy() for c in small_candidates]
    result, paths = run_refine(
        list(small_candidates),
        tmp_path,
        embedder=embedder,
        classifier_path=model,
        use_perplexity=False,
        settings=RefineSettings(generic_min_heads=3, generic_max_share=0.2),
    )
    assert list(small_candidates) == before  # inputs untouched
    frame = pd.read_parquet(paths["triples"])
    assert list(frame.columns) == list(TRIPLE_COLUMNS)
    assert len(frame) == len(result.triples) > 0
    for row in frame.to_dict("records"):
        t = KnowledgeTriple.model_validate({k: v for k, v in row.items() if v is not None})
        assert t.plausibility > 0.5 and t.intention_id and t.pipeline_run == result.run_id
    stages = [r.stage for r in result.reports]
    assert stages == [
        "validity",
        "genericness",
        "overlap",
        "similarity",
        "classifier",
        "resolution",
        "triples",
    ]
    for a, b in zip(result.reports, result.reports[1:], strict=False):
        assert b.n_in == a.n_out
    assert result.reports[0].n_in == len(small_candidates)
    # the classifier drops distractors far more often than gold intentions
    clf = next(r for r in result.reports if r.stage == "classifier")
    dropped_origins = [d.candidate.origin for d in clf.dropped]
    assert dropped_origins.count("intentionqa-distractor") > dropped_origins.count("intentionqa")
    # the funnel report: PNG, Markdown, HTML and JSON with the counts
    assert paths["png"].stat().st_size > 10_000
    md = paths["markdown"].read_text()
    html = paths["html"].read_text()
    for r in result.reports:
        assert f"| {r.stage} | {r.n_in:,} | {r.n_out:,} | {r.n_dropped:,} |" in md
        assert f"<td>{r.stage}</td><td>{r.n_in:,}</td>" in html
    assert "data:image/png;base64," in html
    data = json.loads(paths["json"].read_text())
    assert data["input"] == len(small_candidates) and data["triples"] == len(frame)
    assert any(st["examples"] for st in data["stages"])
    manifest = read_manifest(paths["triples"])
    assert manifest["counts"]["triples"] == len(frame)
    assert manifest["counts"]["candidates"] == len(small_candidates)
    assert "classifier" in manifest["inputs"]
    # written through a staging folder (all or nothing), renamed into place, none left behind
    assert manifest["artifact"] == str(tmp_path / "triples.parquet")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging-")]


def test_refine_rejects_duplicate_ids(embedder, small_candidates) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PipelineError, match="occurs twice"):
        refine([small_candidates[0], small_candidates[0]], embedder=embedder, scorer=None)


def test_refine_on_empty_input(embedder) -> None:  # type: ignore[no-untyped-def]
    result = refine([], embedder=embedder, scorer=None)
    assert result.triples == [] and all(r.n_in == 0 for r in result.reports)
