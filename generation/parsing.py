"""Turn a model's numbered-list answer into candidate tails.

The prompt ends in ``1.``, so the completion is the rest of a list: ``" keeping warm\\n2.
sleeping outdoors\\n3. ..."``. :func:`parse_numbered` cuts the completion where the model
starts a new block (``Question:``, ``Product:``, a blank line, ...), splits the items,
strips and normalises them and drops empty, duplicate and over-long ones, and those holding
a control character (:mod:`cosmo.core.text`; every reader downstream refuses them), counting why.
:func:`drop_copied` removes tails that repeat the prompt's own few-shot answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from cosmo.core.schema import normalise_text
from cosmo.core.text import find_control

__all__ = ["ParsedTails", "clean_tail", "drop_copied", "parse_numbered"]

MAX_TAIL_CHARS = 80
MAX_TAIL_WORDS = 12
COPY_SIMILARITY = 85.0
"""rapidfuzz ratio (0-100) at or above which a tail counts as a copy of an example answer."""

_BLOCK_START = re.compile(
    r"^\s*(task|search query|product( \d)?|question|answer|query)\s*:", re.IGNORECASE | re.MULTILINE
)
_ITEM = re.compile(r"(?:^|(?<=\s))(\d{1,2})[.)](?!\d)[ \t]*", re.MULTILINE)
_SPECIAL = re.compile(r"<[a-z_]+>|<\|")
_EDGE = re.compile(r"^[\s\"'`*•\-–—:;,.]+|[\s\"'`*•\-–—:;,.]+$")
_SPACE = re.compile(r"\s+")


@dataclass
class ParsedTails:
    """Tails from one completion, and how many items were dropped and why."""

    tails: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


_TRAILING_ASIDE = re.compile(r"\s*\([^()]*\)?\s*$")


def clean_tail(text: str) -> str:
    """Collapse white space, drop a trailing "(aside)", strip quotes, bullets, end punctuation."""
    t = _EDGE.sub("", _SPACE.sub(" ", text)).strip()
    stripped = _TRAILING_ASIDE.sub("", t).strip()
    return _EDGE.sub("", stripped).strip() if stripped else t


def parse_numbered(
    completion: str,
    *,
    max_chars: int = MAX_TAIL_CHARS,
    max_words: int = MAX_TAIL_WORDS,
    max_tails: int = 10,
    truncated: bool = False,
) -> ParsedTails:
    """Split a completion of ``"1."`` into cleaned tails (see the module docstring).

    ``truncated``: the completion hit the token limit, so its last item is cut off
    mid-phrase and is dropped (counted as ``truncated``) unless a new block followed it.
    """
    out = ParsedTails()
    text = "1. " + completion.lstrip()
    special = _SPECIAL.search(text)  # e.g. "<start_of_image>": the model left the list
    if special:
        text = text[: special.start()]
    # End of the list: a new prompt block or a blank line.
    cut = _BLOCK_START.search(text)
    if cut:
        text = text[: cut.start()]
    ended = bool(cut or special or "\n\n" in text)
    text = text.split("\n\n", 1)[0]
    pieces = _ITEM.split(text)
    # pieces = [before, num, item, num, item, ...]
    items = [pieces[i + 1] for i in range(1, len(pieces) - 1, 2)]
    if truncated and not ended and items and "\n" not in items[-1]:
        items.pop()
        out.drop("truncated")
    seen: set[str] = set()
    for raw in items:
        tail = clean_tail(raw.split("\n", 1)[0])
        if not tail or not normalise_text(tail):
            out.drop("empty")
            continue
        if find_control(tail) is not None:  # the text rule every stored value follows
            out.drop("control_character")
            continue
        if len(tail) > max_chars or len(tail.split()) > max_words:
            out.drop("too_long")
            continue
        key = normalise_text(tail)
        if key in seen:
            out.drop("duplicate")
            continue
        if len(out.tails) >= max_tails:
            out.drop("over_max_tails")
            continue
        seen.add(key)
        out.tails.append(tail)
    return out


def drop_copied(
    tails: Iterable[str], example_tails: Iterable[str], threshold: float = COPY_SIMILARITY
) -> tuple[list[str], list[str]]:
    """Split ``tails`` into (kept, copied): copied ones match a few-shot example answer."""
    examples = [normalise_text(e) for e in example_tails]
    kept: list[str] = []
    copied: list[str] = []
    for t in tails:
        n = normalise_text(t)
        if any(n == e or fuzz.ratio(n, e) >= threshold for e in examples):
            copied.append(t)
        else:
            kept.append(t)
    return kept, copied
