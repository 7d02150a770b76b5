"""A persistent, resumable annotation store in SQLite.

One file holds the items (candidates, in sampling order), every annotator's labels keyed
by ``(item_id, annotator)``, adjudication decisions and audit (second-look) answers.
Every write is one transaction, so a crash or a rejected import never loses or
half-writes anything. Each call opens its own connection, so the store can be shared by
the web server's threads and the command line at the same time (WAL mode).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cosmo.core.errors import InputError
from cosmo.core.records import Candidate
from cosmo.refine.annotation.items import QUESTIONS, Label

__all__ = ["AnnotationStore"]

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    payload TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS labels (
    item_id TEXT NOT NULL REFERENCES items(item_id),
    annotator TEXT NOT NULL,
    {", ".join(f"{q} INTEGER NOT NULL" for q in QUESTIONS)},
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (item_id, annotator)
);
CREATE TABLE IF NOT EXISTS audits (
    item_id TEXT NOT NULL REFERENCES items(item_id),
    annotator TEXT NOT NULL,
    {", ".join(f"{q} INTEGER" for q in QUESTIONS)},
    note TEXT NOT NULL DEFAULT '',
    requested_at TEXT NOT NULL,
    created_at TEXT,
    seq INTEGER,
    PRIMARY KEY (item_id, annotator)
);
CREATE TABLE IF NOT EXISTS adjudications (
    item_id TEXT NOT NULL REFERENCES items(item_id),
    question TEXT NOT NULL,
    label INTEGER NOT NULL,
    method TEXT NOT NULL,
    adjudicator TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (item_id, question)
);
"""

