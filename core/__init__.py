"""cosmo.core: the ground floor every stage stands on.

What lives here is shared by every later layer and imports nothing above it:

* :mod:`~cosmo.core.settings`, :mod:`~cosmo.core.errors`, :mod:`~cosmo.core.manifest`;
* :mod:`~cosmo.core.models` and :mod:`~cosmo.core.embeddings`: the packaged models and the
  ``Embedder`` interface;
* :mod:`~cosmo.core.clitools`: what every stage's ``cli`` module shares.

Importing this package imports nothing heavy.
"""

__version__ = "0.1.0"
