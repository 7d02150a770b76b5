"""Demo stage: Gemma explains a few sampled pairs; IntentionQA assertions are imported.

Reads ``ctx.artifacts["pairs"]`` and writes ``ctx.artifacts["candidates"]``: the local
model's candidates for a handful of pairs (kept small so the stage stays well under two
minutes on two CPU cores), the FolkScope assertions about the demo's IntentionQA pairs, and
the bundled sample's hand-written search-buy knowledge (``ingest/sample/knowledge.csv``), which
the refine stage filters like the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosmo.core.artifacts import read_pairs, write_candidates
from cosmo.core.manifest import Manifest
from cosmo.core.records import Candidate
from cosmo.core.schema import pair_key
from cosmo.generation.base import GenerationParams, TextGenerator
from cosmo.generation.cache import GenerationCache
from cosmo.generation.folkscope import import_intentionqa
from cosmo.generation.importer import import_candidates
from cosmo.generation.runner import GenerateConfig, run_generation
from cosmo.ingest import SAMPLE_DIR

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext

__all__ = ["DEMO_RELATIONS", "SAMPLE_KNOWLEDGE", "run", "sample_knowledge"]

DEMO_RELATIONS = ("USED_FOR_AUD", "xWANT")
N_SEARCH_BUY = 2
N_CO_BUY = 2
DEMO_PARAMS = GenerationParams(max_new_tokens=32, stop=("\n\n",))
SAMPLE_KNOWLEDGE = SAMPLE_DIR / "knowledge.csv"
"""Hand-written intentions of the bundled sample's search-buy pairs (sample data, like the
catalogue beside it; origin ``sample-knowledge``): refined like any other candidates."""


def sample_knowledge(catalogue: Path | None, pipeline_run: str = "demo") -> list[Candidate]:
    """The bundled sample's search-buy knowledge as candidates, titled from the catalogue."""
    got = import_candidates(SAMPLE_KNOWLEDGE, pipeline_run=pipeline_run)
    if got.rejects:
        raise got.rejects[0]
    if catalogue is None:
        return got.candidates
    import pandas as pd

    cat = pd.read_parquet(catalogue).drop_duplicates("product_id").set_index("product_id")
    fields = {"target_title": "title", "target_type": "product_type", "target_domain": "domain"}
    return [
        c.model_copy(update={k: cat.at[c.target, col] for k, col in fields.items()})
        if c.target in cat.index
        else c
        for c in got.candidates
    ]


def run(ctx: DemoContext[Any], generator: TextGenerator | None = None) -> None:
    """Generate for a few pairs, import FolkScope knowledge, write ``candidates``."""
    from cosmo.generation.hf import TransformersGenerator

    pairs = read_pairs(ctx.artifacts["pairs"])
    chosen = [p for p in pairs if p.behaviour == "search_buy"][:N_SEARCH_BUY]
    chosen += [p for p in pairs if p.behaviour == "co_buy"][:N_CO_BUY]
    gen = generator or TransformersGenerator(cache_dir=ctx.settings.cache_dir, batch_size=8)
    cfg = GenerateConfig(
        relations=DEMO_RELATIONS, params=DEMO_PARAMS, batch_size=8, pipeline_run="demo"
    )
    with GenerationCache(ctx.settings.cache_dir / "generation.sqlite") as cache:
        report = run_generation(chosen, gen, cache, cfg, console=ctx.console)
    candidates = list(report.candidates)
    counts = {f"generated_{k}": v for k, v in report.counts.items()}
    # the sample's search-buy knowledge (query + purchased product → intention), first so
    # the refine stage's cap never cuts it
    sample = sample_knowledge(ctx.artifacts.get("catalogue"))
    candidates = sample + candidates
    counts["sample_knowledge"] = len(sample)

    if ctx.shared_data is not None:
        # FolkScope's knowledge about every ingested co-buy pair (not only the sampled ones)
        import pandas as pd

        co_buy = pd.read_parquet(ctx.artifacts["co_buy"]) if "co_buy" in ctx.artifacts else None
        wanted = {
            pair_key(p.behaviour, p.source, p.target) for p in pairs if p.behaviour == "co_buy"
        }
        if co_buy is not None and {"product_a", "product_b"} <= set(co_buy.columns):
            wanted |= {
                pair_key("co_buy", a, b)
                for a, b in zip(
                    co_buy["product_a"].astype(str), co_buy["product_b"].astype(str), strict=True
                )
            }
        folk = import_intentionqa(
            ctx.shared_data / "intentionqa" / "task1.jsonl", pipeline_run="demo"
        )
        imported = [
            c for c in folk.candidates if pair_key(c.behaviour, c.source, c.target) in wanted
        ]
        candidates += imported
        counts["imported_folkscope"] = len(imported)
    manifest = Manifest.for_stage(
        "generate.demo",
        parameters={
            "relations": list(DEMO_RELATIONS),
            "model": gen.model_name,
            **DEMO_PARAMS.as_dict(),
        },
        inputs={"pairs": ctx.artifacts["pairs"]},
        counts={**counts, "candidates": len(candidates)},
        notes=report.notes,
    )
    path = write_candidates(candidates, ctx.workdir / "generation" / "candidates.parquet", manifest)
    ctx.artifacts["candidates"] = path
    ctx.count(
        "generation",
        candidates=len(candidates),
        generated=report.counts["candidates"],
        imported=counts.get("imported_folkscope", 0),
        sample_knowledge=len(sample),
    )
    ctx.console.print(
        f"{report.counts['candidates']} candidates from {gen.model_name} on {len(chosen)} pairs "
        f"(copy rate {report.notes['copy_rate']:.0%}), {counts.get('imported_folkscope', 0)} imported "
        f"from FolkScope, {len(sample)} from the sample's knowledge → {path}"
    )
    for c in report.candidates[:6]:
        ctx.console.print(
            f"  [dim]{c.source[:40]} → {c.target_title[:40] if c.target_title else c.target}[/] {c.relation}: {c.tail}"
        )
