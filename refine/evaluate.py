"""Training with a held-out check, and the evaluation on IntentionQA's real labels.

**Labels derived from IntentionQA** (:func:`intentionqa_labels`), used for the bundled
sample and the evaluation; they are *derived*, not human answers to our five questions:

* gold intention of a pair: completeness, relevance, plausibility = yes; typicality = yes
  when FolkScope's typicality ≥ 0.7 (the median), else no;
* distractor (an intention of another pair shown with this pair): completeness = yes,
  relevance, plausibility, typicality = no;
* informativeness = the tail is not contained in the titles (our overlap measure < 0.9).

**Split by co-buy pair**: every candidate of a pair lands on the same side, so the test
pairs are unseen in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cosmo.core.embeddings import Embedder
from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.core.schema import RELATIONS, pair_key
from cosmo.refine.calibration import calibration_report
from cosmo.refine.classifier import DEFAULT_C, N_SCALARS, TARGETS, QualityClassifier
from cosmo.refine.labels import aggregate_labels
from cosmo.refine.overlap import containment
from cosmo.refine.typicality import gold_typicality_report, wording_features

__all__ = [
    "TYPICAL_AT",
    "evaluate_intentionqa",
    "intentionqa_labels",
    "split_by_pair",
    "train_with_holdout",
]

TYPICAL_AT = 0.7
"""FolkScope typicality at or above which a gold intention counts as typical (the median)."""


def intentionqa_labels(candidates: Sequence[Candidate], *, annotator: str = "intentionqa") -> Any:
    """Derived yes/no labels (see the module docstring) as a labels DataFrame."""
    import pandas as pd

    rows = []
    for c in candidates:
        gold = c.origin == "intentionqa"
        typ = float(c.reference_score or 0.0)
        titles = f"{c.source_title or ''} {c.target_title or ''}"
        rows.append(
            {
                "candidate_id": c.candidate_id,
                "annotator": annotator,
                "completeness": True,
                "relevance": gold,
                "informativeness": containment(c.tail, titles) < 0.9,
                "plausibility": gold,
                "typicality": gold and typ >= TYPICAL_AT,
                "reference_typicality": typ if gold else 0.0,
            }
        )
    return pd.DataFrame(rows)


def split_by_pair(
    candidates: Sequence[Candidate], *, test_share: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks ``(train, test)`` that keep each behaviour pair on one side."""
    keys = np.array([pair_key(c.behaviour, c.source, c.target) for c in candidates])
    uniq = np.unique(keys)
    if len(uniq) < 2:
        raise InputError("need labels from at least two behaviour pairs to hold some out")
    rng = np.random.default_rng(seed)
    n_test = max(1, round(len(uniq) * test_share))
    test_keys = set(rng.choice(uniq, size=n_test, replace=False).tolist())
    test = np.array([k in test_keys for k in keys])
    return ~test, test


def _auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y) >= 0.5
    if y.all() or not y.any():
        return None
    return round(float(roc_auc_score(y, p)), 4)


def train_with_holdout(
    candidates: Sequence[Candidate],
    labels: Any,
    embedder: Embedder,
    *,
    c: dict[str, float] | None = None,
    test_share: float = 0.2,
    seed: int = 0,
    targets: Sequence[str] = TARGETS,
) -> tuple[QualityClassifier, dict[str, Any]]:
    """Fit on a pair-wise split, measure on the held-out part, then refit on everything.

    ``labels`` is the aggregated frame (one row per candidate, same order). Returns the
    classifier trained on all labels and ``{"holdout": {target: {auc, brier, ...}}}``.
    """
    x = QualityClassifier(embedder).features(candidates)
    targets = [t for t in targets if t in labels.columns]
    metrics: dict[str, Any] = {"n_labelled": len(candidates), "holdout": {}, "calibration": {}}
    try:
        train, test = split_by_pair(candidates, test_share=test_share, seed=seed)
        held = QualityClassifier(embedder, c=dict(c or DEFAULT_C), seed=seed).fit(
            [cand for cand, m in zip(candidates, train, strict=True) if m],
            labels[train].reset_index(drop=True),
            targets=targets,
            features=x[train],
        )
        preds = held.predict([], features=x[test])
        plausible = (
            np.asarray(labels["plausibility"], dtype=np.float64)[test] >= 0.5
            if "plausibility" in labels.columns
            else np.ones(int(test.sum()), dtype=bool)
        )
        for t in targets:
            y = np.asarray(labels[t], dtype=np.float64)[test]
            ok = ~np.isnan(y)
            if t == "typicality":
                ok &= plausible  # the head predicts P(typical | plausible)
            rep = calibration_report(y[ok], preds[t][ok])
            metrics["calibration"][t] = rep
            metrics["holdout"][t] = {
                "n": int(ok.sum()),
                "auc": _auc(y[ok], preds[t][ok]),
                "brier": rep["brier"],
                "ece": rep["ece"],
                "accuracy": round(float(((preds[t][ok] > 0.5) == (y[ok] >= 0.5)).mean()), 4),
            }
    except InputError as e:
        metrics["holdout_error"] = str(e)
    clf = QualityClassifier(embedder, c=dict(c or DEFAULT_C), seed=seed).fit(
        candidates, labels, targets=targets, features=x
    )
    clf.info["holdout"] = metrics["holdout"]
    return clf, metrics


