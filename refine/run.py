"""File-level entry points behind the commands and the demo: read, run, write, manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cosmo.core.artifacts import read_candidates, staged_outputs, write_triples
from cosmo.core.embeddings import Embedder
from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest
from cosmo.core.records import Candidate
from cosmo.refine.classifier import QualityClassifier
from cosmo.refine.funnel import write_funnel
from cosmo.refine.labels import aggregate_labels, candidates_for_labels, read_labels
from cosmo.refine.perplexity import PerplexityScorer
from cosmo.refine.pipeline import RefineResult, refine
from cosmo.refine.settings import RefineSettings
from cosmo.refine.stage import StageRunner

__all__ = ["load_input", "run_refine", "score_candidates", "train_classifier"]


def load_input(
    candidates: Path | None, intentionqa: Path | None, *, limit: int | None = None
) -> tuple[list[Candidate], Path]:
    """Candidates from a candidates file or from IntentionQA task 1 (exactly one)."""
    from cosmo.refine.intentionqa import intentionqa_candidates

    if (candidates is None) == (intentionqa is None):
        raise InputError("give exactly one input: --candidates FILE or --intentionqa task1.jsonl")
    if candidates is not None:
        cands, source = read_candidates(candidates), candidates
    else:
        assert intentionqa is not None
        cands, source = intentionqa_candidates(intentionqa), intentionqa
    return (cands[:limit] if limit else cands), source


def run_refine(
    candidates: list[Candidate],
    out_dir: Path,
    *,
    embedder: Embedder,
    settings: RefineSettings | None = None,
    cache_dir: Path | None = None,
    classifier_path: Path | None = None,
    classifier: QualityClassifier | None = None,
    use_perplexity: bool = True,
    scorer: PerplexityScorer | None = None,
    inputs: dict[str, Path] | None = None,
    runner: StageRunner | None = None,
) -> tuple[RefineResult, dict[str, Path]]:
    """Refine, then write ``triples.parquet`` (+ manifest) and the funnel report.

    The perplexity scorer is built from ``settings`` unless one is passed in; ``runner``
    runs the per-candidate stages (see :func:`cosmo.refine.pipeline.refine`). The manifest's
    ``notes.stages`` says where each stage ran.
    """
    s = settings or RefineSettings()
    if classifier is None and classifier_path is not None:
        classifier = QualityClassifier.load(classifier_path, embedder)
    if scorer is None and use_perplexity:
        scorer = PerplexityScorer(
            s.perplexity_model,
            batch_size=s.perplexity_batch_size,
            max_tokens=s.perplexity_max_tokens,
            device=s.device,
            cache_dir=cache_dir,
        )
    if not use_perplexity:
        scorer = None
    manifest = Manifest(stage="refine", parameters=s.model_dump(mode="json"))
    for name, path in (inputs or {}).items():
        if Path(path).is_file():
            manifest.add_input(name, Path(path))
    if classifier_path is not None:
        manifest.add_input("classifier", Path(classifier_path))
    manifest.notes.update(perplexity=use_perplexity, classifier=classifier is not None)
    result = refine(
        candidates,
        embedder=embedder,
        scorer=scorer,
        classifier=classifier,
        settings=s,
        runner=runner,
    )
    out_dir = Path(out_dir)
    manifest.count("candidates", result.n_input)
    for r in result.reports:
        manifest.count(f"after_{r.stage}", r.n_out)
    manifest.notes["run"] = result.run_id
    manifest.notes["stages"] = result.engines
    with staged_outputs(out_dir) as stage:  # the triples and their reports, all or nothing
        write_triples(result.triples, stage / "triples.parquet")
        paths = write_funnel(
            stage, result.n_input, result.reports, len(result.triples), extra={"run": result.run_id}
        )
        manifest.write(stage / "triples.parquet", triples=len(result.triples))
    final = {k: out_dir / p.name for k, p in paths.items()}
    return result, {"triples": out_dir / "triples.parquet", **final}


def _labels_and_candidates(
    labels_path: Path | Any, candidates_path: Path | None
) -> tuple[list[Candidate], Any]:
    raw = read_labels(labels_path)
    agg = aggregate_labels(raw)
    rows = raw.drop_duplicates("candidate_id").set_index("candidate_id")
    rows = rows.reindex(agg["candidate_id"]).reset_index()
    known = None
    if candidates_path is not None:
        known = {c.candidate_id: c for c in read_candidates(candidates_path)}
    file = str(labels_path) if isinstance(labels_path, (str, Path)) else None
    cands = candidates_for_labels(rows, known, file=file)
    return cands, agg


def train_classifier(
    labels: Path | Any,
    model_path: Path,
    embedder: Embedder,
    *,
    candidates_path: Path | None = None,
    holdout: float = 0.2,
    c: dict[str, float] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Train on annotations, save the model, write a calibration report beside it."""
    from cosmo.refine.calibration import plot_reliability
    from cosmo.refine.evaluate import train_with_holdout

    cands, agg = _labels_and_candidates(labels, candidates_path)
    manifest = Manifest(
        stage="classify-train", parameters={"c": c or "default", "holdout": holdout, "seed": seed}
    )
    if isinstance(labels, (str, Path)):
        manifest.add_input("labels", Path(labels))
    clf, metrics = train_with_holdout(cands, agg, embedder, c=c, test_share=holdout, seed=seed)
    model_path = Path(model_path)
    clf.save(model_path)
    report = model_path.with_name(model_path.stem + ".calibration.json")
    report.write_text(json.dumps(metrics, indent=2, default=str))
    if metrics["calibration"]:
        plot_reliability(
            metrics["calibration"], model_path.with_name(model_path.stem + ".calibration.png")
        )
    manifest.count("labelled_candidates", len(cands))
    manifest.notes["holdout"] = metrics["holdout"]
    manifest.write(model_path)
    metrics["report"] = report
    return metrics


def score_candidates(candidates_path: Path, model_path: Path, out: Path, embedder: Embedder) -> int:
    """Write the candidates with ``p_plausibility`` and ``p_typicality`` columns."""
    import pandas as pd

    clf = QualityClassifier.load(model_path, embedder)
    cands = read_candidates(candidates_path)
    preds = clf.predict(cands)
    frame = pd.DataFrame([c.model_dump(mode="json") for c in cands])
    for t, p in preds.items():
        frame[f"p_{t}"] = p
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        frame.to_parquet(out, index=False)
    elif out.suffix == ".csv":
        frame.to_csv(out, index=False)
    elif out.suffix in (".jsonl", ".json"):
        frame.to_json(out, orient="records", lines=True)
    else:
        raise InputError("unknown output type; use .parquet, .jsonl or .csv", file=str(out))
    m = Manifest(stage="classify-score")
    m.add_input("candidates", Path(candidates_path))
    m.add_input("classifier", Path(model_path))
    m.write(out, scored=len(frame))
    return len(frame)
