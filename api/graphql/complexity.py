"""Document limits measured in time linear in the document: depth, aliases, size and cost.

A fragment may spread another one twice, and that one the next twice: a 1 KB document then
expands to 2^n fields. Walking the expansion (as Strawberry's depth and alias limiters do)
takes that long, on the event loop. :func:`measure` walks each fragment's own selections
once, memoised by name, and combines the results at every spread, so its work is at most
fragments + spreads (``Measure.visits`` counts it). All quantities saturate just above
their limit, so the numbers stay small however far a document would expand.

:func:`complexity_rule` turns the limits into one validation rule reporting ``TOO_COMPLEX``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import ParserCache

__all__ = ["Limits", "Measure", "ParseWithTokenLimit", "Size", "complexity_rule", "measure"]

# how graphql-core's parser says a document passed ``max_tokens``
_TOKEN_LIMIT = "Syntax Error: Document contains more than"


@dataclass(frozen=True)
class Limits:
    """The bounds a document must stay within (``ApiSettings`` gives them)."""

    max_depth: int
    max_aliases: int
    max_fields: int
    max_cost: int = 5000
    default_page: int = 20
    max_page: int = 100
    list_fields: Mapping[str, str | None] = field(default_factory=dict)

    def with_cost(
        self, max_cost: int, default_page: int, max_page: int, list_fields: Mapping[str, str | None]
    ) -> Limits:
        """These limits with the cost estimate's: list fields multiply by their page size."""
        return replace(
            self,
            max_cost=max_cost,
            default_page=default_page,
            max_page=max_page,
            list_fields=list_fields,
        )


@dataclass(frozen=True)
class Size:
    """What a selection set expands to; every number saturates at its limit + 1."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0  # estimated rows, for a multiplier of 1 (cost is linear in it)


@dataclass
class _Body:
    """One selection set walked once: its own fields, and the spreads it holds, each with
    the depth and the cost multiplier at which it sits."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: int = 0
    refs: list[tuple[str, int, int]] = field(default_factory=list)


