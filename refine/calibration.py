"""Calibration of predicted probabilities: reliability bins, Brier score, ECE, a plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["calibration_report", "plot_reliability"]


def calibration_report(y: Any, p: Any, *, bins: int = 10) -> dict[str, Any]:
    """Reliability table of ``p`` against (soft) outcomes ``y`` in [0, 1].

    Returns ``{"brier", "ece", "n", "bins": [{"lo", "hi", "n", "mean_pred", "frac_pos"}]}``.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        row: dict[str, Any] = {
            "lo": round(float(edges[b]), 2),
            "hi": round(float(edges[b + 1]), 2),
            "n": n,
        }
        if n:
            row["mean_pred"] = round(float(p[m].mean()), 4)
            row["frac_pos"] = round(float(y[m].mean()), 4)
            ece += n / len(p) * abs(float(p[m].mean()) - float(y[m].mean()))
        rows.append(row)
    return {
        "n": len(p),
        "brier": round(float(np.mean((p - y) ** 2)), 4) if len(p) else None,
        "ece": round(ece, 4),
        "bins": rows,
    }


def plot_reliability(reports: dict[str, dict[str, Any]], path: Path) -> Path:
    """A reliability diagram, one line per target; PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=110)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect")
    for name, rep in reports.items():
        pts = [(b["mean_pred"], b["frac_pos"]) for b in rep["bins"] if b["n"]]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.plot(xs, ys, marker="o", label=f"{name} (Brier {rep['brier']}, ECE {rep['ece']})")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed share of yes")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Classifier calibration (held-out)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
