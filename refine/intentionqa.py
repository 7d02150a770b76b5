"""IntentionQA (FolkScope co-buy intentions) as refinement input and as labels.

Each IntentionQA task-1 row is a real Amazon co-buy pair with one gold intention (an
``assertion`` with FolkScope's typicality score) and three distractor intentions taken
from other pairs. This module turns them into :class:`Candidate` rows:

* the gold assertion → a candidate of its pair, ``reference_score`` = typicality;
* each distractor → a candidate of the *same* pair that does not explain it
  (``reference_score`` = 0.0, ``origin`` = ``intentionqa-distractor``).

The sentence "because they both are capable of X" is mapped to a COSMO relation and the
tail "X" by :func:`parse_assertion`; the mapping of FolkScope's phrasing onto COSMO's 15
relations is approximate (e.g. "a manner of" and "have a property of" become ``IS_A``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.core.schema import Behaviour

__all__ = ["intentionqa_candidates", "parse_assertion", "read_intentionqa"]

_PREFIX = re.compile(r"^PersonX bought a product of Item A and a product of Item B\s*", re.I)
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), rel)
    for p, rel in (
        (r"^because they both are a type of (.+)$", "IS_A"),
        (r"^because they both are a manner of (.+)$", "IS_A"),
        (r"^because they both are defined as (.+)$", "IS_A"),
        (r"^because they both have a property of (.+)$", "IS_A"),
        (r"^because they both are capable of (.+)$", "CAPABLE_OF"),
        (r"^because they both are related to (?:the topic of )?(.+)$", "xINTERESTED_IN"),
        (r"^because they (?:are both|could both be) used for (.+)$", "USED_FOR_FUNC"),
        (r"^because they could both be used to (.+)$", "USED_TO"),
        (r"^because they could both be (?:used|worn) as (.+)$", "USED_AS"),
        (r"^because they could both be (?:used|worn) with (.+)$", "USED_WITH"),
        (r"^because they could both be (?:used|worn) by (.+)$", "USED_BY"),
        (r"^because they could both be (?:found|used) (?:in|at|on) (.+)$", "USED_IN_LOC"),
        (r"^because the person wants (?:to )?(.+)$", "xWANT"),
        (r"^because (?:he|she|he/she|i) wanted (?:to )?(.+)$", "xWANT"),
        (r"^as a result, the person (?:will be |will )?(.+)$", "xWANT"),
    )
)


def parse_assertion(text: str) -> tuple[str, str]:
    """``(relation, tail)`` of an IntentionQA assertion or option.

    >>> parse_assertion("because they both are capable of keeping food warm.")
    ('CAPABLE_OF', 'keeping food warm')
    """
    body = _PREFIX.sub("", text.strip()).strip()
    for pattern, relation in _RULES:
        m = pattern.match(body)
        if m:
            return relation, _tidy(m.group(1))
    tail = re.sub(r"^(?:because|as a result,?)\s+", "", body, flags=re.I)
    return "xWANT", _tidy(tail)


def _tidy(tail: str) -> str:
    tail = tail.strip().rstrip(".").strip()
    if len(tail) >= 2 and tail[0] == tail[-1] == '"':
        tail = tail[1:-1]
    tail = tail.replace('"', "")
    return tail[:200].strip() or "unknown"


def read_intentionqa(path: Path) -> list[dict[str, Any]]:
    """Rows of an IntentionQA ``task1.jsonl`` file (clear errors for bad lines)."""
    path = Path(path)
    if not path.exists():
        raise InputError("IntentionQA file not found", file=str(path))
    rows: list[dict[str, Any]] = []
    need = ("id", "item_a_id", "item_b_id", "item_a_name", "item_b_name", "assertion")
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"not valid JSON ({e.msg})", file=str(path), line=i) from e
            for key in need:
                if key not in obj:
                    raise InputError("missing field", file=str(path), line=i, field=key)
            rows.append(obj)
    return rows


def _cid(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=10).hexdigest()


def intentionqa_candidates(
    path: Path,
    *,
    limit_pairs: int | None = None,
    distractors: bool = True,
    pipeline_run: str = "intentionqa",
) -> list[Candidate]:
    """Candidates from IntentionQA task 1: gold intentions and (optionally) distractors.

    ``limit_pairs`` keeps the first N distinct co-buy pairs (file order), for small demos.
    """
    out: list[Candidate] = []
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for row in read_intentionqa(path):
        pair = (str(row["item_a_id"]), str(row["item_b_id"]))
        if pair[0] == pair[1]:
            continue
        if pair not in pairs:
            if limit_pairs is not None and len(pairs) >= limit_pairs:
                continue
            pairs.append(pair)
        texts = [(row["assertion"], "intentionqa", float(row.get("typicality") or 0.0))]
        if distractors:
            texts += [
                (str(d), "intentionqa-distractor", 0.0)
                for d in row.get("distractors_asserstion") or row.get("distractors_assertion") or []
            ]
        for text, origin, score in texts:
            relation, tail = parse_assertion(text)
            cid = _cid(pair[0], pair[1], relation, tail.lower(), origin)
            if cid in seen:
                continue
            seen.add(cid)
            out.append(
                Candidate(
                    candidate_id=cid,
                    behaviour=Behaviour.CO_BUY,
                    source=pair[0],
                    target=pair[1],
                    source_title=row["item_a_name"],
                    target_title=row["item_b_name"],
                    relation=relation,
                    tail=tail,
                    raw_output=text,
                    prompt_version="intentionqa-task1",
                    model="folkscope",
                    params="{}",
                    origin=origin,
                    pipeline_run=pipeline_run,
                    reference_score=score,
                )
            )
    return out
