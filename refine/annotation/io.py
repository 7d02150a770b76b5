"""Export and import labels as JSONL or CSV.

**Export** writes one row per (item, annotator) with the five answers, the note, the time
and, for people reading the file, the item's context (behaviour, source, target, relation,
tail). JSONL answers are ``true``/``false``; CSV answers are ``yes``/``no``.

**Import is all-or-nothing per file.** The whole file is read and checked first; if any
row is bad, nothing from that file is stored and :class:`AnnotationImportError` lists every
problem (file, line, field): an unknown item id, a missing or unreadable answer, two rows
for the same (item, annotator) with different answers (conflict), a repeated row
(duplicate), a row that contradicts a label already stored (conflict) and a truncated file
(a last line cut off). Rows identical to labels already stored are skipped, so importing
the same file twice is harmless. The good file is then written in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest
from cosmo.core.tables import read_table
from cosmo.refine.annotation.items import QUESTIONS, Label
from cosmo.refine.annotation.store import AnnotationStore

__all__ = [
    "AnnotationImportError",
    "ImportReport",
    "export_labels",
    "import_labels",
    "labels_to_text",
    "parse_answer",
]

Format = Literal["jsonl", "csv"]
_CONTEXT = ("behaviour", "source", "target", "relation", "tail")
_COLUMNS = ("item_id", "annotator", *QUESTIONS, "note", "created_at", *_CONTEXT)
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}
_MAX_LISTED = 20


class AnnotationImportError(InputError):
    """An import was refused; ``problems`` holds every :class:`InputError` found."""

    def __init__(self, problems: Sequence[InputError], file: str) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        super().__init__(
            f"{first.reason}{tail}; nothing from this file was imported",
            file=file,
            line=first.line,
            field=first.field,
        )

    def describe(self) -> str:
        """Every problem, one per line."""
        return "\n".join(str(p) for p in self.problems[:_MAX_LISTED]) + (
            f"\n... {len(self.problems) - _MAX_LISTED} more"
            if len(self.problems) > _MAX_LISTED
            else ""
        )


@dataclass(frozen=True)
class ImportReport:
    file: str
    rows: int
    inserted: int
    unchanged: int


def _format_of(path: Path, fmt: str | None) -> Format:
    f = (fmt or path.suffix.lstrip(".")).lower()
    if f in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if f == "csv":
        return "csv"
    raise InputError("unknown format; use a .jsonl or .csv file (or --format)", file=str(path))


def parse_answer(value: Any, *, file: str, line: int, field: str) -> bool:
    """A yes/no answer from ``true``/``false``, ``yes``/``no``, ``y``/``n`` or ``1``/``0``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    if value is None or value == "":
        raise InputError("missing answer (expected yes or no)", file=file, line=line, field=field)
    raise InputError(f"answer {value!r} is not yes or no", file=file, line=line, field=field)


# -- export -------------------------------------------------------------------------------
def _rows(store: AnnotationStore, annotator: str | None) -> Iterator[dict[str, Any]]:
    items = {it["item_id"]: it for it in store.items()}
    for lab in store.labels(annotator):
        row = lab.as_row()
        it = items.get(lab.item_id, {})
        row.update({k: it.get(k) for k in _CONTEXT})
        yield row


def labels_to_text(store: AnnotationStore, fmt: Format, annotator: str | None = None) -> str:
    """All labels (or one annotator's) as JSONL or CSV text."""
    buf = io.StringIO()
    if fmt == "jsonl":
        for row in _rows(store, annotator):
            buf.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        w = csv.DictWriter(buf, fieldnames=list(_COLUMNS), lineterminator="\n")
        w.writeheader()
        for row in _rows(store, annotator):
            w.writerow({k: ("yes" if v else "no") if k in QUESTIONS else v for k, v in row.items()})
    return buf.getvalue()


def export_labels(
    store: AnnotationStore, path: Path, *, fmt: str | None = None, annotator: str | None = None
) -> Path:
    """Write labels to ``path`` (atomically) with a manifest; format from the suffix."""
    f = _format_of(path, fmt)
    m = Manifest(stage="annotation-export", parameters={"format": f, "annotator": annotator})
    text = labels_to_text(store, f, annotator)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    m.count("labels", max(text.count("\n") - (1 if f == "csv" else 0), 0))
    m.write(path)
    return path


