"""Graded typicality among plausible intentions: a ridge regressor on the classifier's features.

The quality classifier's typicality head is a logistic model of "typical or not"; ranking
intentions that are already good (FolkScope's typicality 0.6-1.0 on IntentionQA's gold
assertions) needs the graded score itself. :class:`TypicalityRegressor` fits a ridge
regression on the relation type, the classifier's similarity and length scalars and a
few wording statistics (:func:`wording_features`), choosing the penalty by
cross-validation grouped by behaviour pair *inside the training data only*. (Adding the
384 sentence-embedding dimensions made the held-out ranking worse on IntentionQA: too
few graded labels for that many weights.)

:func:`gold_typicality_report` measures it two ways, both grouped by pair: on a fixed
held-out part, and out-of-fold over every gold intention (5 folds).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cosmo.core.records import Candidate
from cosmo.core.schema import pair_key
from cosmo.refine.overlap import containment

__all__ = ["ALPHAS", "TypicalityRegressor", "gold_typicality_report", "wording_features"]

ALPHAS: tuple[float, ...] = (1.0, 10.0, 100.0, 1000.0, 10000.0)


def wording_features(candidates: Sequence[Candidate]) -> np.ndarray:
    """Specificity of the wording: length, overlap with each title, capitals, digits,
    category-style tails, and how many candidates the same pair has in the input."""
    per_pair = Counter(pair_key(c.behaviour, c.source, c.target) for c in candidates)
    rows = []
    for c in candidates:
        a, b = c.source_title or c.source, c.target_title or c.target
        words = c.tail.split()
        rows.append(
            [
                min(len(words), 30) / 10.0,
                containment(c.tail, a),
                containment(c.tail, b),
                sum(ch.isupper() for ch in c.tail) / max(len(c.tail), 1),
                float(" in the category " in c.tail),
                float(bool(re.search(r"\d", c.tail))),
                float(c.tail[:1].isupper()),
                min(len(f"{a} {b}".split()), 80) / 20.0,
                np.log1p(per_pair[pair_key(c.behaviour, c.source, c.target)]),
            ]
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(candidates), 9)


@dataclass
class TypicalityRegressor:
    """Ridge regression of graded typicality; the penalty picked by grouped inner CV."""

    alphas: Sequence[float] = ALPHAS
    folds: int = 5
    alpha: float | None = None
    model: Any = field(default=None, repr=False)

    def fit(self, x: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> TypicalityRegressor:
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        g = np.asarray(groups)
        k = min(self.folds, len(np.unique(g)))
        best, best_err = self.alphas[0], np.inf
        if k >= 2:
            for a in self.alphas:
                err = 0.0
                for tr, te in GroupKFold(k).split(x, y, g):
                    m = make_pipeline(StandardScaler(), Ridge(alpha=a)).fit(x[tr], y[tr])
                    err += float(((m.predict(x[te]) - y[te]) ** 2).sum())
                if err < best_err:
                    best, best_err = a, err
        self.alpha = float(best)
        self.model = make_pipeline(StandardScaler(), Ridge(alpha=self.alpha)).fit(x, y)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x), dtype=np.float64)


def gold_typicality_report(
    x: np.ndarray,
    y: np.ndarray,
    groups: Sequence[str],
    test: np.ndarray,
    *,
    folds: int = 5,
    alphas: Sequence[float] = ALPHAS,
) -> dict[str, Any]:
    """Spearman of the regressor's predictions with graded typicality (gold items only).

    ``x``, ``y``, ``groups`` (pair keys) and the boolean ``test`` mask cover the gold
    intentions. ``heldout``: fitted on the rest, scored on ``test``. ``out_of_fold``:
    ``folds``-fold over all of them, grouped by pair. The penalty is chosen inside each
    training part only.
    """
    from scipy.stats import spearmanr
    from sklearn.model_selection import GroupKFold

    g = np.asarray(groups)
    reg = TypicalityRegressor(alphas, folds).fit(x[~test], y[~test], g[~test])
    held = float(spearmanr(reg.predict(x[test]), y[test]).statistic)
    oof = np.zeros(len(y))
    for tr, te in GroupKFold(folds).split(x, y, g):
        oof[te] = TypicalityRegressor(alphas, folds).fit(x[tr], y[tr], g[tr]).predict(x[te])
    return {
        "heldout_spearman": round(held, 4),
        "out_of_fold_spearman": round(float(spearmanr(oof, y).statistic), 4),
        "alpha": reg.alpha,
        "n_test": int(test.sum()),
        "n": len(y),
    }
