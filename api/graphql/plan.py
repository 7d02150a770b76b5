"""Prepared plans: hot query documents answered without graphql-core's per-field execution.

A document is prepared only after the normal executor answered it without errors, so it was
parsed and validated (token limit, depth, aliases, expanded size, cost) once; its plan is
cached by document text and operation name. A plan walks the same Strawberry types the
executor does: fields with a resolver call that resolver (so the service-layer queries, the
DataLoaders and the argument checks are the resolvers' own), plain fields are read as
attributes, leaves go through the schema's own ``serialize``, and the response dict is built
in one pass, siblings and list items resolved concurrently as the executor does (so the
DataLoaders batch the same way).

What a plan does not cover it never answers: documents with fragments, directives,
introspection, repeated response keys, input-object or abstract types, and mutations are not
prepared; a request whose variables do not coerce, or any error while answering (a refused
page size, a database error, a null in a non-null field), makes :meth:`Plan.run` return
None and the caller answers that request with the normal executor, which formats the error.
"""

from __future__ import annotations

import asyncio
import types
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    get_named_type,
    parse,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.types.nodes import convert_selections

__all__ = ["Plan", "PlanCache", "prepare"]


_AWAITABLE = (types.CoroutineType, asyncio.Future)


class _Fallback(Exception):
    """Answer this request with the normal executor."""


class _Info:
    """What the resolvers read from ``info``: the context and, on demand, the selection."""

    __slots__ = ("_nodes", "context", "fragments", "variable_values")

    def __init__(self, context: Any, nodes: list[FieldNode], variables: dict[str, Any]) -> None:
        self.context = context
        self._nodes = nodes
        self.variable_values = variables
        self.fragments: dict[str, Any] = {}

    @property
    def selected_fields(self) -> list[Any]:
        return convert_selections(self, self._nodes)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        raise _Fallback(f"a resolver reads info.{name}")


@dataclass(slots=True)
class _Field:
    key: str
    node: FieldNode
    gql_field: Any
    python_name: str
    resolver: Callable[..., Any] | None
    info_name: str | None
    args: dict[str, str]  # GraphQL argument name -> Python parameter name
    kind: Any  # the field's GraphQL output type, wrappers included
    children: list[_Field] = field(default_factory=list)
    is_async: bool = False  # a resolver in this field or below it
    leaf: Callable[[Any], Any] | None = None  # a scalar or enum field: its serialiser
    nonnull: bool = False


def _unsupported(node: Any) -> bool:
    return bool(getattr(node, "directives", None))


def _compile_fields(schema: Any, parent: GraphQLObjectType, selection_set: Any) -> list[_Field]:
    out: list[_Field] = []
    keys: set[str] = set()
    definition = schema.get_type_by_name(parent.name)
    fields = {schema.config.name_converter.from_field(f): f for f in definition.fields}
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or _unsupported(node):
            raise _Fallback("fragment or directive")
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name.startswith("__") or key in keys or name not in fields:
            raise _Fallback(name)
        keys.add(key)
        gql_field = parent.fields[name]
        sf = fields[name]
        args = {}
        for a in sf.arguments:
            gname = schema.config.name_converter.from_argument(a)
            if not isinstance(get_named_type(gql_field.args[gname].type), GraphQLScalarType):
                raise _Fallback("a non-scalar argument")
            args[gname] = a.python_name
        resolver = info_name = None
        if sf.base_resolver is not None:
            resolver = sf.base_resolver.wrapped_func
            p = sf.base_resolver.info_parameter
            info_name = p.name if p is not None else None
        named = get_named_type(gql_field.type)
        f = _Field(key, node, gql_field, sf.python_name, resolver, info_name, args, gql_field.type)
        if isinstance(named, GraphQLObjectType):
            f.children = _compile_fields(schema, named, node.selection_set)
        elif not isinstance(named, GraphQLScalarType | GraphQLEnumType):
            raise _Fallback(f"abstract type {named}")
        f.is_async = resolver is not None or any(c.is_async for c in f.children)
        f.nonnull = isinstance(f.kind, GraphQLNonNull)
        if f.kind is named or (f.nonnull and f.kind.of_type is named):
            f.leaf = None if f.children or isinstance(named, GraphQLObjectType) else named.serialize
        out.append(f)
    return out


def prepare(schema: Any, document: str, operation_name: str | None) -> Plan | None:
    """The plan of one query operation, or None when plans do not cover the document."""
    try:
        doc = parse(document, no_location=True)
    except Exception:
        return None
    ops = doc.definitions
    if len(ops) != 1 or not isinstance(ops[0], OperationDefinitionNode):
        return None  # several operations, or fragments
    op = ops[0]
    if op.operation != OperationType.QUERY or _unsupported(op):
        return None
    if operation_name is not None and (op.name is None or op.name.value != operation_name):
        return None
    var_defs = list(op.variable_definitions or ())
    if any(_unsupported(v) for v in var_defs):
        return None
    gql_schema = schema._schema
    try:
        fields = _compile_fields(schema, gql_schema.query_type, op.selection_set)
    except (_Fallback, KeyError, AttributeError):
        return None
    return Plan(gql_schema, var_defs, fields)


