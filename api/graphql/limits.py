"""Limits that keep one request from hurting the others.

* :data:`LIST_FIELDS`: the list fields and the argument giving their page size, which the
  cost limit of :mod:`cosmo.api.graphql.complexity` multiplies their children by.
* :func:`page_args`: turns ``first``/``after`` into an offset and a size, within limits.
The HTTP limits (body size, request time) are :class:`cosmo.api.http.limits.LimitsMiddleware`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from graphql import GraphQLError

from cosmo.core.text import find_control

__all__ = [
    "LIST_FIELDS",
    "ApiError",
    "check_ids",
    "check_text",
    "decode_cursor",
    "encode_cursor",
    "page_args",
]

LIST_FIELDS = {
    "intentions": "first",
    "coBought": "first",
    "explainedCoBuys": "first",
    "similar": "k",
    "products": "first",
    "queries": "first",
    "related": "first",
    "facets": "size",
    "recommend": "k",
    "relevance": None,
    "values": None,
}


class ApiError(GraphQLError):
    """A GraphQL error with a machine-readable ``extensions.code``."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message, extensions={"code": code})


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not raw.startswith("o:"):
            raise ValueError(raw)
        return int(raw[2:]) + 1
    except (ValueError, binascii.Error, UnicodeDecodeError) as e:
        raise ApiError(
            f"invalid cursor {cursor[:40]!r}: pass an endCursor from a previous page"
        ) from e


def page_args(first: int | None, after: str | None, default: int, maximum: int) -> tuple[int, int]:
    """``(skip, limit)`` for a Relay page; rejects sizes outside ``1..maximum``."""
    n = default if first is None else first
    if not 1 <= n <= maximum:
        raise ApiError(f"first must be between 1 and {maximum}, got {n}", "PAGE_SIZE")
    skip = decode_cursor(after) if after else 0
    if skip > 100_000:
        raise ApiError("cursor is too far; narrow the query instead", "PAGE_SIZE")
    return skip, min(n, maximum)


def _no_control(value: str, field: str) -> None:
    # the text rule every input follows (cosmo.core.text): NUL would truncate the query text
    # on the server, and no other control character is ever needed
    if find_control(value) is not None:
        raise ApiError(f"{field} contains control characters", "BAD_INPUT")


def check_text(value: str, field: str, maximum: int) -> str:
    _no_control(value, field)
    if len(value) > maximum:
        raise ApiError(f"{field} is longer than {maximum} characters", "BAD_INPUT")
    if not value.strip():
        raise ApiError(f"{field} must not be empty", "BAD_INPUT")
    return value


def check_ids(values: Sequence[str], field: str, maximum: int) -> list[str]:
    if len(values) > maximum:
        raise ApiError(f"{field} holds {len(values)} ids; at most {maximum} allowed", "BAD_INPUT")
    for v in values:
        if len(v) > 200:
            raise ApiError(f"{field} holds an id longer than 200 characters", "BAD_INPUT")
        _no_control(v, field)
    return list(values)
