"""cosmo.generation: ask an LLM why customers did what they did, and keep its answers as candidates.

* :mod:`~cosmo.generation.prompts`: versioned relation-aware prompts (``templates/v1.json``);
* :mod:`~cosmo.generation.hf`: the transformers backend (CPU default, Gemma 3 270M);
* :mod:`~cosmo.generation.parsing`: numbered lists → tails, and the copy filter;
* :mod:`~cosmo.generation.runner`: cached, resumable generation → ``candidates.parquet``;
* :mod:`~cosmo.generation.folkscope` / :mod:`~cosmo.generation.importer`: candidates made elsewhere.

Heavy imports (torch, transformers, vLLM) happen only inside the backends, on first use.
"""

from cosmo.generation.base import Generation, GenerationParams, TextGenerator

__all__ = ["Generation", "GenerationParams", "TextGenerator"]
