"""Exceptions raised by cosmo.

Every error that cosmo raises on purpose derives from :class:`CosmoError`, so a caller
can catch one type. Messages say what went wrong and what to do about it.

    CosmoError
    ├── ConfigError            settings that cannot work (bad path, missing password)
    ├── InputError             bad input data; carries file, line and field
    │   └── SchemaError        a label, relation or property not in the KG schema
    ├── GraphStoreError        the graph database failed a request
    │   └── StoreUnavailable   the graph database cannot be reached
    ├── ServerError            the embedded database server could not be started or stopped
    ├── ModelError             a model could not be found, converted or loaded
    └── PipelineError          a pipeline stage failed (generation, refinement, training)
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "CosmoError",
    "GraphStoreError",
    "InputError",
    "ModelError",
    "PipelineError",
    "SchemaError",
    "ServerError",
    "StoreUnavailable",
]


class CosmoError(Exception):
    """Root of every error cosmo raises on purpose."""


class ConfigError(CosmoError):
    """A setting is missing or cannot work."""


class InputError(CosmoError):
    """Bad input data. Names the file, the line (1-based, header is line 1) and the field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class SchemaError(InputError):
    """A label, relation type or property name that the KG schema does not allow."""


class GraphStoreError(CosmoError):
    """The graph database rejected or failed a request."""


class StoreUnavailable(GraphStoreError):
    """The graph database cannot be reached (down, wrong address or wrong password)."""


class ServerError(CosmoError):
    """The embedded database server could not be started, checked or stopped."""


class ModelError(CosmoError):
    """A model could not be found, converted or loaded."""


class PipelineError(CosmoError):
    """A pipeline stage failed."""
