"""``cosmo pipeline run``: the offline pipeline as one job, on this machine or on Ray."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cosmo.core.clitools import console, settings_of

__all__ = ["register"]

pipeline_app = typer.Typer(help="The offline pipeline as one job (local, or on a Ray cluster).")


@pipeline_app.command("run")
def run(
    ctx: typer.Context,
    intentionqa: Annotated[
        str | None, typer.Option(help="IntentionQA task1.jsonl (a path or fsspec URL).")
    ] = None,
    catalogue: Annotated[str | None, typer.Option(help="Catalogue file or URL.")] = None,
    search_buy: Annotated[str | None, typer.Option(help="Search-buy file or URL.")] = None,
    co_buy: Annotated[str | None, typer.Option(help="Co-buy file or URL.")] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Output folder or fsspec URL (default <artifacts>/pipeline)."),
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="local (default) or ray. Env: COSMO_PIPELINE_ENGINE")
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster: host:6379, ray://host:10001 or auto.")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Generation actors (ray).")] = None,
    block_size: Annotated[
        int | None, typer.Option(min=1, help="Pairs per generation block.")
    ] = None,
    n_co_buy: Annotated[int, typer.Option(min=0)] = 100,
    n_search_buy: Annotated[int, typer.Option(min=0)] = 100,
    seed: int = 0,
    backend: Annotated[
        str | None, typer.Option(help="hf, vllm or openai. Env: COSMO_GEN_BACKEND")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Model alias, Hugging Face name or folder.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible server (openai backend).")
    ] = None,
    relations: Annotated[
        str | None, typer.Option(help="Comma-separated relations (default all).")
    ] = None,
    max_new_tokens: Annotated[int | None, typer.Option(min=1)] = None,
    greedy: Annotated[bool, typer.Option(help="Greedy decoding (temperature 0).")] = False,
    perplexity: Annotated[bool, typer.Option(help="Run the perplexity filter.")] = True,
) -> None:
    """Ingest → sample → generate (in resumable blocks) → refine → triples.parquet."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.generation.settings import GenerationSettings
    from cosmo.ingest.sampling import SampleConfig
    from cosmo.pipeline.engines import make_engine
    from cosmo.pipeline.run import run_pipeline
    from cosmo.pipeline.settings import PipelineSettings

    given = {"engine": engine, "ray_address": ray_address, "workers": workers}
    ps = PipelineSettings(**{k: v for k, v in given.items() if v is not None}, **(
        {"block_size": block_size} if block_size else {}))  # fmt: skip
    gen = {
        "backend": backend,
        "model": model,
        "base_url": base_url,
        "max_new_tokens": max_new_tokens,
    }
    gs = GenerationSettings(**{k: v for k, v in gen.items() if v is not None})
    if greedy:
        gs = gs.model_copy(update={"temperature": 0.0, "repetition_penalty": 1.0})
    spec = _spec(settings_of(ctx), ps, gs, relations, out, perplexity)
    spec.intentionqa, spec.catalogue, spec.search_buy, spec.co_buy = (
        intentionqa, catalogue, search_buy, co_buy)  # fmt: skip
    spec.sample = SampleConfig(n_search_buy=n_search_buy, n_co_buy=n_co_buy, seed=seed)
    eng = make_engine(ps)
    try:
        report = run_pipeline(spec, eng, embedder=SentenceTransformerEmbedder(), log=console.print)
    finally:
        eng.close()
    console.print(", ".join(f"{k}={v}" for k, v in report.counts.items()))
    console.print(f"Wrote {report.paths['triples']}")


def _spec(
    settings: Any, ps: Any, gs: Any, relations: str | None, out: str | None, ppl: bool
) -> Any:
    from cosmo.core.schema import RELATIONS, relation_type
    from cosmo.generation.runner import GenerateConfig
    from cosmo.pipeline.run import PipelineSpec
    from cosmo.refine.settings import RefineSettings

    rels = tuple(relation_type(r) for r in relations.split(",")) if relations else RELATIONS
    config = GenerateConfig(relations=rels, shots=gs.shots, template_version=gs.template_version,
                            params=gs.params(), batch_size=gs.batch_size, pipeline_run="pipeline")  # fmt: skip
    return PipelineSpec(
        out_dir=out or settings.artifacts_dir / "pipeline",
        generation=gs.model_dump(),
        config=config,
        block_size=ps.block_size,
        refine=RefineSettings(),
        use_perplexity=ppl,
        cache_dir=settings.cache_dir,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")
