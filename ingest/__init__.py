"""cosmo.ingest: read, validate, normalise and sample e-commerce behaviour.

* :mod:`~cosmo.ingest.readers` reads CSV, Parquet and JSONL with line numbers;
* :mod:`~cosmo.ingest.validate` turns rows into :class:`Product`, :class:`SearchBuy`,
  :class:`CoBuy` records, rejecting bad rows with file, line and field;
* :mod:`~cosmo.ingest.adapters` reads IntentionQA/FolkScope and ESCI files;
* :mod:`~cosmo.ingest.sampling` picks the pairs to explain (stratified, broad queries first);
* :mod:`~cosmo.ingest.pipeline` writes the artifacts with manifests.
"""

from cosmo.ingest.records import BehaviourPair, CoBuy, Product, SearchBuy

__all__ = ["SAMPLE_DIR", "BehaviourPair", "CoBuy", "Product", "SearchBuy"]

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
"""The bundled sample: ``catalogue.csv``, ``search_buy.csv``, ``co_buy.csv``."""
