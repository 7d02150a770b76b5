"""IntentionQA (Ding et al., 2024): the one home of its files, its assertions and its questions.

IntentionQA is built on FolkScope (Yu et al., 2023): real Amazon co-buy pairs, each with
an *assertion* that explains the purchase, such as "PersonX bought a product of Item A and
a product of Item B because they both are capable of keeping him warm.", FolkScope's
typicality score, and distractor assertions written for other pairs.

* **Files.** :func:`read_rows` reads ``task1.jsonl`` / ``task2.jsonl`` (through
  :func:`cosmo.core.jsonl.iter_jsonl`), checking the fields a caller needs and naming the
  file, line and field of a bad row. Every stage reads IntentionQA through it: ingest
  (catalogue and co-buy pairs), generation (FolkScope import), refine (labelled candidates),
  gnn (co-buy sessions), evaluation (the questions) and the tests.
* **Assertions → COSMO relations.** :data:`RULES` and :func:`map_assertion` map an
  assertion to ``(relation, tail)``, or to nothing (opinions, FolkScope's property
  relation, which COSMO lacks, useless tails); :func:`parse_assertion` always answers,
  falling back to ``xWANT`` and the words after "because".
* **Texts.** :func:`assertion_text` is the assertion without its "PersonX bought ..."
  prefix ("because they both are X."); :func:`intention_phrase` is the part after
  "because they both" ("are X").
* **Questions.** :class:`Question` and :func:`load_questions`: task 1 (given A and B, pick
  the intention) and task 2 (given A and the intention, pick B).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.jsonl import iter_jsonl
from cosmo.core.schema import normalise_text

__all__ = [
    "PAIR_FIELDS",
    "QUESTION_FIELDS",
    "RULES",
    "Question",
    "assertion_text",
    "assertions_of",
    "intention_phrase",
    "load_questions",
    "map_assertion",
    "parse_assertion",
    "read_rows",
]

PAIR_FIELDS: tuple[str, ...] = ("item_a_id", "item_b_id", "item_a_name", "item_b_name")
"""What every IntentionQA row has: the co-buy pair and its titles."""
QUESTION_FIELDS: tuple[str, ...] = ("id", *PAIR_FIELDS, "assertion", "options", "gold_ind")


def read_rows(
    path: Path | str,
    need: Sequence[str] = (*PAIR_FIELDS, "assertion"),
    *,
    problems: list[InputError] | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line, row)`` for each row of an IntentionQA file that has every field in ``need``.

    Raises :class:`InputError` (file, line, field) on a line that is not a JSON object or
    lacks a field; with ``problems``, such lines are collected there and skipped instead.
    """
    for line, row in iter_jsonl(path, problems=problems):
        missing = [f for f in need if f not in row]
        if missing:
            err = InputError("missing field", file=str(path), line=line, field=missing[0])
            if problems is None:
                raise err
            problems.append(err)
            continue
        yield line, row


def assertions_of(row: dict[str, Any]) -> list[tuple[str, bool]]:
    """The row's assertions, ``(text, is_gold)``: the gold one first, then its distractors.

    Distractors come from ``distractors_asserstion`` (the data set's spelling), or else from
    the options that are not the gold one.
    """
    out = [(str(row["assertion"]), True)]
    distractors = row.get("distractors_asserstion") or row.get("distractors_assertion")
    if distractors is None and isinstance(row.get("options"), dict):
        gold = row.get("gold_ind")
        distractors = [t for k, t in row["options"].items() if k != gold]
    return out + [(str(t), False) for t in distractors or []]


# -- assertions → COSMO relations ---------------------------------------------------------
_PREFIX = re.compile(
    r"^\s*personx bought (a product of )?item a and (a product of )?item b\s*", re.I
)
_BECAUSE = re.compile(r"\bbecause\s+(?:they\s+both\s+|both\s+|it\s+)?", re.IGNORECASE)
_EVENTS = re.compile(
    r"\b(halloween|christmas|xmas|wedding|party|parties|birthday|cosplay|holiday|valentine|"
    r"graduation|anniversary|thanksgiving|easter|prom|festival|concert|new year|baby shower|"
    r"marathon|race|game day|ceremony|celebration)s?\b",
    re.I,
)
_PEOPLE = re.compile(
    r"^(his |her |their |the )?(own )?(wife|husband|kids?|children|child|men|women|man|woman|"
    r"boys?|girls?|bab(y|ies)|toddlers?|teens?|teenagers?|adults?|seniors?|elderly|people|"
    r"sons?|daughters?|girlfriend|boyfriend|family|friends?|mother|father|mom|dad|parents?|"
    r"students?|beginners?|professionals?)\b",
    re.I,
)
_USELESS_TAIL = re.compile(
    r"^(the )?(amazon(\.com)?|same (products?|things?|category|brand)|products?|items?)$", re.I
)

