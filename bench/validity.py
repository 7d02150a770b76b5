"""The validity stage on every FolkScope assertion the importer reads, and its blind check.

Run by hand (seconds)::

    python bench/validity.py counts [--data ../shared/data/intentionqa]
    python bench/validity.py draw --out sample.jsonl [--seed 18] [--n 200]
    python bench/validity.py score --sample sample.jsonl --labels labels.jsonl \
        [--out refine/sample/validity_labels.jsonl]

``counts`` imports ``task1.jsonl`` as ``cosmo demo`` does, runs the validity stage on the
distinct (relation, tail) pairs and prints the rejections per rule (first rule broken).
``draw`` takes ``n`` kept and ``n`` rejected tails at random (fixed seed), shuffles them and
writes them *without* the side, so they can be labelled blind (one question: is this a
well-formed intention phrase? yes/no). ``score`` joins the labels with the side and the
rules and prints each rule's precision (share of the tails it fires on, alone or with other
rules, labelled not well-formed) and the stage's recall (share of the not-well-formed tails
in the sample it rejects; the sample draws kept and rejected tails equally, so recall is
also printed reweighted to the population's kept/rejected shares); ``--out`` writes the
joined, labelled set.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cosmo.generation.folkscope import import_intentionqa
from cosmo.refine.validity import VALIDITY_RULES, first_rule, validity_rules

LABELLER = "developer"
QUESTION = "is this a well-formed intention phrase?"


def distinct_tails(data: Path) -> list[tuple[str, str]]:
    imported = import_intentionqa(data / "task1.jsonl", pipeline_run="bench")
    return sorted({(c.relation, c.tail) for c in imported.candidates})


def counts(data: Path, console: Console) -> tuple[int, int]:
    tails = distinct_tails(data)
    first = Counter(first_rule(t) or "(kept)" for _, t in tails)
    anyr = Counter(r for _, t in tails for r in validity_rules(t))
    table = Table(title=f"validity stage on {len(tails):,} distinct FolkScope (relation, tail)")
    for col in ("rule", "rejected (first rule)", "fires (any)"):
        table.add_column(col, justify="right" if col != "rule" else "left")
    for r in VALIDITY_RULES:
        table.add_row(r, f"{first.get(r, 0):,}", f"{anyr.get(r, 0):,}")
    rejected = len(tails) - first.get("(kept)", 0)
    table.add_row("total rejected", f"{rejected:,}", "")
    table.add_row("kept", f"{first.get('(kept)', 0):,}", "")
    console.print(table)
    return len(tails) - rejected, rejected


def draw(data: Path, out: Path, seed: int, n: int) -> None:
    tails = distinct_tails(data)
    rng = random.Random(seed)
    kept = [x for x in tails if first_rule(x[1]) is None]
    rejected = [x for x in tails if first_rule(x[1]) is not None]
    sample = rng.sample(kept, min(n, len(kept))) + rng.sample(rejected, min(n, len(rejected)))
    rng.shuffle(sample)
    with out.open("w") as f:
        for i, (rel, tail) in enumerate(sample):
            f.write(json.dumps({"item": i, "relation": rel, "tail": tail}) + "\n")


def _read(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def score(data: Path, sample: Path, labels: Path, out: Path | None, seed: int) -> None:
    console = Console()
    n_kept, n_rejected = counts(data, console)
    lab = {r["item"]: r["well_formed"] for r in _read(labels)}
    rows = []
    for r in _read(sample):
        rules = validity_rules(r["tail"])
        rows.append({**r, "well_formed": lab[r["item"]], "rules": rules,
                     "side": "rejected" if rules else "kept",
                     "labeller": LABELLER, "question": QUESTION, "seed": seed})  # fmt: skip
    table = Table(title=f"blind labels ({len(rows)} tails, labeller {LABELLER})")
    for col in ("rule", "fires", "not well-formed", "precision"):
        table.add_column(col, justify="right" if col != "rule" else "left")
    for rule in VALIDITY_RULES:
        hit = [x for x in rows if rule in x["rules"]]
        bad = sum(not x["well_formed"] for x in hit)
        table.add_row(rule, str(len(hit)), str(bad), f"{bad / len(hit):.2f}" if hit else "-")
    rej = [x for x in rows if x["rules"]]
    kept = [x for x in rows if not x["rules"]]
    bad_rej = sum(not x["well_formed"] for x in rej)
    bad_kept = sum(not x["well_formed"] for x in kept)
    table.add_row("stage (any rule)", str(len(rej)), str(bad_rej), f"{bad_rej / len(rej):.2f}")
    console.print(table)
    recall = bad_rej / max(bad_rej + bad_kept, 1)
    # reweight: each sampled tail stands for population/sample tails of its side
    w_rej, w_kept = n_rejected / max(len(rej), 1), n_kept / max(len(kept), 1)
    pop = bad_rej * w_rej / max(bad_rej * w_rej + bad_kept * w_kept, 1e-9)
    console.print(
        f"recall: {bad_rej}/{bad_rej + bad_kept} = {recall:.2f} in the sample; "
        f"{pop:.2f} reweighted to {n_rejected:,} rejected / {n_kept:,} kept; "
        f"kept tails labelled not well-formed: {bad_kept}/{len(kept)}"
    )
    if out is not None:
        with out.open("w") as f:
            for x in sorted(rows, key=lambda x: x["item"]):
                f.write(json.dumps(x) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("counts", "draw", "score"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data/intentionqa"))
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sample", type=Path)
    ap.add_argument("--labels", type=Path)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    if a.command == "counts":
        counts(a.data, Console())
    elif a.command == "draw":
        draw(a.data, a.out, a.seed, a.n)
    else:
        score(a.data, a.sample, a.labels, a.out, a.seed)


if __name__ == "__main__":
    main()
