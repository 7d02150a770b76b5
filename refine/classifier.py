"""Quality classifier: predicts plausibility and typicality of every candidate.

**Choice.** A logistic-regression head on frozen MiniLM embeddings plus a few features,
one head per target, rather than a fine-tuned cross-encoder. Why:

* cheap: the only neural cost is embedding (MiniLM, ~20 ms a batch on CPU, and heads and
  titles repeat, so they are embedded once); training takes a second on CPU, so it
  retrains whenever annotations change and runs inside the demo;
* small data: a few hundred to a few thousand annotations are too few to fine-tune a
  transformer without over-fitting, but enough for a regularised linear head;
* calibrated: logistic regression gives probabilities one can threshold at 0.5 (the
  calibration report checks this);
* safe to store: the model is a handful of arrays (``.npz``) plus JSON, no pickle.

Features of a candidate: the tail sentence's embedding ``t``, the element-wise product
``h * t`` with the behaviour's embedding ``h`` (does the tail fit *this* pair?), the
cosines of the tail with the behaviour and each title, the share of the tail's words
found in the titles, the tail length (words, characters) and the relation.

**Typicality is conditional.** As in COSMO's guideline, typicality is asked of plausible
explanations, so the typicality head is trained on the candidates labelled plausible and
predicts P(typical | plausible); P(typical) for any candidate is the product of the two
heads (:meth:`QualityClassifier.predict` returns both, see ``typicality_joint``).
Held out on IntentionQA this ranks FolkScope's graded typicality better than one head
trained on everything (which mostly learns gold-vs-distractor again).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cosmo.core.embeddings import Embedder
from cosmo.core.errors import InputError, ModelError
from cosmo.core.records import Candidate
from cosmo.core.schema import RELATIONS, relation_type
from cosmo.refine.overlap import containment
from cosmo.refine.similarity import embed_unique
from cosmo.refine.text import head_text, tail_sentence

__all__ = ["TARGETS", "LinearHead", "QualityClassifier"]

TARGETS: tuple[str, ...] = ("plausibility", "typicality")
FORMAT_VERSION = 2
N_SCALARS = 6
DEFAULT_C: dict[str, float] = {"plausibility": 0.05, "typicality": 0.003}
"""Inverse L2 strength per head (chosen on IntentionQA training pairs, see README)."""


@dataclass
class LinearHead:
    """Standardise, then logistic regression: ``sigmoid(((x - mean) / scale) @ coef + b)``."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, c: float = 0.5, seed: int = 0) -> LinearHead:
        """Fit on soft labels ``y`` in [0, 1] (each row counts as y positive, 1-y negative)."""
        from sklearn.linear_model import LogisticRegression

        mean = x.mean(0)
        scale = x.std(0)
        scale[scale < 1e-8] = 1.0
        xs = (x - mean) / scale
        y = np.clip(np.asarray(y, dtype=np.float64), 0.0, 1.0)
        xx = np.concatenate([xs, xs])
        yy = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
        ww = np.concatenate([y, 1.0 - y])
        keep = ww > 0
        if len(set(yy[keep].tolist())) < 2:
            raise InputError(
                "the labels of a target are all the same; the classifier needs yes and no examples"
            )
        model = LogisticRegression(C=c, max_iter=3000, random_state=seed)
        model.fit(xx[keep], yy[keep], sample_weight=ww[keep])
        return cls(mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


@dataclass
class QualityClassifier:
    """Predicts P(plausible) and P(typical) for candidates. Pass the embedder in.

    >>> clf = QualityClassifier(SentenceTransformerEmbedder()).fit(candidates, labels)
    >>> clf.predict(candidates)["plausibility"]
    """

    embedder: Embedder
    c: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_C))
    seed: int = 0
    heads: dict[str, LinearHead] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def features(self, candidates: Sequence[Candidate]) -> np.ndarray:
        """The feature matrix (one row per candidate)."""
        if not candidates:
            return np.zeros((0, 2 * self.embedder.dim + N_SCALARS + len(RELATIONS)))
        t = embed_unique(self.embedder, [tail_sentence(c) for c in candidates])
        h = embed_unique(self.embedder, [head_text(c) for c in candidates])
        a = embed_unique(self.embedder, [c.source_title or c.source for c in candidates])
        b = embed_unique(self.embedder, [c.target_title or c.target for c in candidates])
        rel = np.zeros((len(candidates), len(RELATIONS)))
        index = {r: i for i, r in enumerate(RELATIONS)}
        for i, c in enumerate(candidates):
            rel[i, index[relation_type(c.relation)]] = 1.0
        scalars = np.stack(
            [
                (h * t).sum(1),
                (a * t).sum(1),
                (b * t).sum(1),
                np.array([min(len(c.tail.split()), 30) / 10.0 for c in candidates]),
                np.array([min(len(c.tail), 200) / 50.0 for c in candidates]),
                np.array(
                    [
                        containment(
                            c.tail, f"{c.source_title or c.source} {c.target_title or c.target}"
                        )
                        for c in candidates
                    ]
                ),
            ],
            axis=1,
        )
        return np.concatenate([t, h * t, scalars, rel], axis=1)

    def fit(
        self,
        candidates: Sequence[Candidate],
        labels: Any,
        *,
        targets: Sequence[str] = TARGETS,
        features: np.ndarray | None = None,
    ) -> QualityClassifier:
        """Train one head per target on aggregated labels (same order as ``candidates``).

        ``labels`` is a mapping or DataFrame with one column per target, values in
        [0, 1]; rows with no answer for a target are left out of that head.
        """
        x = self.features(candidates) if features is None else features
        plausible = None
        if "plausibility" in getattr(labels, "columns", labels):
            plausible = np.asarray(labels["plausibility"], dtype=np.float64) >= 0.5
        for target in targets:
            y = np.asarray(labels[target], dtype=np.float64)
            ok = ~np.isnan(y)
            if target == "typicality" and plausible is not None:
                ok &= plausible  # P(typical | plausible)
            if ok.sum() < 4:
                raise InputError(f"too few labels for {target}: {int(ok.sum())}; need at least 4")
            c = self.c.get(target, DEFAULT_C.get(target, 0.05))
            self.heads[target] = LinearHead.fit(x[ok], y[ok], c=c, seed=self.seed)
        self.info.update(
            n_train=len(candidates),
            targets=list(targets),
            c=self.c,
            typicality_conditional=plausible is not None,
        )
        return self

    def predict(
        self, candidates: Sequence[Candidate], *, features: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """``{target: probabilities}`` for each trained target.

        ``typicality`` is P(typical | plausible) when trained with plausibility labels;
        then ``typicality_joint`` = P(plausible) × P(typical | plausible) is added.
        """
        if not self.heads:
            raise ModelError("the classifier is not trained: run `cosmo classify train` first")
        x = self.features(candidates) if features is None else features
        out = {t: head.predict(x) for t, head in self.heads.items()}
        if (
            "plausibility" in out
            and "typicality" in out
            and self.info.get("typicality_conditional")
        ):
            out["typicality_joint"] = out["plausibility"] * out["typicality"]
        return out

    def save(self, path: Path) -> Path:
        """Write ``<path>`` (.npz arrays) and ``<path>.json`` (metadata). No pickle."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for t, head in self.heads.items():
            arrays[f"{t}.mean"] = head.mean
            arrays[f"{t}.scale"] = head.scale
            arrays[f"{t}.coef"] = head.coef
            arrays[f"{t}.intercept"] = np.array([head.intercept])
        tmp = path.with_name(f".{path.name}.tmp.npz")
        np.savez(tmp, **arrays)  # type: ignore[arg-type]
        tmp.replace(path)
        meta = {
            "format": FORMAT_VERSION,
            "targets": list(self.heads),
            "c": self.c,
            "dim": self.embedder.dim,
            "embedder": getattr(self.embedder, "model_name", None) or "all-MiniLM-L6-v2",
            "info": self.info,
        }
        Path(f"{path}.json").write_text(json.dumps(meta, indent=2, default=str))
        return path

    @classmethod
    def load(cls, path: Path, embedder: Embedder) -> QualityClassifier:
        """Read a classifier written by :meth:`save`."""
        path = Path(path)
        meta_path = Path(f"{path}.json")
        if not path.exists() or not meta_path.exists():
            raise ModelError(
                f"no classifier at {path} (needs {path.name} and {meta_path.name}); "
                "train one with `cosmo classify train`"
            )
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ModelError(f"{path}: classifier format {meta.get('format')} is not supported")
        with np.load(path) as data:
            heads = {
                t: LinearHead(
                    data[f"{t}.mean"],
                    data[f"{t}.scale"],
                    data[f"{t}.coef"],
                    float(data[f"{t}.intercept"][0]),
                )
                for t in meta["targets"]
            }
        expected = 2 * int(meta["dim"]) + N_SCALARS + len(RELATIONS)
        if any(h.coef.shape[0] != expected for h in heads.values()):
            raise ModelError(f"{path}: the classifier was trained with another embedding size")
        return cls(embedder, c=dict(meta["c"]), heads=heads, info=dict(meta.get("info") or {}))
