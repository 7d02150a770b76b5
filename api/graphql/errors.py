"""Turn failures inside resolvers into clear GraphQL errors with an ``extensions.code``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from cosmo.core.errors import CosmoError, GraphStoreError, InputError, StoreUnavailable

__all__ = ["ErrorCodes", "code_of"]

log = logging.getLogger("cosmo.api")


def code_of(err: BaseException | None) -> str:
    if isinstance(err, StoreUnavailable):
        return "UNAVAILABLE"
    if isinstance(err, InputError):
        return "BAD_INPUT"
    if isinstance(err, GraphStoreError):
        return "DATABASE_ERROR"
    if isinstance(err, CosmoError):
        return "ERROR"
    return "INTERNAL"


class ErrorCodes(SchemaExtension):
    """Give every error a code; say "unavailable" plainly; never leak internal tracebacks."""

    def __init__(self, *, metrics: Any = None) -> None:
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        fixed = []
        for e in result.errors:
            orig = e.original_error
            ext = dict(e.extensions or {})
            if orig is None or isinstance(orig, GraphQLError):
                ext.setdefault(
                    "code", "GRAPHQL_VALIDATION" if orig is None and not e.path else "BAD_REQUEST"
                )
                msg = e.message
            else:
                code = code_of(orig)
                ext["code"] = code
                if code == "UNAVAILABLE":
                    msg = f"the graph database is unavailable, retry shortly: {orig}"
                elif code == "INTERNAL":
                    log.error("resolver failed", exc_info=orig)
                    msg = "internal server error (logged on the server)"
                else:
                    msg = str(orig)
            if self.metrics is not None:
                self.metrics.graphql_errors.labels(ext["code"]).inc()
            fixed.append(GraphQLError(msg, e.nodes, e.source, e.positions, e.path, orig, ext))
        result.errors = fixed
