"""Saved, parameterised Cypher for analysts (Neo4j Browser, ``cypher-shell``, FalkorDB).

Each ``*.cypher`` file opens with a header::

    // name: product_intentions
    // description: ...
    // params: product_id (string) ...; limit (int) ...
    // example: {"product_id": "B00000J1U8", "limit": 20}

:func:`saved_queries` reads them; every query runs on both backends (portable subset).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from cosmo.core.errors import CosmoError

__all__ = ["SavedQuery", "saved_queries"]

_FIELDS = ("name", "description", "params", "example")


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str
    params: str
    example: dict[str, Any]
    text: str
    file: str


def _parse(file: str, content: str) -> SavedQuery:
    head: dict[str, str] = {}
    body: list[str] = []
    for line in content.splitlines():
        if line.startswith("//") and not body:
            key, _, value = line[2:].strip().partition(":")
            if key.strip() in _FIELDS:
                head[key.strip()] = value.strip()
        else:
            body.append(line)
    missing = [f for f in _FIELDS if f not in head]
    if missing:
        raise CosmoError(f"{file}: the header lacks {', '.join(missing)}")
    try:
        example = json.loads(head["example"])
    except json.JSONDecodeError as e:
        raise CosmoError(f"{file}: the example is not JSON ({e})") from e
    return SavedQuery(
        head["name"], head["description"], head["params"], example, "\n".join(body).strip(), file
    )


def saved_queries() -> dict[str, SavedQuery]:
    """Every saved query, by name."""
    out = {}
    for entry in sorted(files("cosmo.cypher").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".cypher"):
            q = _parse(entry.name, entry.read_text(encoding="utf-8"))
            out[q.name] = q
    return out