class Measure:
    """Measure a document against :class:`Limits`: each fragment's body is walked once,
    each spread combined once, in dependency order (no recursion across fragments)."""

    def __init__(self, limits: Limits, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.limits = limits
        self.fragments = fragments
        self.bodies: dict[str, _Body] = {}
        self.memo: dict[str, Size] = {}
        self.visits = 0  # fragment bodies walked + spreads combined: the work done

    def _page(self, node: FieldNode) -> int:
        lim = self.limits
        arg = lim.list_fields.get(node.name.value)
        if arg is None:
            return lim.default_page
        for a in node.arguments or ():
            if a.name.value == arg:
                if isinstance(a.value, IntValueNode):
                    return min(max(1, int(a.value.value)), lim.max_page)
                return lim.max_page  # a variable: assume the worst
        return lim.default_page

    def _walk(self, sel: SelectionSetNode | None, body: _Body, depth: int, mult: int) -> None:
        cap = self.limits.max_cost + 1
        for s in sel.selections if sel is not None else ():
            if isinstance(s, FieldNode):
                name = s.name.value
                m = min(mult * self._page(s), cap) if name in self.limits.list_fields else mult
                body.fields += 1
                body.aliases += 1 if s.alias else 0
                body.cost += m
                if s.selection_set is not None and not name.startswith("__"):
                    body.depth = max(body.depth, depth + 1)
                    self._walk(s.selection_set, body, depth + 1, m)
                elif s.selection_set is not None:  # introspection: no depth, still counted
                    self._walk(s.selection_set, body, depth, m)
            elif isinstance(s, InlineFragmentNode):
                self._walk(s.selection_set, body, depth, mult)
            elif isinstance(s, FragmentSpreadNode):
                body.refs.append((s.name.value, depth, mult))

    def body(self, sel: SelectionSetNode) -> _Body:
        b = _Body()
        self._walk(sel, b, 0, 1)
        return b

    def _order(self, roots: list[str]) -> list[str]:
        """Fragments reachable from ``roots``, each after those it spreads (cycles cut)."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1: on the stack, 2: done
        for root in roots:
            if root in state or root not in self.fragments:
                continue
            state[root] = 1
            stack = [(root, iter(self._body_of(root).refs))]
            while stack:
                name, refs = stack[-1]
                nxt = next((r[0] for r in refs if r[0] not in state), None)
                if nxt is None:
                    stack.pop()
                    state[name] = 2
                    order.append(name)
                elif nxt in self.fragments:
                    state[nxt] = 1
                    stack.append((nxt, iter(self._body_of(nxt).refs)))
        return order

    def _body_of(self, name: str) -> _Body:
        if name not in self.bodies:
            self.visits += 1
            self.bodies[name] = self.body(self.fragments[name].selection_set)
        return self.bodies[name]

    def combine(self, b: _Body) -> Size:
        """A body's size, its spreads' fragments already sized (unknown or cyclic: 0)."""
        lim = self.limits
        depth, aliases, fields, cost = b.depth, b.aliases, b.fields, b.cost
        for name, at, mult in b.refs:
            self.visits += 1
            g = self.memo.get(name, Size())
            depth = max(depth, at + g.depth)
            aliases = min(aliases + g.aliases, lim.max_aliases + 1)
            fields = min(fields + g.fields, lim.max_fields + 1)
            cost = min(cost + mult * g.cost, lim.max_cost + 1)
        return Size(
            min(depth, lim.max_depth + 1),
            min(aliases, lim.max_aliases + 1),
            min(fields, lim.max_fields + 1),
            min(cost, lim.max_cost + 1),
        )

    def operation(self, node: OperationDefinitionNode) -> Size:
        b = self.body(node.selection_set)
        for name in self._order([r[0] for r in b.refs]):
            if name not in self.memo:
                self.memo[name] = self.combine(self.bodies[name])
        return self.combine(b)


def measure(document: DocumentNode, limits: Limits) -> tuple[dict[str, Size], Measure]:
    """The size of each operation of ``document`` (by name, ``anonymous`` when unnamed)."""
    frags = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    m = Measure(limits, frags)
    sizes = {
        (d.name.value if d.name else "anonymous"): m.operation(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }
    return sizes, m


def _problems(name: str, size: Size, lim: Limits) -> list[str]:
    out = []
    if size.depth > lim.max_depth:
        out.append(f"'{name}' exceeds maximum operation depth of {lim.max_depth}")
    if size.aliases > lim.max_aliases:
        out.append(f"too many aliases: over {lim.max_aliases} allowed")
    if size.fields > lim.max_fields:
        out.append(
            f"query is too large: it expands to over {lim.max_fields} fields "
            "(fragments count once per spread)"
        )
    if size.cost > lim.max_cost:
        out.append(
            f"query is too expensive (estimated cost over {lim.max_cost}); "
            "ask for smaller pages or fewer nested lists"
        )
    return out


def complexity_rule(limits: Limits) -> type[ValidationRule]:
    """One validation rule checking depth, aliases, expanded size and cost of each operation."""

    class ComplexityLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)

        def enter_document(self, node: DocumentNode, *_: Any) -> None:
            sizes, _m = measure(node, limits)
            for name, size in sizes.items():
                for msg in _problems(name, size, limits):
                    self.report_error(GraphQLError(msg, extensions={"code": "TOO_COMPLEX"}))

    return ComplexityLimit


class ParseWithTokenLimit(ParserCache):
    """Strawberry's parser cache; a document over the token limit (``MaxTokensLimiter`` sets
    it in the parse options) is refused while parsing, before any rule, as ``TOO_COMPLEX``."""

    def on_parse(self) -> Iterator[None]:
        try:
            yield from super().on_parse()
        except GraphQLError as e:
            if e.message.startswith(_TOKEN_LIMIT):
                e.extensions = {**(e.extensions or {}), "code": "TOO_COMPLEX"}
            raise
