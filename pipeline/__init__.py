"""The offline pipeline as one job: ingest → sample → generate (by block) → refine → triples.

Two engines run it: ``local`` (this process) and ``ray`` (an actor pool on a Ray cluster,
:mod:`cosmo.pipeline.ray_engine`). Both call the same stage functions; see README.md.
"""
