"""Map FolkScope / IntentionQA assertions to COSMO relations and tails.

FolkScope (Yu et al., 2023) explains co-purchases with assertions such as
"PersonX bought a product of Item A and a product of Item B because they both are
capable of keeping him warm." Each assertion is matched, in order, against the rules in
:data:`RULES`: a regular expression over the text after "Item B", the relation it maps to
(or a function choosing one from the tail) and the captured tail. The first matching rule
wins; assertions no rule covers (opinions such as "because he thought they were the same
product", or FolkScope's property relation, which COSMO lacks) map to none and are counted.

:func:`map_assertion` returns ``(relation, tail)`` or ``None``; :func:`import_intentionqa`
turns a whole IntentionQA file into :class:`~cosmo.core.records.Candidate` rows with
``origin="folkscope"`` and ``reference_score`` = the assertion's typicality.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.core.schema import RELATIONS, Behaviour, normalise_text
from cosmo.core.tables import read_table, resolve_columns
from cosmo.generation.runner import candidate_id

__all__ = ["RULES", "FolkScopeImport", "import_intentionqa", "map_assertion"]

_PREFIX = re.compile(
    r"^\s*personx bought (a product of )?item a and (a product of )?item b\s*", re.I
)
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
"""Ordered mapping rules. A rule's ``choose`` is a function of the tail, or a map from the
captured preposition to a relation (the empty string means "decide from the tail")."""


def _clean(tail: str) -> str:
    t = tail.strip().rstrip(".!").strip()
    t = re.sub(r"\s+", " ", t)
    if len(t) >= 2 and t[0] in "\"'" and t[-1] in "\"'":
        t = t[1:-1].strip()
    return t.strip("\"' ")


def map_assertion(assertion: str) -> tuple[str, str, str] | None:
    """``(relation, tail, rule name)`` for an assertion, or ``None`` when no rule maps it."""
    text = _PREFIX.sub("", assertion.strip())
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


@dataclass
class FolkScopeImport:
    """Imported candidates and the mapping table."""

    candidates: list[Candidate] = field(default_factory=list)
    by_relation: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[str] = field(default_factory=Counter)
    unmapped: int = 0
    unmapped_examples: list[str] = field(default_factory=list)
    duplicates: int = 0
    rejects: list[InputError] = field(default_factory=list)

    def table(self) -> list[tuple[str, int]]:
        """(relation, assertions) for all 15 relations plus ``(none)``; sums to the mapped rows."""
        return [(r, self.by_relation.get(r, 0)) for r in RELATIONS] + [("(none)", self.unmapped)]


def import_intentionqa(path: Path | str, pipeline_run: str = "folkscope-import") -> FolkScopeImport:
    """Read an IntentionQA/FolkScope JSONL and map every assertion (see the module docstring)."""
    table = read_table(path, "jsonl", lenient=True)
    resolve_columns(
        table, ["item_a_id", "item_b_id", "assertion"], ["item_a_name", "item_b_name", "typicality"]
    )
    out = FolkScopeImport(rejects=list(table.rejects))
    seen: set[str] = set()
    for row in table.rows:
        v = row.values
        a, b, text = v.get("item_a_id"), v.get("item_b_id"), v.get("assertion")
        if not a or not b or a == b:
            out.rejects.append(
                InputError(
                    "needs two different product ids",
                    file=str(path),
                    line=row.line,
                    field="item_b_id",
                )
            )
            continue
        if not text or not text.strip():
            out.rejects.append(
                InputError("assertion is empty", file=str(path), line=row.line, field="assertion")
            )
            continue
        try:
            typ = float(v["typicality"]) if v.get("typicality") is not None else None
        except ValueError:
            out.rejects.append(
                InputError(
                    "typicality is not a number", file=str(path), line=row.line, field="typicality"
                )
            )
            continue
        mapped = map_assertion(text)
        if mapped is None:
            out.unmapped += 1
            if len(out.unmapped_examples) < 15:
                out.unmapped_examples.append(_PREFIX.sub("", text.strip()))
            continue
        rel, tail, rule = mapped
        out.by_relation[rel] += 1
        out.by_rule[rule] += 1
        cid = candidate_id(Behaviour.CO_BUY.value, a, b, rel, tail, "folkscope", "folkscope")
        if cid in seen:
            out.duplicates += 1
            continue
        seen.add(cid)
        out.candidates.append(
            Candidate(
                candidate_id=cid,
                behaviour=Behaviour.CO_BUY,
                source=a,
                target=b,
                source_title=html.unescape(v.get("item_a_name") or "") or None,
                target_title=html.unescape(v.get("item_b_name") or "") or None,
                relation=rel,
                tail=tail,
                raw_output=text,
                prompt_version="folkscope",
                model="folkscope",
                params="{}",
                origin="folkscope",
                pipeline_run=pipeline_run,
                reference_score=typ,
            )
        )
    return out
