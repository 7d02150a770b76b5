"""cosmo: turn e-commerce behaviour into a commonsense knowledge graph and serve it.

Subpackages, one per stage: :mod:`cosmo.ingest`, :mod:`cosmo.generation`,
:mod:`cosmo.refine`, :mod:`cosmo.kg`, :mod:`cosmo.gnn`, :mod:`cosmo.api`.
"""

from cosmo.errors import (
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
from cosmo.settings import Settings

__version__ = "0.1.0"

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
