"""``cosmo pipeline run``: ingest → sample → generate (by block, resumable) → refine → triples.

Writes into ``out_dir``: ``ingest/`` (the validated inputs), ``pairs.parquet``,
``blocks/block-NNNNN.parquet`` (one per finished generation block, each with a manifest),
``candidates.parquet`` (every block, in block order) and what ``cosmo refine`` writes
(``triples.parquet``, the funnel report). Every file is written atomically with its
manifest last. A rerun into the same folder skips the finished blocks of the same job.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cosmo.core.artifacts import write_candidates
from cosmo.core.embeddings import Embedder
from cosmo.core.errors import InputError
from cosmo.core.manifest import Manifest
from cosmo.core.records import BehaviourPair
from cosmo.generation.runner import GenerateConfig
from cosmo.ingest.sampling import SampleConfig
from cosmo.pipeline.blocks import (
    BlockJob,
    clean_partial,
    finished_blocks,
    gather_blocks,
    job_fingerprint,
    make_blocks,
)
from cosmo.pipeline.engines import Engine
from cosmo.pipeline.storage import Remote, fetch_input, local_or_remote
from cosmo.refine.settings import RefineSettings

__all__ = ["PipelineReport", "PipelineSpec", "run_pipeline"]


@dataclass
class PipelineSpec:
    """One job: its inputs, output folder and the settings of every stage."""

    out_dir: Path | str  # a folder or any fsspec URL (see pipeline.storage)
    generation: dict[str, Any]  # GenerationSettings, dumped
    config: GenerateConfig
    intentionqa: Path | str | None = None
    catalogue: Path | str | None = None
    search_buy: Path | str | None = None
    co_buy: Path | str | None = None
    sample: SampleConfig = field(default_factory=SampleConfig)
    block_size: int = 4
    refine: RefineSettings = field(default_factory=RefineSettings)
    use_perplexity: bool = True
    cache_dir: Path | None = None


@dataclass
class PipelineReport:
    counts: dict[str, int] = field(default_factory=dict)
    paths: dict[str, Path | str] = field(default_factory=dict)  # URLs for a remote --out
    cleaned: list[str] = field(default_factory=list)


def _local_inputs(spec: PipelineSpec, work: Path) -> PipelineSpec:
    """The spec with every input a local path (remote inputs downloaded into ``work``)."""
    return replace(
        spec,
        out_dir=work,
        intentionqa=fetch_input(spec.intentionqa, "--intentionqa", work),
        catalogue=fetch_input(spec.catalogue, "--catalogue", work),
        search_buy=fetch_input(spec.search_buy, "--search-buy", work),
        co_buy=fetch_input(spec.co_buy, "--co-buy", work),
    )


def _ingest_and_sample(spec: PipelineSpec) -> tuple[list[BehaviourPair], Path]:
    from cosmo.ingest.adapters import read_intentionqa
    from cosmo.ingest.pipeline import ingest_files, read_artifacts, write_loaded
    from cosmo.ingest.sampling import sample_pairs, write_sample

    assert isinstance(spec.out_dir, Path)
    ingest_dir = spec.out_dir / "ingest"
    if (spec.intentionqa is None) == (spec.catalogue is None):
        raise InputError("give exactly one input: --intentionqa task1.jsonl or --catalogue FILE")
    if spec.intentionqa is not None:
        a = read_intentionqa(spec.intentionqa)
        res = write_loaded(
            ingest_dir, a.catalogue, co_buy=a.co_buy, params={"adapter": "intentionqa"}
        )
    else:
        assert spec.catalogue is not None
        sb_in, cb_in = (Path(p) if p else None for p in (spec.search_buy, spec.co_buy))
        res = ingest_files(Path(spec.catalogue), ingest_dir, sb_in, cb_in)
    products, sb, cb = read_artifacts(
        res.paths["catalogue"], res.paths.get("search_buy"), res.paths.get("co_buy")
    )
    sampled = sample_pairs(products, sb, cb, spec.sample)
    path = write_sample(sampled, spec.out_dir / "pairs.parquet", spec.sample, dict(res.paths))
    return sampled.pairs, path


def run_pipeline(
    spec: PipelineSpec,
    engine: Engine,
    *,
    embedder: Embedder,
    log: Callable[[str], None] = lambda _m: None,
) -> PipelineReport:
    """Run the job (see the module docstring); the engine runs the generation blocks.

    ``spec.out_dir`` and the inputs may be fsspec URLs: then the job works in a local
    scratch folder and the URL holds the finished blocks and, at the end, every output.
    """
    out = local_or_remote(spec.out_dir, "--out")  # a bad URL fails here, nothing written
    engine.start()  # an engine that cannot start fails here, before anything is written
    if isinstance(out, Path):
        return _run(_local_inputs(spec, out), engine, None, embedder, log)
    with tempfile.TemporaryDirectory(prefix="cosmo-pipeline-") as scratch:
        report = _run(_local_inputs(spec, Path(scratch)), engine, out, embedder, log)
        out.put_tree(Path(scratch), skip=("blocks", "inputs"))
    report.paths = {k: out.child(Path(p).name).url for k, p in report.paths.items()}
    return report


def _run(
    spec: PipelineSpec,
    engine: Engine,
    remote: Remote | None,
    embedder: Embedder,
    log: Callable[[str], None],
) -> PipelineReport:
    from cosmo.refine.run import run_refine

    out = Path(spec.out_dir)
    report = PipelineReport()
    pairs, pairs_path = _ingest_and_sample(spec)
    blocks = make_blocks(pairs, spec.block_size)
    fingerprint = job_fingerprint(pairs, spec.generation, spec.config, spec.block_size)
    blocks_dir = out / "blocks"
    blocks_dir.mkdir(parents=True, exist_ok=True)
    remote_blocks = remote.child("blocks") if remote else None
    if remote_blocks:  # the remote's finished blocks are the ones that count
        report.cleaned = remote_blocks.pull_finished(blocks_dir)
    report.cleaned += clean_partial(blocks_dir)
    done = finished_blocks(blocks_dir, len(blocks), fingerprint)
    todo = [(i, b) for i, b in enumerate(blocks) if i not in done]
    log(f"{len(pairs)} pairs in {len(blocks)} blocks; {len(done)} finished, {len(todo)} to do")
    cache = str(spec.cache_dir) if spec.cache_dir else None
    job = BlockJob(str(blocks_dir), spec.generation, spec.config, fingerprint, cache, remote_blocks)
    generated: dict[int, int] = {}

    def on_done(index: int, n: int) -> None:
        generated[index] = n
        log(f"block {index}: {n} candidates ({len(done) + len(generated)}/{len(blocks)})")

    engine.generate(todo, job, on_done)
    if remote_blocks:  # blocks that workers on other nodes wrote
        remote_blocks.pull_finished(blocks_dir)
    candidates = gather_blocks(blocks_dir, len(blocks))
    report.counts = {
        "pairs": len(pairs),
        "blocks": len(blocks),
        "blocks_skipped": len(done),
        "blocks_generated": len(generated),
        "candidates": len(candidates),
    }
    manifest = Manifest.for_stage(
        "pipeline.generate",
        parameters={"engine": engine.name, "job": fingerprint, "block_size": spec.block_size},
        inputs={"pairs": pairs_path},
        counts=report.counts,
    )
    cand_path = write_candidates(candidates, out / "candidates.parquet", manifest)
    result, paths = run_refine(
        candidates,
        out,
        embedder=embedder,
        settings=spec.refine,
        cache_dir=spec.cache_dir,
        use_perplexity=spec.use_perplexity,
        inputs={"candidates": cand_path},
        runner=engine.stage_runner(spec.refine.device),
    )
    report.counts["triples"] = len(result.triples)
    report.paths = {"pairs": pairs_path, "candidates": cand_path, **paths}
    return report
