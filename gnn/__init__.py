"""cosmo.gnn: graph learning on the knowledge graph (PyTorch Geometric).

* :mod:`cosmo.gnn.data`: the KG (:class:`cosmo.kg.export.KGTables`, from an export folder
  or a graph store) as a ``HeteroData`` with MiniLM text features and saved id maps;
* :mod:`cosmo.gnn.sage` / :mod:`cosmo.gnn.embed`: heterogeneous GraphSAGE trained by link
  prediction, node embeddings to Parquet;
* :mod:`cosmo.gnn.vectors`: embeddings written back with a vector index, :func:`similar`;
* :mod:`cosmo.gnn.session`: session-based recommendation.

Importing this package does not import torch.
"""

from cosmo.gnn.vectors import ensure_vector_index, similar, write_embeddings

__all__ = [
    "ensure_vector_index",
    "similar",
    "write_embeddings",
]
