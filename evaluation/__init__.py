"""cosmo.evaluation: how much the knowledge graph helps, measured on public benchmarks.

* :mod:`cosmo.evaluation.intentionqa` / :mod:`cosmo.evaluation.iqa_scorer`: the IntentionQA
  harness (frozen MiniLM vectors, a learned option scorer, KG features from the training
  pairs or from a ``cosmo kg export``);
* :mod:`cosmo.evaluation.relevance`: ESCI query-product relevance with and without KG
  features.

The data set itself is read by :mod:`cosmo.ingest.intentionqa`; the KG tables are
:class:`cosmo.kg.export.KGTables`. Importing this package does not import torch.
"""