_ITEM_FIELDS = (
    "behaviour",
    "source",
    "target",
    "source_title",
    "target_title",
    "target_type",
    "relation",
    "tail",
    "reference_score",
    "origin",
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _next_seq(con: sqlite3.Connection) -> int:
    """The next answer number (labels and audits share one sequence, for undo)."""
    row = con.execute(
        "SELECT MAX(s) FROM (SELECT MAX(seq) s FROM labels UNION ALL SELECT MAX(seq) FROM audits)"
    ).fetchone()
    return int(row[0] or 0) + 1


def _check_annotator(annotator: str) -> str:
    a = annotator.strip()
    if not a or len(a) > 64 or any(ch.isspace() or ch in ",\"'<>" for ch in a):
        raise InputError(
            f"annotator id {annotator!r} must be 1-64 characters without spaces, commas or quotes",
            field="annotator",
        )
    return a


class AnnotationStore:
    """Items, labels, adjudications and audits in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    # -- plumbing -----------------------------------------------------------------------
    @contextmanager
    def _tx(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                self._ready = True
            con.execute("PRAGMA foreign_keys=ON")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    # -- items --------------------------------------------------------------------------
    def add_items(self, candidates: Iterable[Candidate]) -> int:
        """Append candidates as items (in the given order); known ids are left alone."""
        added = 0
        with self._tx(write=True) as con:
            pos = con.execute("SELECT COALESCE(MAX(position), -1) FROM items").fetchone()[0]
            now = _now()
            for c in candidates:
                cur = con.execute(
                    "INSERT OR IGNORE INTO items(item_id, position, payload, added_at) VALUES (?,?,?,?)",
                    (c.candidate_id, pos + 1, c.model_dump_json(), now),
                )
                if cur.rowcount:
                    pos += 1
                    added += 1
        return added

    @staticmethod
    def _item(row: sqlite3.Row) -> dict[str, Any]:
        payload = json.loads(row["payload"])
        item = {"item_id": row["item_id"], "position": row["position"]}
        item.update({k: payload.get(k) for k in _ITEM_FIELDS})
        return item

    def item(self, item_id: str) -> dict[str, Any] | None:
        with self._tx() as con:
            row = con.execute("SELECT * FROM items WHERE item_id=?", (item_id,)).fetchone()
        return self._item(row) if row else None

    def items(self) -> list[dict[str, Any]]:
        with self._tx() as con:
            rows = con.execute("SELECT * FROM items ORDER BY position").fetchall()
        return [self._item(r) for r in rows]

    def candidates(self) -> list[Candidate]:
        """The stored items as the candidates they came from."""
        with self._tx() as con:
            rows = con.execute("SELECT payload FROM items ORDER BY position").fetchall()
        return [Candidate.model_validate_json(r[0]) for r in rows]

    def item_ids(self) -> set[str]:
        with self._tx() as con:
            return {r[0] for r in con.execute("SELECT item_id FROM items")}

    def count_items(self) -> int:
        with self._tx() as con:
            return int(con.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    # -- the annotation loop ------------------------------------------------------------
    def next_item(self, annotator: str) -> dict[str, Any] | None:
        """What ``annotator`` should see next: a pending audit first, else the first item
        (in sampling order) they have not labelled. ``None`` when everything is done."""
        a = _check_annotator(annotator)
        with self._tx() as con:
            row = con.execute(
                "SELECT i.* FROM audits a JOIN items i USING(item_id) "
                "WHERE a.annotator=? AND a.created_at IS NULL ORDER BY i.position LIMIT 1",
                (a,),
            ).fetchone()
            if row is not None:
                return {**self._item(row), "audit": True}
            row = con.execute(
                "SELECT i.* FROM items i WHERE NOT EXISTS (SELECT 1 FROM labels l "
                "WHERE l.item_id=i.item_id AND l.annotator=?) ORDER BY i.position LIMIT 1",
                (a,),
            ).fetchone()
        return {**self._item(row), "audit": False} if row else None

    def progress(self, annotator: str) -> dict[str, int]:
        a = _check_annotator(annotator)
        with self._tx() as con:
            total = con.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            done = con.execute("SELECT COUNT(*) FROM labels WHERE annotator=?", (a,)).fetchone()[0]
            audits = con.execute(
                "SELECT COUNT(*), COUNT(created_at) FROM audits WHERE annotator=?", (a,)
            ).fetchone()
        return {
            "total": int(total),
            "done": int(done),
            "remaining": int(total - done),
            "audits_total": int(audits[0]),
            "audits_done": int(audits[1]),
        }

    def save_label(self, label: Label, *, audit: bool = False) -> None:
        """Record (or replace) ``label``; with ``audit=True`` answer a pending audit."""
        a = _check_annotator(label.annotator)
        missing = [q for q in QUESTIONS if q not in label.answers]
        if missing:
            raise InputError("every question needs a yes or no answer", field=missing[0])
        vals = [int(bool(label.answers[q])) for q in QUESTIONS]
        with self._tx(write=True) as con:
            if (
                con.execute("SELECT 1 FROM items WHERE item_id=?", (label.item_id,)).fetchone()
                is None
            ):
                raise InputError(f"unknown item id {label.item_id!r}", field="item_id")
            seq = _next_seq(con)
            created = label.created_at or _now()
            if audit:
                cur = con.execute(
                    f"UPDATE audits SET {', '.join(f'{q}=?' for q in QUESTIONS)}, note=?, created_at=?, seq=? "
                    "WHERE item_id=? AND annotator=?",
                    (*vals, label.note, created, seq, label.item_id, a),
                )
                if not cur.rowcount:
                    raise InputError(f"no audit of {label.item_id!r} was requested for {a!r}")
                return
            con.execute(
                f"INSERT OR REPLACE INTO labels(item_id, annotator, {', '.join(QUESTIONS)}, note, created_at, seq) "
                f"VALUES (?,?,{','.join('?' * len(QUESTIONS))},?,?,?)",
                (label.item_id, a, *vals, label.note, created, seq),
            )

    def undo(self, annotator: str) -> dict[str, Any] | None:
        """Take back ``annotator``'s most recent answer and return that item with the
        answers it had (``previous``), so the page can show it again. ``None`` if nothing."""
        a = _check_annotator(annotator)
        with self._tx(write=True) as con:
            lab = con.execute(
                "SELECT *, 0 AS is_audit FROM labels WHERE annotator=? ORDER BY seq DESC LIMIT 1",
                (a,),
            ).fetchone()
            aud = con.execute(
                "SELECT *, 1 AS is_audit FROM audits WHERE annotator=? AND created_at IS NOT NULL "
                "ORDER BY seq DESC LIMIT 1",
                (a,),
            ).fetchone()
            last = max(
                (r for r in (lab, aud) if r is not None), key=lambda r: r["seq"], default=None
            )
            if last is None:
                return None
            if last["is_audit"]:
                con.execute(
                    f"UPDATE audits SET {', '.join(f'{q}=NULL' for q in QUESTIONS)}, created_at=NULL, seq=NULL "
                    "WHERE item_id=? AND annotator=?",
                    (last["item_id"], a),
                )
            else:
                con.execute(
                    "DELETE FROM labels WHERE item_id=? AND annotator=?", (last["item_id"], a)
                )
            row = con.execute("SELECT * FROM items WHERE item_id=?", (last["item_id"],)).fetchone()
        return {
            **self._item(row),
            "audit": bool(last["is_audit"]),
            "previous": {q: bool(last[q]) for q in QUESTIONS},
        }

    # -- reading labels -----------------------------------------------------------------
    @staticmethod
    def _label(row: sqlite3.Row) -> Label:
        return Label(
            item_id=row["item_id"],
            annotator=row["annotator"],
            answers={q: bool(row[q]) for q in QUESTIONS},
            note=row["note"],
            created_at=row["created_at"],
        )

    def labels(self, annotator: str | None = None) -> list[Label]:
        """Every label (or one annotator's), in item order then annotator."""
        sql = "SELECT l.* FROM labels l JOIN items i USING(item_id)"
        args: tuple[str, ...] = ()
        if annotator is not None:
            sql += " WHERE l.annotator=?"
            args = (annotator,)
        with self._tx() as con:
            rows = con.execute(sql + " ORDER BY i.position, l.annotator", args).fetchall()
        return [self._label(r) for r in rows]

    def annotators(self) -> list[str]:
        with self._tx() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT annotator FROM labels ORDER BY 1")]

    def insert_labels(self, labels: Sequence[Label]) -> int:
        """Insert new labels in one transaction (all or none). The caller has validated them:
        a label whose key is already stored is a conflict and rolls everything back."""
        with self._tx(write=True) as con:
            seq = _next_seq(con) - 1
            for lab in labels:
                seq += 1
                try:
                    con.execute(
                        f"INSERT INTO labels(item_id, annotator, {', '.join(QUESTIONS)}, note, created_at, seq) "
                        f"VALUES (?,?,{','.join('?' * len(QUESTIONS))},?,?,?)",
                        (
                            lab.item_id,
                            _check_annotator(lab.annotator),
                            *(int(bool(lab.answers[q])) for q in QUESTIONS),
                            lab.note,
                            lab.created_at or _now(),
                            seq,
                        ),
                    )
                except sqlite3.IntegrityError as e:
                    raise InputError(
                        f"label for ({lab.item_id!r}, {lab.annotator!r}) already stored or item unknown: {e}"
                    ) from e
        return len(labels)

    # -- adjudication and audits (used by cosmo.refine.annotation.review) ----------------
    def record_adjudication(
        self, item_id: str, question: str, label: bool, *, method: str, adjudicator: str = ""
    ) -> None:
        if question not in QUESTIONS:
            raise InputError(
                f"unknown question {question!r}; expected one of {QUESTIONS}", field="question"
            )
        with self._tx(write=True) as con:
            if con.execute("SELECT 1 FROM items WHERE item_id=?", (item_id,)).fetchone() is None:
                raise InputError(f"unknown item id {item_id!r}", field="item_id")
            con.execute(
                "INSERT OR REPLACE INTO adjudications VALUES (?,?,?,?,?,?)",
                (item_id, question, int(label), method, adjudicator, _now()),
            )

    def adjudications(self) -> list[dict[str, Any]]:
        with self._tx() as con:
            rows = con.execute("SELECT * FROM adjudications ORDER BY item_id, question").fetchall()
        return [{**dict(r), "label": bool(r["label"])} for r in rows]

    def request_audits(self, item_ids: Iterable[str], annotator: str) -> int:
        """Queue items for a second look by ``annotator`` (already queued ones are kept)."""
        a = _check_annotator(annotator)
        n = 0
        with self._tx(write=True) as con:
            for item_id in item_ids:
                n += con.execute(
                    "INSERT OR IGNORE INTO audits(item_id, annotator, requested_at) VALUES (?,?,?)",
                    (item_id, a, _now()),
                ).rowcount
        return n

    def audits(self, *, done_only: bool = True) -> list[dict[str, Any]]:
        sql = "SELECT * FROM audits" + (" WHERE created_at IS NOT NULL" if done_only else "")
        with self._tx() as con:
            rows = con.execute(sql + " ORDER BY item_id, annotator").fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["answers"] = {q: bool(r[q]) for q in QUESTIONS} if r["created_at"] else None
            out.append(d)
        return out
