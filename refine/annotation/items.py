"""What people annotate: candidates, the five questions, and labels.

An annotation item is one :class:`cosmo.core.records.Candidate` (its ``candidate_id``
is the item id). Each annotator answers five yes/no questions about it.

Until generation produces real candidates, :func:`candidates_from_intentionqa` turns the
public IntentionQA co-buy file into candidates: the gold assertion of each pair (with its
FolkScope typicality as ``reference_score``) and its three distractor intentions (which
were written for other pairs, so they are mostly wrong for this one). HTML entities in
the Amazon titles (``&quot;``) are unescaped.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour

__all__ = [
    "QUESTIONS",
    "QUESTION_TEXT",
    "Label",
    "candidates_from_intentionqa",
]

QUESTIONS: tuple[str, ...] = (
    "completeness",
    "relevance",
    "informativeness",
    "plausibility",
    "typicality",
)
"""The five yes/no questions of the COSMO annotation guideline, in the order asked."""

QUESTION_TEXT: dict[str, str] = {
    "completeness": "Is the explanation a complete, well-formed phrase?",
    "relevance": "Is it about these products (not about something else)?",
    "informativeness": "Does it say more than the product title or type already says?",
    "plausibility": "Is it a plausible reason for this purchase behaviour?",
    "typicality": "Is it a typical reason (many customers would do this for it)?",
}


@dataclass(frozen=True)
class Label:
    """One annotator's answers for one item."""

    item_id: str
    annotator: str
    answers: Mapping[str, bool]
    note: str = ""
    created_at: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"item_id": self.item_id, "annotator": self.annotator}
        for q in QUESTIONS:
            row[q] = bool(self.answers[q])
        row["note"] = self.note
        row["created_at"] = self.created_at
        return row


# Phrases IntentionQA / FolkScope assertions start with, mapped to COSMO relations.
_RELATION_CUES: tuple[tuple[str, str], ...] = (
    ("are a type of", "IS_A"),
    ("are capable of", "CAPABLE_OF"),
    ("are used for", "USED_FOR_FUNC"),
    ("are used to", "USED_TO"),
    ("are used as", "USED_AS"),
    ("are used with", "USED_WITH"),
    ("are used by", "USED_BY"),
    ("are used in", "USED_IN_LOC"),
    ("are used on", "USED_ON"),
    ("could both be used", "USED_FOR_FUNC"),
    ("could both be worn", "USED_IN_BODY"),
    ("related to the topic", "xINTERESTED_IN"),
    ("a manner of", "IS_A"),
)


def relation_of(tail: str) -> str:
    """Best-guess COSMO relation of a FolkScope-style explanation (``xWANT`` otherwise)."""
    low = tail.lower()
    for cue, rel in _RELATION_CUES:
        if cue in low:
            return rel
    return "xWANT"


def _tail_of(assertion: str) -> str:
    """The explanation part of an assertion: everything from ``because``."""
    i = assertion.find("because")
    return html.unescape(assertion[i:] if i >= 0 else assertion).strip()


def _candidate_id(source: str, target: str, relation: str, tail: str) -> str:
    key = f"co_buy\x1f{source}\x1f{target}\x1f{relation}\x1f{tail}\x1ffolkscope\x1fintentionqa"
    return "cand_" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def candidates_from_intentionqa(
    path: Path, *, limit: int | None = None, distractors: bool = True
) -> list[Candidate]:
    """Candidates from IntentionQA ``task1.jsonl`` (gold assertions and distractors).

    Raises :class:`InputError` (file, line, field) on a line that is not valid JSON or
    lacks a field.
    """
    out: dict[str, Candidate] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if limit is not None and lineno > limit:
                break
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"not valid JSON ({e.msg})", file=str(path), line=lineno) from e
            try:
                a, b = str(row["item_a_id"]), str(row["item_b_id"])
                tails: list[tuple[str, float | None]] = [
                    (_tail_of(row["assertion"]), float(row["typicality"]))
                ]
                if distractors:
                    gold = row.get("gold_ind")
                    tails += [(_tail_of(t), None) for k, t in row["options"].items() if k != gold]
                titles = (html.unescape(row["item_a_name"]), html.unescape(row["item_b_name"]))
            except KeyError as e:
                raise InputError(
                    "missing field", file=str(path), line=lineno, field=str(e.args[0])
                ) from e
            for tail, score in tails:
                rel = relation_of(tail)
                cid = _candidate_id(a, b, rel, tail)
                old = out.get(cid)
                # a tail that is gold for a pair once stays gold even if it was a distractor
                if old is not None and (score is None or old.reference_score is not None):
                    continue
                out[cid] = Candidate(
                    candidate_id=cid,
                    behaviour=Behaviour.CO_BUY,
                    source=a,
                    target=b,
                    source_title=titles[0],
                    target_title=titles[1],
                    relation=rel,
                    tail=tail,
                    raw_output=tail,
                    prompt_version="intentionqa-task1",
                    model="folkscope",
                    params="{}",
                    origin="intentionqa" if score is not None else "intentionqa-distractor",
                    pipeline_run="intentionqa",
                    reference_score=score,
                )
    return list(out.values())