Chooser = Callable[[str], str]


def _purpose(tail: str) -> str:
    """'used for X': an event, an audience or a function."""
    if _EVENTS.search(tail):
        return "USED_FOR_EVE"
    if _PEOPLE.match(tail):
        return "USED_FOR_AUD"
    return "USED_FOR_FUNC"


def _fixed(relation: str) -> Chooser:
    return lambda _tail: relation


_USE_PREP: dict[str, str] = {
    "to": "USED_TO",
    "as": "USED_AS",
    "in": "USED_IN_LOC",
    "at": "USED_IN_LOC",
    "by": "USED_BY",
    "with": "USED_WITH",
    "on": "USED_ON",
}
_WEAR_PREP: dict[str, str] = {
    "by": "USED_BY",
    "on": "USED_IN_BODY",
    "around": "USED_IN_BODY",
    "with": "USED_WITH",
    "as": "USED_AS",
    "in": "USED_IN_LOC",
    "at": "USED_IN_LOC",
    "to": "USED_FOR_EVE",
    "for": "USED_FOR_EVE",
}


@dataclass(frozen=True)
class Rule:
    """One assertion pattern: ``pattern`` captures ``prep`` (optional) and ``tail``."""

    name: str
    pattern: re.Pattern[str]
    choose: Chooser | dict[str, str]


def _r(name: str, pattern: str, choose: Chooser | dict[str, str]) -> Rule:
    return Rule(name, re.compile(pattern, re.I), choose)


_BOTH = r"because (?:they|both) (?:both |are both |could both |can both |)"
RULES: tuple[Rule, ...] = (
    _r(
        "capable of being used <prep>",
        _BOTH + r"(?:are )?capable of being used (?P<prep>for|to|as|in|at|by|with|on) (?P<tail>.+)",
        {"for": "", **_USE_PREP},
    ),
    _r(
        "capable of being worn <prep>",
        _BOTH
        + r"(?:are )?capable of being worn (?P<prep>by|on|around|with|as|in|at|to|for) (?P<tail>.+)",
        _WEAR_PREP,
    ),
    _r("capable of", _BOTH + r"(?:are )?capable of (?P<tail>.+)", _fixed("CAPABLE_OF")),
    _r("a type of", _BOTH + r"(?:are )?(?:a )?type of (?P<tail>.+)", _fixed("IS_A")),
    _r("a manner of", _BOTH + r"(?:are )?a manner of (?P<tail>.+)", _fixed("IS_A")),
    _r("defined as", _BOTH + r"(?:are )?defined as (?P<tail>.+)", _fixed("IS_A")),
    _r(
        "related to",
        _BOTH + r"(?:are )?related to (?:the (?:topic|category) of )?(?P<tail>.+)",
        _fixed("xINTERESTED_IN"),
    ),
    _r(
        "used <prep>",
        _BOTH + r"(?:are )?(?:be )?used (?P<prep>for|to|as|in|at|by|with|on) (?P<tail>.+)",
        {"for": "", **_USE_PREP},
    ),
    _r(
        "worn <prep>",
        _BOTH + r"(?:be )?worn (?P<prep>by|on|around|with|as|in|at|to|for) (?P<tail>.+)",
        _WEAR_PREP,
    ),
    _r(
        "found <prep>",
        _BOTH + r"(?:be )?found (?:in|at|on|near) (?P<tail>.+)",
        _fixed("USED_IN_LOC"),
    ),
    _r("help", _BOTH + r"(?:be )?(?:help|helpful for) (?P<tail>.+)", _fixed("CAPABLE_OF")),
    _r(
        "able to",
        r"as a result,? the person (?:will|would|can) be able to (?P<tail>.+)",
        _fixed("USED_TO"),
    ),
    _r(
        "as a result",
        r"as a result,? the person (?:will|would|wants to|want to) (?P<tail>.+)",
        _fixed("xWANT"),
    ),
    _r(
        "person wants", r"because the person (?:wants|wanted) (?:to )?(?P<tail>.+)", _fixed("xWANT")
    ),
    _r(
        "he wanted to",
        r"because (?:he|she|he/she|i|they) (?:wanted|wants|want) to (?P<tail>.+)",
        _fixed("xWANT"),
    ),
)
"""Ordered mapping rules: the first that matches the text after "Item B" wins. A rule's
``choose`` is a function of the tail, or a map from the captured preposition to a relation
(the empty string means "decide from the tail")."""


