"""cosmo.ingest: read, validate, normalise and sample e-commerce behaviour.

* files are read by :mod:`cosmo.core.tables` (CSV, Parquet and JSONL, with line numbers);
* :mod:`~cosmo.ingest.validate` turns rows into the records of :mod:`cosmo.core.records`,
  rejecting bad rows with file, line and field;
* :mod:`~cosmo.ingest.adapters` reads IntentionQA/FolkScope and ESCI files;
* :mod:`~cosmo.ingest.sampling` picks the pairs to explain (stratified, broad queries first);
* :mod:`~cosmo.ingest.pipeline` writes the artifacts with manifests.
"""

from pathlib import Path

__all__ = ["SAMPLE_DIR"]

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
"""The bundled sample: ``catalogue.csv``, ``search_buy.csv``, ``co_buy.csv``."""
