"""A resumable on-disk store of completions (SQLite).

Each completion is keyed by a hash of (prompt-template version, model, sampling
parameters, prompt text); the prompt text holds the input pair, so the key covers
"template version, model, parameters and input". The runner writes each batch as soon as
it is generated and commits, so a crashed run resumes where it stopped and a rerun
generates nothing again. Open it with ``with GenerationCache(path) as cache: ...``.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from types import TracebackType
from typing import Any

from cosmo.core.errors import PipelineError
from cosmo.generation.base import Generation, GenerationParams

__all__ = ["GenerationCache", "cache_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    template_version TEXT NOT NULL,
    model TEXT NOT NULL,
    params TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    finish_reason TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
)
"""


def cache_key(template_version: str, model: str, params: GenerationParams, prompt: str) -> str:
    """Stable key of one completion request."""
    blob = json.dumps(
        {"v": template_version, "m": model, "p": params.as_dict(), "x": prompt},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.blake2b(blob.encode(), digest_size=20).hexdigest()


class GenerationCache:
    """SQLite-backed map from :func:`cache_key` to :class:`Generation`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def open(self) -> GenerationCache:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, timeout=30)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(_SCHEMA)
                self._db.commit()
            except sqlite3.Error as e:
                raise PipelineError(f"cannot open the generation cache {self.path}: {e}") from e
        return self

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> GenerationCache:
        return self.open()

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        return self.open()._db  # type: ignore[return-value]

    def get_many(self, keys: list[str]) -> dict[str, Generation]:
        found: dict[str, Generation] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                "SELECT key, text, prompt_tokens, completion_tokens, finish_reason "
                f"FROM completions WHERE key IN ({marks})",
                chunk,
            )
            for key, text, pt, ct, fr in rows:
                found[key] = Generation(
                    text=text, prompt_tokens=pt, completion_tokens=ct, finish_reason=fr
                )
        return found

    def put_many(
        self,
        items: list[tuple[str, Generation]],
        template_version: str,
        model: str,
        params: GenerationParams,
    ) -> None:
        p = json.dumps(params.as_dict(), sort_keys=True)
        rows: list[tuple[Any, ...]] = [
            (
                k,
                template_version,
                model,
                p,
                g.text,
                g.prompt_tokens,
                g.completion_tokens,
                g.finish_reason,
            )
            for k, g in items
        ]
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO completions (key, template_version, model, params, text, "
                "prompt_tokens, completion_tokens, finish_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM completions").fetchone()[0])