class Plan:
    """One prepared query operation; :meth:`run` answers a request of it."""

    def __init__(self, gql_schema: Any, var_defs: list[Any], fields: list[_Field]) -> None:
        self._schema = gql_schema
        self._var_defs = var_defs
        self._fields = fields

    async def run(self, context: Any, variables: dict[str, Any] | None) -> dict[str, Any] | None:
        """The ``data`` of the answer, or None: answer this request with the normal executor."""
        coerced = get_variable_values(self._schema, self._var_defs, variables or {})
        if isinstance(coerced, list):
            return None  # variables that do not coerce: the executor reports them
        try:
            return await _object(self._fields, None, context, coerced)
        except Exception:
            return None


def _plain_object(fields: list[_Field], source: Any) -> dict[str, Any]:
    """An object whose fields and their fields have no resolver: attributes all the way."""
    out: dict[str, Any] = {}
    for f in fields:
        value = getattr(source, f.python_name)
        if value is None:
            if f.nonnull:
                raise _Fallback(f"null in non-null {f.key}")
            out[f.key] = None
        elif f.leaf is not None:
            done = f.leaf(value)
            if done is Undefined or done is None:
                raise _Fallback(f"{f.key} does not serialise")
            out[f.key] = done
        else:
            out[f.key] = _complete(f, f.kind, value, None, None)
    return out


async def _object(fields: list[_Field], source: Any, context: Any, variables: Any) -> Any:
    out: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = []
    for f in fields:
        if not f.is_async:
            out[f.key] = _plain_object([f], source)[f.key]
            continue
        if f.resolver is None:
            value = getattr(source, f.python_name)
        else:
            raw = get_argument_values(f.gql_field, f.node, variables)
            kwargs = {f.args[k]: v for k, v in raw.items()}
            if f.info_name is not None:
                kwargs[f.info_name] = _Info(context, [f.node], variables.coerced)
            value = f.resolver(source, **kwargs)
        done = _complete(f, f.kind, value, context, variables)
        if isinstance(done, _AWAITABLE):
            pending.append((f.key, done))
            out[f.key] = None
        else:
            out[f.key] = done
    if pending:
        got = await asyncio.gather(*(a for _, a in pending))
        for (key, _), v in zip(pending, got, strict=True):
            out[key] = v
    return out


def _complete(f: _Field, kind: Any, value: Any, context: Any, variables: Any) -> Any:
    if isinstance(value, _AWAITABLE):
        return _later(f, kind, value, context, variables)
    if isinstance(kind, GraphQLNonNull):
        if value is None:
            raise _Fallback(f"null in non-null {f.key}")
        kind = kind.of_type
    if value is None:
        return None
    if isinstance(kind, GraphQLList):
        if isinstance(value, str | bytes | dict):
            raise _Fallback(f"{f.key} is not a list")
        items = [_complete(f, kind.of_type, v, context, variables) for v in value]
        if any(isinstance(i, _AWAITABLE) for i in items):
            return _gather_list(items)
        return items
    if isinstance(kind, GraphQLObjectType):
        if not f.is_async or (f.resolver is not None and not any(c.is_async for c in f.children)):
            return _plain_object(f.children, value)
        return _object(f.children, value, context, variables)
    serialised = kind.serialize(value)
    if serialised is Undefined or serialised is None:
        raise _Fallback(f"{f.key} does not serialise")
    return serialised


async def _later(f: _Field, kind: Any, value: Any, context: Any, variables: Any) -> Any:
    done = _complete(f, kind, await value, context, variables)
    return await done if isinstance(done, _AWAITABLE) else done


async def _gather_list(items: list[Any]) -> list[Any]:
    awaited = await asyncio.gather(*(i for i in items if isinstance(i, _AWAITABLE)))
    it = iter(awaited)
    return [next(it) if isinstance(i, _AWAITABLE) else i for i in items]


class PlanCache:
    """Plans by (document, operation name), least recently used out; None = not coverable."""

    def __init__(self, schema: Any, size: int) -> None:
        self.schema = schema
        self.size = size
        self._plans: OrderedDict[tuple[str, str | None], Plan | None] = OrderedDict()
        self.hits = 0

    def get(self, document: str, operation_name: str | None) -> Plan | None:
        plan = self._plans.get((document, operation_name))
        if plan is not None:
            self._plans.move_to_end((document, operation_name))
            self.hits += 1
        return plan

    def known(self, document: str, operation_name: str | None) -> bool:
        return (document, operation_name) in self._plans

    def learn(self, document: str, operation_name: str | None) -> None:
        """Prepare a document the normal executor has just answered without errors."""
        if self.size <= 0:
            return
        self._plans[(document, operation_name)] = prepare(self.schema, document, operation_name)
        while len(self._plans) > self.size:
            self._plans.popitem(last=False)
