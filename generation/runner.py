"""Generate candidate tails for behaviour pairs: prompts → generator → parse → filter → Parquet.

For every pair × relation the runner renders a prompt, looks the completion up in the
:class:`~cosmo.generation.cache.GenerationCache`, generates the misses in batches (storing
each batch as soon as it is done, so a crash loses at most one batch), parses the numbered
lists, drops tails copied from the prompt's few-shot examples, and returns
:class:`~cosmo.core.records.Candidate` rows with counts and notes for the manifest of
``candidates.parquet`` (:func:`cosmo.core.artifacts.write_candidates`).

The manifest's ``notes.copy_rate`` is the share of parsed tails that repeated a few-shot
answer of their own prompt (they are dropped); ``notes.prompts_with_copy_rate`` is the
share of prompts whose completion contained at least one such copy.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cosmo.core.records import BehaviourPair, Candidate
from cosmo.core.schema import RELATIONS, Behaviour, normalise_text
from cosmo.generation.base import Generation, GenerationParams, TextGenerator
from cosmo.generation.cache import GenerationCache, cache_key
from cosmo.generation.parsing import drop_copied, parse_numbered
from cosmo.generation.prompts import DEFAULT_TEMPLATE_VERSION, Prompt, load_templates

__all__ = [
    "DEFAULT_PARAMS",
    "GenerateConfig",
    "GenerationReport",
    "candidate_id",
    "run_generation",
]

DEFAULT_PARAMS = GenerationParams(max_new_tokens=48, stop=("\n\n",))


@dataclass(frozen=True)
class GenerateConfig:
    """What to ask and how."""

    relations: tuple[str, ...] = RELATIONS
    shots: int = 2
    template_version: str = DEFAULT_TEMPLATE_VERSION
    params: GenerationParams = DEFAULT_PARAMS
    batch_size: int = 8
    pipeline_run: str = "generate"


@dataclass
class GenerationReport:
    """What a run did."""

    candidates: list[Candidate] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


def candidate_id(
    behaviour: str, source: str, target: str, relation: str, tail: str, model: str, prompt: str
) -> str:
    """Stable hash of (pair, relation, tail, model, prompt version)."""
    blob = "\x1f".join((behaviour, source, target, relation, normalise_text(tail), model, prompt))
    return hashlib.blake2b(blob.encode(), digest_size=12).hexdigest()


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]generate"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tps]:.1f} tok/s"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _generate_missing(
    prompts: list[Prompt],
    generator: TextGenerator,
    cache: GenerationCache,
    cfg: GenerateConfig,
    report: GenerationReport,
    console: Console | None,
) -> dict[str, Generation]:
    keys = [
        cache_key(cfg.template_version, generator.model_name, cfg.params, p.text) for p in prompts
    ]
    done = cache.get_many(keys)
    report.count("cache_hits", len(done))
    todo = [(k, p) for k, p in zip(keys, prompts, strict=True) if k not in done]
    todo = list({k: (k, p) for k, p in todo}.values())  # identical prompts once
    tokens, seconds = 0, 0.0
    with _progress(console) as bar:
        task = bar.add_task("generate", total=len(todo), tps=0.0)
        for i in range(0, len(todo), cfg.batch_size):
            chunk = todo[i : i + cfg.batch_size]
            t0 = time.perf_counter()
            gens = generator.generate([p.text for _, p in chunk], cfg.params)
            seconds += time.perf_counter() - t0
            tokens += sum(g.completion_tokens for g in gens)
            cache.put_many(
                [(k, g) for (k, _), g in zip(chunk, gens, strict=True)],
                cfg.template_version,
                generator.model_name,
                cfg.params,
            )
            done.update({k: g for (k, _), g in zip(chunk, gens, strict=True)})
            bar.update(task, advance=len(chunk), tps=tokens / seconds if seconds else 0.0)
    report.count("generated", len(todo))
    report.notes["completion_tokens"] = tokens
    report.notes["generate_seconds"] = round(seconds, 2)
    report.notes["tokens_per_second"] = round(tokens / seconds, 2) if seconds else None
    return {p.text: done[k] for k, p in zip(keys, prompts, strict=True)}


def run_generation(
    pairs: Sequence[BehaviourPair],
    generator: TextGenerator,
    cache: GenerationCache,
    config: GenerateConfig | None = None,
    console: Console | None = None,
) -> GenerationReport:
    """Generate candidates for every pair × relation (see the module docstring)."""
    cfg = config or GenerateConfig()
    templates = load_templates(cfg.template_version)
    report = GenerationReport()
    jobs = [
        (pair, templates.render(pair, r, shots=cfg.shots)) for pair in pairs for r in cfg.relations
    ]
    report.count("pairs", len(pairs))
    report.count("prompts", len(jobs))
    by_text = _generate_missing([p for _, p in jobs], generator, cache, cfg, report, console)
    params_json = json.dumps(cfg.params.as_dict(), sort_keys=True)
    parsed_total = copied_total = prompts_with_copy = 0
    copied_examples: dict[str, int] = {}
    for pair, prompt in jobs:
        gen = by_text[prompt.text]
        parsed = parse_numbered(gen.text, truncated=gen.finish_reason == "length")
        for reason, n in parsed.dropped.items():
            report.count(f"dropped_{reason}", n)
        kept, copied = drop_copied(parsed.tails, prompt.example_tails)
        parsed_total += len(parsed.tails)
        copied_total += len(copied)
        prompts_with_copy += bool(copied)
        for c in copied:
            copied_examples[normalise_text(c)] = copied_examples.get(normalise_text(c), 0) + 1
        if not kept:
            report.count("prompts_without_tails")
        for tail in kept:
            report.candidates.append(
                Candidate(
                    candidate_id=candidate_id(
                        pair.behaviour,
                        pair.source,
                        pair.target,
                        prompt.relation,
                        tail,
                        generator.model_name,
                        prompt.version,
                    ),
                    behaviour=Behaviour(pair.behaviour),
                    source=pair.source,
                    target=pair.target,
                    source_title=pair.source_title,
                    target_title=pair.target_title,
                    target_type=pair.target_type,
                    target_domain=pair.target_domain,
                    relation=prompt.relation,
                    tail=tail,
                    raw_output="1." + gen.text,
                    prompt_version=prompt.version,
                    model=generator.model_name,
                    params=params_json,
                    origin="generated",
                    pipeline_run=cfg.pipeline_run,
                )
            )
    report.count("tails_parsed", parsed_total)
    report.count("dropped_copied_from_examples", copied_total)
    report.count("candidates", len(report.candidates))
    report.notes["copy_rate"] = round(copied_total / parsed_total, 4) if parsed_total else 0.0
    report.notes["prompts_with_copy_rate"] = (
        round(prompts_with_copy / len(jobs), 4) if jobs else 0.0
    )
    report.notes["most_copied"] = dict(sorted(copied_examples.items(), key=lambda kv: -kv[1])[:10])
    return report