# -- import -------------------------------------------------------------------------------
def _read_rows(
    path: Path, fmt: str, problems: list[InputError]
) -> list[tuple[int, Mapping[str, Any]]]:
    """The rows of a label file; unreadable lines (a truncated last line too) become problems."""
    table = read_table(path, fmt, lenient=True)
    problems.extend(table.rejects)
    missing = [c for c in ("item_id", "annotator", *QUESTIONS) if c not in table.columns]
    if fmt == "csv" and missing:
        problems.append(
            InputError("header lacks a required column", file=str(path), line=1, field=missing[0])
        )
        return []
    return list(table.records())


def _answers(
    row: Mapping[str, Any], known: set[str], file: str, line: int
) -> tuple[str, str, dict[str, bool]]:
    """Item, annotator and the five answers of a row; :class:`InputError` for a bad one."""
    item_id = str(row.get("item_id") or "").strip()
    annotator = str(row.get("annotator") or "").strip()
    if not item_id:
        raise InputError("missing item id", file=file, line=line, field="item_id")
    if item_id not in known:
        raise InputError(f"unknown item id {item_id!r}", file=file, line=line, field="item_id")
    if not annotator:
        raise InputError("missing annotator id", file=file, line=line, field="annotator")
    answers = {q: parse_answer(row.get(q), file=file, line=line, field=q) for q in QUESTIONS}
    return item_id, annotator, answers


def _yes(v: bool) -> str:
    return "yes" if v else "no"


class _Import:
    """The rows of one file checked against each other and against the stored labels."""

    def __init__(self, store: AnnotationStore, file: str, problems: list[InputError]) -> None:
        self.file = file
        self.problems = problems
        self.known = store.item_ids()
        self.stored = {(lab.item_id, lab.annotator): lab for lab in store.labels()}
        self.seen: dict[tuple[str, str], tuple[int, dict[str, bool]]] = {}
        self.new: list[Label] = []
        self.unchanged = 0

    def add(self, line: int, row: Mapping[str, Any]) -> None:
        try:
            item_id, annotator, answers = _answers(row, self.known, self.file, line)
        except InputError as e:
            self.problems.append(e)
            return
        key = (item_id, annotator)
        if key in self.seen:
            self.problems.append(self._again(key, line, answers))
            return
        self.seen[key] = (line, answers)
        old = self.stored.get(key)
        if old is not None:
            if dict(old.answers) == answers:
                self.unchanged += 1
                return
            q = next(q for q in QUESTIONS if old.answers[q] != answers[q])
            msg = (
                f"conflicts with the stored label of item {item_id!r} by {annotator!r} "
                f"(stored {_yes(old.answers[q])}); adjudicate instead of re-importing"
            )
            self.problems.append(InputError(msg, file=self.file, line=line, field=q))
            return
        note, created = row.get("note"), row.get("created_at")
        self.new.append(
            Label(
                item_id=item_id,
                annotator=annotator,
                answers=answers,
                note=str(note) if note else "",
                created_at=str(created) if created else "",
            )
        )

    def _again(self, key: tuple[str, str], line: int, answers: dict[str, bool]) -> InputError:
        """A second row for the same (item, annotator): a duplicate or a conflict."""
        first, prev = self.seen[key]
        if prev == answers:
            return InputError(f"duplicate row (same as line {first})", file=self.file, line=line)
        q = next(q for q in QUESTIONS if prev[q] != answers[q])
        msg = (
            f"conflicting labels for item {key[0]!r} by {key[1]!r}: line {first} "
            f"says {_yes(prev[q])}, this line says {_yes(answers[q])}"
        )
        return InputError(msg, file=self.file, line=line, field=q)


def import_labels(store: AnnotationStore, path: Path, *, fmt: str | None = None) -> ImportReport:
    """Check every row of ``path`` and store its new labels in one transaction.

    Raises :class:`AnnotationImportError` (an :class:`InputError`) naming the file, line and
    field of each problem; then nothing from the file is stored.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    f = _format_of(path, fmt)
    file = str(path)
    problems: list[InputError] = []
    rows = _read_rows(path, f, problems)
    checked = _Import(store, file, problems)
    for line, row in rows:
        checked.add(line, row)
    new, unchanged = checked.new, checked.unchanged
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise AnnotationImportError(problems, file)
    try:
        store.insert_labels(new)
    except InputError as e:
        raise InputError(f"{e.reason}; nothing from this file was imported", file=file) from e
    return ImportReport(file=file, rows=len(rows), inserted=len(new), unchanged=unchanged)
