"""Session data: loading, prefix expansion and validation splits.

Formats (the standard preprocessed Diginetica split used by SR-GNN and GCE-GNN):

- sessions file: one session per line, positive integer item ids separated by spaces, in click
  order. Every prefix of a session predicts the next item (SR-GNN's augmentation).
- cases file: ``prefix<TAB>target`` per line; ``prefix`` is space-separated item ids.

Item ids are 1-based; id 0 is reserved for padding. Malformed lines raise
:class:`cosmo.core.errors.InputError` naming the file, line and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosmo.core.errors import InputError

__all__ = [
    "SessionCases",
    "expand_prefixes",
    "load_cases",
    "load_sessions",
    "split_validation",
]


@dataclass(frozen=True)
class SessionCases:
    """Prefix → next-item cases.

    ``prefixes[i]`` is a list of item ids (length ≥ 1) and ``targets[i]`` the item that followed.
    """

    prefixes: list[list[int]]
    targets: np.ndarray

    def __post_init__(self) -> None:
        if len(self.prefixes) != len(self.targets):
            raise ValueError("prefixes and targets differ in length")

    def __len__(self) -> int:
        return len(self.prefixes)

    def subset(self, index: Sequence[int] | np.ndarray) -> SessionCases:
        """The cases at ``index`` (a new object; this one is not changed)."""
        idx = np.asarray(index, dtype=np.int64)
        return SessionCases([self.prefixes[i] for i in idx], self.targets[idx])

    @property
    def max_item(self) -> int:
        """The largest item id in prefixes or targets (0 when empty)."""
        if not self.prefixes:
            return 0
        return max(int(self.targets.max()), max(max(p) for p in self.prefixes))


def _parse_ids(text: str, file: str, line: int, field: str) -> list[int]:
    parts = text.split()
    if not parts:
        raise InputError("empty list of item ids", file=file, line=line, field=field)
    try:
        ids = [int(p) for p in parts]
    except ValueError as e:
        raise InputError(
            f"item ids must be integers, got {text.strip()[:60]!r}",
            file=file,
            line=line,
            field=field,
        ) from e
    if min(ids) < 1:
        raise InputError(
            "item ids must be ≥ 1 (0 is reserved for padding)", file=file, line=line, field=field
        )
    return ids


def load_sessions(path: str | Path, *, limit: int | None = None) -> list[list[int]]:
    """Read a sessions file (one session of space-separated item ids per line).

    Blank lines are an error (they would silently shift line numbers of later problems).
    ``limit`` reads only the first ``limit`` sessions.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("sessions file not found", file=str(p))
    sessions: list[list[int]] = []
    with p.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if limit is not None and len(sessions) >= limit:
                break
            sessions.append(_parse_ids(raw, str(p), n, "items"))
    return sessions


def load_cases(path: str | Path, *, limit: int | None = None) -> SessionCases:
    """Read a ``prefix<TAB>target`` cases file."""
    p = Path(path)
    if not p.is_file():
        raise InputError("cases file not found", file=str(p))
    prefixes: list[list[int]] = []
    targets: list[int] = []
    with p.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if limit is not None and len(prefixes) >= limit:
                break
            cols = raw.rstrip("\r\n").split("\t")
            if len(cols) != 2:
                raise InputError(
                    f"expected 2 tab-separated columns (prefix, target), got {len(cols)}",
                    file=str(p),
                    line=n,
                )
            prefixes.append(_parse_ids(cols[0], str(p), n, "prefix"))
            target = _parse_ids(cols[1], str(p), n, "target")
            if len(target) != 1:
                raise InputError(
                    "expected exactly one target item", file=str(p), line=n, field="target"
                )
            targets.append(target[0])
    return SessionCases(prefixes, np.asarray(targets, dtype=np.int64))


def expand_prefixes(sessions: Iterable[Sequence[int]]) -> SessionCases:
    """Every prefix of every session → the next item (sessions of length 1 give no case)."""
    prefixes: list[list[int]] = []
    targets: list[int] = []
    for s in sessions:
        for t in range(1, len(s)):
            prefixes.append(list(s[:t]))
            targets.append(int(s[t]))
    return SessionCases(prefixes, np.asarray(targets, dtype=np.int64))


def split_validation(
    sessions: Sequence[Sequence[int]], fraction: float = 0.1
) -> tuple[list[list[int]], SessionCases]:
    """Hold out the last ``fraction`` of the (chronologically ordered) training sessions.

    Returns the remaining training sessions and the held-out prefix cases, so that models and
    fusion weights are tuned without ever looking at the test targets.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError("fraction must be in (0, 1)")
    cut = round(len(sessions) * (1.0 - fraction))
    train = [list(s) for s in sessions[:cut]]
    return train, expand_prefixes(sessions[cut:])
