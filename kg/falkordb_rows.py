"""Rows from FalkorDB's compact result set, parsed without the client's per-value coroutines.

falkordb-py's asyncio client parses every value of a result with an ``await`` (a coroutine per
cell, per list item and per map entry), which cost more than the rest of a read on the API's
request path. Most results hold only scalars, lists and maps (projections): :func:`compact_rows`
parses those directly and returns None for anything else (nodes, edges, paths, points,
temporal values, an error reply), which the caller then hands to the client's parser.
"""

from __future__ import annotations

from typing import Any

__all__ = ["compact_rows"]

_NULL, _STRING, _INTEGER, _BOOLEAN, _DOUBLE, _ARRAY, _MAP, _VECTORF32 = 1, 2, 3, 4, 5, 6, 10, 12


class _Unplain(Exception):
    """A value only the client's parser knows."""


def _value(cell: Any) -> Any:
    kind, v = cell
    kind = int(kind)
    if kind == _STRING:
        return v.decode() if isinstance(v, bytes) else v if isinstance(v, str) else str(v)
    if kind == _INTEGER:
        return int(v)
    if kind == _NULL:
        return None
    if kind == _DOUBLE:
        return float(v)
    if kind == _ARRAY:
        return [_value(c) for c in v]
    if kind == _MAP:
        return {
            (v[i].decode() if isinstance(v[i], bytes) else v[i]): _value(v[i + 1])
            for i in range(0, len(v), 2)
        }
    if kind == _BOOLEAN:
        return (v.decode() if isinstance(v, bytes) else v) == "true"
    if kind == _VECTORF32:
        return [float(x) for x in v]
    raise _Unplain(kind)


def compact_rows(response: Any) -> list[dict[str, Any]] | None:
    """The rows of a ``GRAPH.QUERY ... --compact`` reply, or None: let the client parse it."""
    if not isinstance(response, list) or not response:
        return None
    if any(isinstance(part, Exception) for part in (response[0], response[-1])):
        return None  # an error: the client's parser raises it as the client does
    if len(response) == 1:
        return []  # statistics only
    names = [h[1] if isinstance(h, list | tuple) else h for h in response[0]]
    names = [n.decode() if isinstance(n, bytes) else n for n in names]
    if not names:
        return []
    try:
        return [dict(zip(names, map(_value, row), strict=False)) for row in response[1]]
    except (_Unplain, TypeError, ValueError):
        return None
