"""COSMO-LM instruction data: five task types with varied templates.

=============  ======================================================  ==================
task           built from                                              answer
=============  ======================================================  ==================
generation     items judged plausible and typical                      the explanation
plausibility   items with a plausibility label                         yes / no
typicality     items with a typicality label                           yes / no
co_purchase    co-buy pairs (yes) and random product pairs (no)         yes / no
search_rel     search-buy pairs (yes) and random query/product (no)     yes / no
=============  ======================================================  ==================

Labels come from the annotation store (:func:`cosmo.refine.annotation.final_labels`) or,
without human labels yet, from :func:`reference_labels` (IntentionQA: a pair's gold
intention is plausible, its distractors are not; typical when FolkScope's typicality
is high). Every prompt ends with ``"\\nAnswer:"``; the training text is
``prompt + " " + answer``. Pairs are split into train and held-out by a hash of the
behaviour pair, so no pair is in both.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.jsonl import iter_jsonl
from cosmo.core.manifest import Manifest
from cosmo.core.records import Candidate
from cosmo.core.schema import pair_key

__all__ = [
    "TASKS",
    "TEMPLATES",
    "InstructExample",
    "PairInWords",
    "build_instructions",
    "pairs_from_candidates",
    "pairs_from_tables",
    "read_examples",
    "reference_labels",
    "split_of",
    "write_examples",
]

TASKS: tuple[str, ...] = ("generation", "plausibility", "typicality", "co_purchase", "search_rel")

TEMPLATES: dict[str, tuple[str, ...]] = {
    "generation": (
        "{context}\nWhy did the customer do this? Give one short reason.\nAnswer:",
        "{context}\nExplain the customer's intention in a few words.\nAnswer:",
        "Behaviour: {context}\nWhat need does this purchase serve?\nAnswer:",
    ),
    "plausibility": (
        "{context}\nExplanation: {tail}\nIs this explanation plausible? Answer yes or no.\nAnswer:",
        "{context}\nSomeone says the reason is: {tail}\nCould that be true? Reply yes or no.\nAnswer:",
        "Purchase: {context}\nProposed reason: {tail}\nPlausible (yes/no)?\nAnswer:",
    ),
    "typicality": (
        "{context}\nExplanation: {tail}\nIs this a typical reason many customers would share? Answer yes or no.\nAnswer:",
        "{context}\nReason: {tail}\nWould most shoppers buy these for this reason? yes or no.\nAnswer:",
        "Purchase: {context}\nReason: {tail}\nTypical (yes/no)?\nAnswer:",
    ),
    "co_purchase": (
        'A customer bought "{source}". Would they also buy "{target}"? Answer yes or no.\nAnswer:',
        'Product 1: "{source}"\nProduct 2: "{target}"\nAre these often bought together? yes or no.\nAnswer:',
        'Someone has "{source}" in their cart. Is "{target}" a likely co-purchase (yes/no)?\nAnswer:',
    ),
    "search_rel": (
        'Query: "{source}"\nProduct: "{target}"\nIs the product relevant to the query? Answer yes or no.\nAnswer:',
        'A shopper searched for "{source}". Would "{target}" satisfy them? yes or no.\nAnswer:',
        'Search "{source}" → product "{target}". Relevant (yes/no)?\nAnswer:',
    ),
}


@dataclass(frozen=True)
class PairInWords:
    """A behaviour pair in words: a query or product title, and a product title."""

    behaviour: str  # "search_buy" or "co_buy"
    source_id: str
    source: str
    target_id: str
    target: str


@dataclass(frozen=True)
class InstructExample:
    example_id: str
    task: str
    template: int
    prompt: str
    answer: str
    split: str  # "train" or "heldout"
    pair: str
    item_id: str | None = None

    @property
    def text(self) -> str:
        return f"{self.prompt} {self.answer}"


def _context(c: Candidate) -> str:
    a = c.source_title or c.source
    b = c.target_title or c.target
    if c.behaviour == "search_buy":
        return f'A customer searched for "{a}" and bought "{b}".'
    return f'A customer bought "{a}" and "{b}" together.'


def split_of(pair: str, heldout: float = 0.2, seed: int = 0) -> str:
    """``"heldout"`` or ``"train"``: the side of a behaviour pair (a :func:`pair_key`)."""
    h = int(hashlib.blake2b(f"{seed}\x1f{pair}".encode(), digest_size=8).hexdigest(), 16)
    return "heldout" if (h % 10_000) / 10_000 < heldout else "train"


def reference_labels(
    candidates: Iterable[Candidate], *, typical_threshold: float = 0.8
) -> dict[str, dict[str, bool]]:
    """Labels from imported reference knowledge (IntentionQA), for use before human labels.

    A candidate with a ``reference_score`` (a pair's gold intention) is plausible, and
    typical when the score reaches ``typical_threshold``; a distractor (no score, origin
    ending in ``-distractor``) is neither.
    """
    out: dict[str, dict[str, bool]] = {}
    for c in candidates:
        if c.reference_score is not None:
            out[c.candidate_id] = {
                "plausibility": True,
                "typicality": c.reference_score >= typical_threshold,
            }
        elif c.origin.endswith("-distractor"):
            out[c.candidate_id] = {"plausibility": False, "typicality": False}
    return out


def pairs_from_candidates(candidates: Iterable[Candidate]) -> list[PairInWords]:
    """The distinct behaviour pairs the candidates explain, with their titles."""
    seen: dict[str, PairInWords] = {}
    for c in candidates:
        k = pair_key(c.behaviour, c.source, c.target)
        if k not in seen:
            seen[k] = PairInWords(
                str(c.behaviour),
                c.source,
                c.source_title or c.source,
                c.target,
                c.target_title or c.target,
            )
    return list(seen.values())


def pairs_from_tables(
    catalogue: Path, search_buy: Path | None = None, co_buy: Path | None = None
) -> list[PairInWords]:
    """Behaviour pairs from ingest-style tables (CSV or Parquet): ``catalogue``
    (product_id, title), ``search_buy`` (query, product_id), ``co_buy`` (product_a, product_b)."""
    import pandas as pd

    def read(p: Path, cols: Sequence[str]) -> Any:
        df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p, dtype=str)
        for c in cols:
            if c not in df.columns:
                raise InputError("missing column", file=str(p), line=1, field=c)
        return df

    cat = read(catalogue, ("product_id", "title"))
    title = dict(zip(cat["product_id"].astype(str), cat["title"].astype(str), strict=True))
    out: list[PairInWords] = []
    if search_buy is not None:
        for q, pid in read(search_buy, ("query", "product_id"))[["query", "product_id"]].itertuples(
            index=False
        ):
            if str(pid) in title:
                out.append(PairInWords("search_buy", str(q), str(q), str(pid), title[str(pid)]))
    if co_buy is not None:
        for a, b in read(co_buy, ("product_a", "product_b"))[["product_a", "product_b"]].itertuples(
            index=False
        ):
            if str(a) in title and str(b) in title:
                out.append(PairInWords("co_buy", str(a), title[str(a)], str(b), title[str(b)]))
    return out


def _yes_no(v: bool) -> str:
    return "yes" if v else "no"


def build_instructions(
    candidates: Sequence[Candidate],
    labels: Mapping[str, Mapping[str, bool]],
    pairs: Sequence[PairInWords] = (),
    *,
    seed: int = 0,
    heldout: float = 0.2,
    negatives_per_positive: int = 1,
) -> list[InstructExample]:
    """Instruction examples of the five tasks from labelled candidates and behaviour pairs.

    ``pairs`` defaults to the pairs of ``candidates``; negatives for the two prediction
    tasks pair a source with a random target it was never seen with (seeded).
    """
    rng = random.Random(seed)
    out: list[InstructExample] = []

    def add(task: str, fields: Mapping[str, str], answer: str, pair: str, item: str | None) -> None:
        t = rng.randrange(len(TEMPLATES[task]))
        prompt = TEMPLATES[task][t].format(**fields)
        eid = hashlib.blake2b(f"{task}\x1f{prompt}\x1f{answer}".encode(), digest_size=8).hexdigest()
        out.append(
            InstructExample(eid, task, t, prompt, answer, split_of(pair, heldout, seed), pair, item)
        )

    for c in candidates:
        lab = labels.get(c.candidate_id)
        if not lab:
            continue
        pair = pair_key(c.behaviour, c.source, c.target)
        fields = {"context": _context(c), "tail": c.tail}
        if lab.get("plausibility") and lab.get("typicality"):
            add("generation", fields, c.tail, pair, c.candidate_id)
        for q in ("plausibility", "typicality"):
            if q in lab:
                add(q, fields, _yes_no(lab[q]), pair, c.candidate_id)

    pairs = list(pairs) or pairs_from_candidates(candidates)
    for behaviour, task in (("co_buy", "co_purchase"), ("search_buy", "search_rel")):
        group = [p for p in pairs if p.behaviour == behaviour]
        known = {(p.source_id, p.target_id) for p in group} | {
            (p.target_id, p.source_id) for p in group
        }
        targets = sorted({(p.target_id, p.target) for p in group})
        for p in group:
            key = pair_key(behaviour, p.source_id, p.target_id)
            add(task, {"source": p.source, "target": p.target}, "yes", key, None)
            for _ in range(negatives_per_positive):
                for _try in range(20):
                    tid, ttitle = targets[rng.randrange(len(targets))]
                    if (p.source_id, tid) not in known and tid != p.source_id:
                        add(task, {"source": p.source, "target": ttitle}, "no", key, None)
                        break
    return out


def write_examples(examples: Sequence[InstructExample], path: Path, **params: Any) -> Path:
    """Write examples as JSONL (atomically) with a manifest counting tasks and splits."""
    m = Manifest(stage="instruct-build", parameters=params)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")
            m.count(f"{e.split}.{e.task}")
    tmp.replace(path)
    m.count("examples", len(examples))
    m.write(path)
    return path


def read_examples(path: Path) -> list[InstructExample]:
    """Read examples written by :func:`write_examples`; names the line and field of a bad one."""
    out = []
    fields = set(InstructExample.__dataclass_fields__)
    for i, row in iter_jsonl(path):
        missing = [k for k in ("task", "prompt", "answer", "split") if k not in row]
        if missing:
            raise InputError("missing field", file=str(path), line=i, field=missing[0])
        if row["task"] not in TASKS:
            raise InputError(f"unknown task {row['task']!r}", file=str(path), line=i, field="task")
        row.setdefault("example_id", f"line{i}")
        row.setdefault("template", 0)
        row.setdefault("pair", "")
        out.append(InstructExample(**{k: v for k, v in row.items() if k in fields}))
    return out