def evaluate_intentionqa(
    path: Path,
    embedder: Embedder,
    *,
    test_share: float = 0.25,
    seed: int = 0,
    c: dict[str, float] | None = None,
    limit_pairs: int | None = None,
) -> dict[str, Any]:
    """Train on part of IntentionQA (split by co-buy pair) and score the rest.

    Reports, on the held-out pairs:

    * ``typicality_spearman``: Spearman of P(typical | plausible) with FolkScope's
      typicality over the gold intentions (0.6-1.0, the real graded labels);
    * ``typicality_auc``: AUC of the same for typicality ≥ the median, gold only;
    * ``plausibility_auc``: AUC of P(plausible) for gold against distractors;
    * ``spearman_all``: Spearman of P(typical) = P(plausible) × P(typical | plausible)
      with typicality over gold and distractors (distractors counted as 0);
    * ``typicality_regressor``: the graded-typicality ridge regressor
      (:mod:`cosmo.refine.typicality`) on the gold intentions: Spearman on the same
      held-out pairs, and 5-fold out-of-fold grouped by pair;
    * Brier scores and reliability bins of both heads.
    """
    from scipy.stats import spearmanr

    from cosmo.refine.intentionqa import intentionqa_candidates

    cands = intentionqa_candidates(Path(path), limit_pairs=limit_pairs)
    labels = intentionqa_labels(cands)
    agg = aggregate_labels(labels)
    x = QualityClassifier(embedder).features(cands)
    train, test = split_by_pair(cands, test_share=test_share, seed=seed)
    clf = QualityClassifier(embedder, c=dict(c or DEFAULT_C), seed=seed).fit(
        [cd for cd, m in zip(cands, train, strict=True) if m],
        agg[train].reset_index(drop=True),
        features=x[train],
    )
    pred = clf.predict([], features=x[test])
    gold = np.array([cd.origin == "intentionqa" for cd in cands])[test]
    ref = labels["reference_typicality"].to_numpy()[test]
    p_typ, p_pl, p_joint = pred["typicality"], pred["plausibility"], pred["typicality_joint"]
    y_typ = agg["typicality"].to_numpy()[test]
    is_gold = np.array([cd.origin == "intentionqa" for cd in cands])
    # relation one-hot and similarity/length scalars of the classifier, plus wording
    xg = np.hstack([x[:, -(N_SCALARS + len(RELATIONS)) :], wording_features(cands)])[is_gold]
    regressor = gold_typicality_report(
        xg,
        labels["reference_typicality"].to_numpy()[is_gold],
        [
            pair_key(cd.behaviour, cd.source, cd.target)
            for cd in cands
            if cd.origin == "intentionqa"
        ],
        test[is_gold],
    )
    in_train = [cd for cd, m in zip(cands, train, strict=True) if m]
    in_test = [cd for cd, m in zip(cands, test, strict=True) if m]
    return {
        "pairs_train": len({pair_key(cd.behaviour, cd.source, cd.target) for cd in in_train}),
        "pairs_test": len({pair_key(cd.behaviour, cd.source, cd.target) for cd in in_test}),
        "candidates_train": int(train.sum()),
        "candidates_test": int(test.sum()),
        "gold_test": int(gold.sum()),
        "typicality_spearman": round(float(spearmanr(ref[gold], p_typ[gold]).statistic), 4),
        "typicality_auc": _auc(ref[gold] >= TYPICAL_AT, p_typ[gold]),
        "plausibility_auc": _auc(gold.astype(float), p_pl),
        "spearman_all": round(float(spearmanr(ref, p_joint).statistic), 4),
        "typicality_joint_auc": _auc(y_typ, p_joint),
        "typicality_regressor": regressor,
        "brier_plausibility": calibration_report(gold.astype(float), p_pl)["brier"],
        "brier_typicality": calibration_report(y_typ[gold], p_typ[gold])["brier"],
        "calibration": {
            "plausibility": calibration_report(gold.astype(float), p_pl),
            "typicality": calibration_report(y_typ[gold], p_typ[gold]),
        },
    }


def sample_annotations(
    candidates: Sequence[Candidate], *, n_pairs: int = 40, seed: int = 0
) -> list[dict[str, Any]]:
    """Rows for a bundled annotation sample: derived labels plus the candidate's text.

    Picks ``n_pairs`` behaviour pairs at random (seeded) and writes every candidate of
    them (gold and distractors), so the sample has yes and no answers.
    """
    keys = sorted({pair_key(c.behaviour, c.source, c.target) for c in candidates})
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(keys, size=min(n_pairs, len(keys)), replace=False).tolist())
    picked = [c for c in candidates if pair_key(c.behaviour, c.source, c.target) in chosen]
    labels = intentionqa_labels(picked).drop(columns=["reference_typicality"])
    rows = []
    for c, lab in zip(picked, labels.to_dict("records"), strict=True):
        rows.append(
            {
                **{
                    k: (bool(v) if k not in ("candidate_id", "annotator") else v)
                    for k, v in lab.items()
                },
                "behaviour": str(c.behaviour),
                "source": c.source,
                "target": c.target,
                "source_title": c.source_title,
                "target_title": c.target_title,
                "relation": c.relation,
                "tail": c.tail,
            }
        )
    return rows
