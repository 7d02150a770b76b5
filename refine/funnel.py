"""The funnel report: how many candidates survived each stage, and what each dropped.

:func:`write_funnel` writes into a folder:

* ``funnel.png``  a horizontal funnel chart (matplotlib, Agg);
* ``funnel.md``   counts, drop reasons and examples per stage (Markdown);
* ``funnel.html`` the same as a self-contained page (the chart inlined);
* ``funnel.json`` everything, for machines.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cosmo.refine.stage import StageReport

__all__ = ["funnel_rows", "plot_funnel", "write_funnel"]


def funnel_rows(
    n_input: int, reports: Sequence[StageReport], n_triples: int
) -> list[tuple[str, int]]:
    """``[(label, count)]``: the input, the survivors of each filter, the triples."""
    rows = [("candidates", n_input)]
    for r in reports:
        if r.stage == "triples":
            continue
        if r.stage == "resolution":
            rows.append((f"intentions ({r.parameters.get('intentions', 0)} distinct)", r.n_out))
            continue
        rows.append((f"after {r.stage}", r.n_out))
    rows.append(("knowledge triples", n_triples))
    return rows


def plot_funnel(
    rows: Sequence[tuple[str, int]], path: Path, *, title: str = "Refinement funnel"
) -> Path:
    """A centred horizontal bar per stage, widest on top, with counts and shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = max(rows[0][1], 1)
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(rows) + 1.3), dpi=110)
    colors = plt.cm.viridis([0.15 + 0.7 * i / max(len(rows) - 1, 1) for i in range(len(rows))])
    for i, ((label, n), color) in enumerate(zip(rows, colors, strict=True)):
        y = len(rows) - 1 - i
        ax.barh(y, n, left=(top - n) / 2, color=color, height=0.75)
        ax.text(
            top / 2,
            y,
            f"{n:,}  ({n / top:.0%})",
            ha="center",
            va="center",
            color="white" if n > 0.25 * top else "black",
            fontsize=10,
            fontweight="bold",
        )
        ax.text(-0.02 * top, y, label, ha="right", va="center", fontsize=10)
    ax.set_xlim(-0.02 * top, top * 1.01)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.axis("off")
    ax.set_title(title, fontsize=12)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


def _md_table(examples: list[dict[str, Any]]) -> list[str]:
    if not examples:
        return ["_nothing dropped_", ""]
    out = ["| head | relation | tail | reason |", "|---|---|---|---|"]
    for e in examples:
        cells = [str(e["head"]), str(e["relation"]), str(e["tail"]), str(e["reason"])]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return [*out, ""]


def _markdown(
    reports: Sequence[StageReport], stages: list[dict[str, Any]], n_input: int, n_triples: int
) -> str:
    md = [
        "# Refinement funnel",
        "",
        "![funnel](funnel.png)",
        "",
        "| stage | in | out | dropped |",
        "|---|---:|---:|---:|",
    ]
    for r in reports:
        md.append(f"| {r.stage} | {r.n_in:,} | {r.n_out:,} | {r.n_dropped:,} |")
    md += ["", f"**{n_input:,} candidates → {n_triples:,} knowledge triples.**", ""]
    for st in stages:
        md += [
            f"## {st['stage']}",
            "",
            f"parameters: `{json.dumps(st['parameters'], default=str)}`",
            "",
        ]
        if st["reasons"]:
            md += [
                "dropped by reason: " + ", ".join(f"{k} {v}" for k, v in st["reasons"].items()),
                "",
            ]
        md += _md_table(st["examples"])
    return "\n".join(md)


def _html_examples(examples: Sequence[dict[str, Any]]) -> list[str]:
    esc = html.escape
    if not examples:
        return ["<p><i>nothing dropped</i></p>"]
    parts = ["<table><tr><th>head</th><th>relation</th><th>tail</th><th>reason</th></tr>"]
    for e in examples:
        cells = "".join(
            f"<td>{esc(str(e[k]))}</td>" for k in ("head", "relation", "tail", "reason")
        )
        parts.append(f"<tr>{cells}</tr>")
    return [*parts, "</table>"]


def _html(
    reports: Sequence[StageReport],
    stages: list[dict[str, Any]],
    n_input: int,
    n_triples: int,
    png: Path,
) -> str:
    img = base64.b64encode(png.read_bytes()).decode()
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Refinement funnel</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "font-size:13px;text-align:left}</style></head><body>",
        "<h1>Refinement funnel</h1>",
        f"<img alt='funnel chart' src='data:image/png;base64,{img}'>",
        "<table><tr><th>stage</th><th>in</th><th>out</th><th>dropped</th></tr>",
    ]
    for r in reports:
        parts.append(
            f"<tr><td>{esc(r.stage)}</td><td>{r.n_in:,}</td><td>{r.n_out:,}</td><td>{r.n_dropped:,}</td></tr>"
        )
    parts.append(f"</table><p><b>{n_input:,} candidates → {n_triples:,} knowledge triples.</b></p>")
    for st in stages:
        parts.append(
            f"<h2>{esc(st['stage'])}</h2><p><code>{esc(json.dumps(st['parameters'], default=str))}</code></p>"
        )
        parts += _html_examples(st["examples"])
    parts.append("</body></html>")
    return "\n".join(parts)


def write_funnel(
    out_dir: Path,
    n_input: int,
    reports: Sequence[StageReport],
    n_triples: int,
    *,
    examples: int = 5,
    extra: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write the PNG, Markdown, HTML and JSON reports; return their paths by kind."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = funnel_rows(n_input, reports, n_triples)
    png = plot_funnel(rows, out_dir / "funnel.png")
    stages = [r.as_dict(examples) for r in reports]
    data = {
        "input": n_input,
        "triples": n_triples,
        "funnel": rows,
        "stages": stages,
        **(extra or {}),
    }
    (out_dir / "funnel.json").write_text(json.dumps(data, indent=2, default=str))
    (out_dir / "funnel.md").write_text(_markdown(reports, stages, n_input, n_triples))
    (out_dir / "funnel.html").write_text(_html(reports, stages, n_input, n_triples, png))
    return {
        "png": png,
        "markdown": out_dir / "funnel.md",
        "html": out_dir / "funnel.html",
        "json": out_dir / "funnel.json",
    }
