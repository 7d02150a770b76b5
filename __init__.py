"""cosmo: turn e-commerce behaviour into a commonsense knowledge graph and serve it.

The ground floor is :mod:`cosmo.core` (settings, errors, manifests); one subpackage per
stage stands on it: :mod:`cosmo.ingest`, :mod:`cosmo.generation`, :mod:`cosmo.refine`,
:mod:`cosmo.kg`, :mod:`cosmo.gnn`, :mod:`cosmo.api`.
"""

from cosmo.core import __version__
from cosmo.core.errors import (
    ConfigError,
    CosmoError,
    GraphStoreError,
    InputError,
    ModelError,
    PipelineError,
    SchemaError,
    ServerError,
    StoreUnavailable,
)
from cosmo.core.settings import Settings

__all__ = [
    "ConfigError",
    "CosmoError",
    "GraphStoreError",
    "InputError",
    "ModelError",
    "PipelineError",
    "SchemaError",
    "ServerError",
    "Settings",
    "StoreUnavailable",
    "__version__",
]
