"""Limits that keep one request from hurting the others.

* :func:`cost_rule`: a GraphQL validation rule estimating how many rows an operation asks
  for (list fields multiply their children by their page size) and rejecting it above
  ``max_cost``. Depth, alias and token limits come from Strawberry's own extensions.
* :func:`page_args`: turns ``first``/``after`` into an offset and a size, within limits.
The HTTP limits (body size, request time) are :class:`cosmo.api.http.limits.LimitsMiddleware`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from cosmo.core.text import find_control

__all__ = [
    "LIST_FIELDS",
    "ApiError",
    "check_ids",
    "check_text",
    "cost_rule",
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


def cost_rule(max_cost: int, default_page: int, max_page: int) -> type[ValidationRule]:
    """A validation rule class rejecting operations whose estimated cost exceeds ``max_cost``."""

    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.ctx = context

        def _size(self, node: FieldNode, arg: str | None) -> int:
            if arg is None:
                return default_page
            for a in node.arguments or ():
                if a.name.value == arg:
                    if isinstance(a.value, IntValueNode):
                        return min(max(1, int(a.value.value)), max_page)
                    return max_page  # a variable: assume the worst
            return default_page

        def _cost(self, sel: SelectionSetNode | None, mult: int, seen: frozenset[str]) -> int:
            if sel is None:
                return 0
            total = 0
            for s in sel.selections:
                if isinstance(s, FieldNode):
                    name = s.name.value
                    m = mult * self._size(s, LIST_FIELDS[name]) if name in LIST_FIELDS else mult
                    total += m + self._cost(s.selection_set, m, seen)
                elif isinstance(s, InlineFragmentNode):
                    total += self._cost(s.selection_set, mult, seen)
                elif isinstance(s, FragmentSpreadNode) and s.name.value not in seen:
                    frag = self.ctx.get_fragment(s.name.value)
                    if frag is not None:
                        total += self._cost(frag.selection_set, mult, seen | {s.name.value})
                if total > max_cost:
                    return total
            return total

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            cost = self._cost(node.selection_set, 1, frozenset())
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query is too expensive (estimated cost over {max_cost}); "
                        "ask for smaller pages or fewer nested lists",
                        node,
                        extensions={"code": "TOO_COMPLEX"},
                    )
                )

    return CostLimit