def _clean(tail: str) -> str:
    t = tail.strip().rstrip(".!").strip()
    t = re.sub(r"\s+", " ", t)
    if len(t) >= 2 and t[0] in "\"'" and t[-1] in "\"'":
        t = t[1:-1].strip()
    return t.strip("\"' ")


def assertion_text(assertion: str) -> str:
    """``"PersonX bought ... because they both are X."`` → ``"because they both are X."``."""
    return _PREFIX.sub("", assertion.strip())


def intention_phrase(assertion: str) -> str:
    """The intention part of an assertion: ``"... because they both are X."`` → ``"are X"``."""
    parts = _BECAUSE.split(assertion, maxsplit=1)
    return (parts[1] if len(parts) == 2 else assertion).strip().rstrip(".")


def map_assertion(assertion: str) -> tuple[str, str, str] | None:
    """``(relation, tail, rule name)`` for an assertion, or ``None`` when no rule maps it."""
    text = assertion_text(assertion)
    for rule in RULES:
        m = rule.pattern.match(text)
        if not m:
            continue
        tail = _clean(m.group("tail"))
        if not tail or _USELESS_TAIL.match(tail) or not normalise_text(tail):
            return None
        if isinstance(rule.choose, dict):
            prep = (m.groupdict().get("prep") or "").lower()
            rel = rule.choose.get(prep, "") or _purpose(tail)
        else:
            rel = rule.choose(tail)
        return rel, tail, rule.name
    return None


def parse_assertion(assertion: str) -> tuple[str, str]:
    """``(relation, tail)`` for any assertion: :func:`map_assertion`'s answer, or else
    ``xWANT`` and the words after "because" / "as a result".

    >>> parse_assertion("because they both are capable of keeping food warm.")
    ('CAPABLE_OF', 'keeping food warm')
    """
    mapped = map_assertion(assertion)
    if mapped is not None:
        return mapped[0], mapped[1]
    body = re.sub(r"^(?:because|as a result,?)\s+", "", assertion_text(assertion), flags=re.I)
    return "xWANT", (_clean(body)[:200].strip() or "unknown")


# -- questions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """One IntentionQA question (task 1 or 2). ``gold`` is for scoring and training only."""

    id: str
    task: int
    item_a_id: str
    item_b_id: str
    item_a_name: str
    item_b_name: str
    intention: str
    """Task 2: the given intention (input). Task 1: the gold assertion (never an input)."""
    options: tuple[str, ...]
    gold: int

    @property
    def pair(self) -> tuple[str, str]:
        return (self.item_a_id, self.item_b_id)


def load_questions(path: Path | str, *, limit: int | None = None) -> list[Question]:
    """Read ``task1.jsonl`` or ``task2.jsonl`` (the task number is taken from the file name).

    Raises:
        InputError: a line is not JSON, lacks a field, or its gold letter is not an option.
    """
    path = Path(path)
    task = 2 if "2" in path.stem else 1
    out: list[Question] = []
    for n, r in read_rows(path, QUESTION_FIELDS):
        letters = sorted(r["options"])
        if r["gold_ind"] not in letters:
            raise InputError(
                f"gold_ind {r['gold_ind']!r} is not an option",
                file=str(path),
                line=n,
                field="gold_ind",
            )
        out.append(
            Question(
                id=str(r["id"]),
                task=task,
                item_a_id=str(r["item_a_id"]),
                item_b_id=str(r["item_b_id"]),
                item_a_name=str(r["item_a_name"]),
                item_b_name=str(r["item_b_name"]),
                intention=assertion_text(str(r["assertion"])),
                options=tuple(str(r["options"][k]) for k in letters),
                gold=letters.index(r["gold_ind"]),
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out
