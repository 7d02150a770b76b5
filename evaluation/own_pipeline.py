"""IntentionQA with knowledge from cosmo's own pipeline, on products it has never seen.

The setting COSMO is about: a seeded sample of held-out co-buy pairs; the knowledge for
their products is *generated* (Gemma 3 270M by default, any
:class:`~cosmo.generation.base.TextGenerator`) and *refined* by cosmo itself, from the
product titles alone, never from the questions' options or gold answers; generation stops
when a CPU-time budget is spent (the pairs finished by then are the sample that is scored).

Two knowledge graphs, one per task, so neither leaks its answer:

* task 1 (which intention explains A + B): the pipeline on the co-buy pair A–B itself, as
  COSMO runs on behaviour data (the prompt holds the two titles only); every refined tail
  is linked to both products. No co-buy edge is added.
* task 2 (given A and the intention, which product is B): knowledge *per product* (A and
  every option), each from a prompt on that product alone (a search-buy pair whose query
  is the title), so the gold B is known exactly as well as the distractors and no
  knowledge ties B to A.

The scorer is the harness's learned scorer (:mod:`cosmo.evaluation.iqa_scorer`) trained
on questions of *other* pairs (their KG features from a KG of other training pairs, as in
cross-validation); the same held-out questions are then answered without KG, with the
pipeline's KG and with that KG's intention texts shuffled (the control), and compared by
an exact McNemar test on the paired answers.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table

from cosmo.core.embeddings import Embedder, TextVectors
from cosmo.core.errors import InputError
from cosmo.core.records import BehaviourPair, Candidate, KnowledgeTriple
from cosmo.core.schema import RELATION_TAIL_TYPES, Behaviour, intention_id
from cosmo.evaluation.intentionqa import accuracy, group_folds, kg_from_questions, query_text
from cosmo.evaluation.iqa_scorer import KGIndex, OptionScorer, features
from cosmo.generation.base import TextGenerator
from cosmo.ingest.intentionqa import Question, load_questions
from cosmo.kg.export import TABLE_COLUMNS, KGTables

__all__ = [
    "OwnPipelineResult",
    "PipelineKnowledge",
    "mcnemar_exact",
    "own_pipeline_eval",
    "own_pipeline_table",
    "pipeline_knowledge",
    "run_own_pipeline",
    "sample_pairs",
]

PAIR_RELATIONS = ("xWANT", "IS_A", "CAPABLE_OF", "USED_FOR_FUNC")
"""The four relations of most IntentionQA intentions (task 1's pair prompts)."""
PRODUCT_RELATIONS = ("IS_A", "USED_FOR_FUNC")
"""Task 2's per-product prompts: what the product is and what it is for."""


def sample_pairs(questions: Sequence[Question], n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` co-buy pairs of ``questions``, in a seeded order (the budget may use fewer)."""
    pairs = sorted({q.pair for q in questions})
    order = np.random.default_rng(seed).permutation(len(pairs))
    return [pairs[i] for i in order[:n]]


@dataclass
class PipelineKnowledge:
    """The pipeline's KG per task, and what producing it cost."""

    pairs: list[tuple[str, str]]  # the pairs finished within the budget
    kg: dict[int, KGTables]
    cpu_s: float = 0.0
    wall_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


def _product_id(title: str) -> str:
    return "t:" + hashlib.blake2b(title.encode(), digest_size=8).hexdigest()


Job = tuple[int, list[BehaviourPair], tuple[str, ...], dict[str, str]]


def _jobs(
    pair: tuple[str, str], by_pair: dict[int, dict[tuple[str, str], list[Question]]]
) -> list[Job]:
    """(task, behaviour pairs, relations, {product id: title}) of one sampled pair."""
    out: list[Job] = []
    q1 = by_pair[1].get(pair, [])
    if q1:
        q = q1[0]
        a, b, at, bt = q.item_a_id, q.item_b_id, q.item_a_name, q.item_b_name
        bp = BehaviourPair(behaviour="co_buy", source=a, target=b, source_title=at, target_title=bt)
        out.append((1, [bp], PAIR_RELATIONS, {a: at, b: bt}))
    titles: dict[str, str] = {}
    for q in by_pair[2].get(pair, []):
        titles[q.item_a_id] = q.item_a_name
        titles.update({_product_id(o): o for o in q.options})
    bps = [
        BehaviourPair(behaviour="search_buy", source=t[:500], target=pid, target_title=t)
        for pid, t in titles.items()
    ]
    if bps:  # one call: the products' prompts share batches
        out.append((2, bps, PRODUCT_RELATIONS, titles))
    return out


def pipeline_knowledge(
    questions: dict[int, Sequence[Question]],
    pairs: Sequence[tuple[str, str]],
    generator: TextGenerator,
    embedder: Embedder,
    *,
    cpu_budget_s: float,
    generate: Callable[[list[BehaviourPair], TextGenerator, tuple[str, ...]], list[Candidate]],
) -> PipelineKnowledge:
    """Generate (pair by pair, until ``cpu_budget_s`` of this process's CPU time is spent)
    and refine knowledge for ``pairs``. ``generate(pairs, generator, relations)`` returns
    the candidates (:func:`cosmo.generation.runner.run_generation`'s); the first pair is
    always done. Refinement: every filter stage but perplexity, then intention resolution."""
    from cosmo.refine.pipeline import refine

    by_pair: dict[int, dict[tuple[str, str], list[Question]]] = {1: {}, 2: {}}
    for task, qs in questions.items():
        for q in qs:
            by_pair[task].setdefault(q.pair, []).append(q)
    c0, w0 = time.process_time(), time.perf_counter()
    done: list[tuple[str, str]] = []
    cands: dict[int, list[Candidate]] = {1: [], 2: []}
    names: dict[int, dict[str, str]] = {1: {}, 2: {}}
    seen: set[str] = set()
    for pair in pairs:
        if done and time.process_time() - c0 >= cpu_budget_s:
            break
        for task, bps, rels, titles in _jobs(pair, by_pair):
            # a product already known (an option of several questions) is asked once
            new = [bp for bp in bps if bp.target not in names[2]] if task == 2 else bps
            got = generate(new, generator, rels) if new else []
            cands[task] += [c for c in got if c.candidate_id not in seen]
            seen.update(c.candidate_id for c in got)
            names[task].update(titles)
        done.append(pair)
    kg: dict[int, KGTables] = {}
    counts: dict[str, int] = {}
    for task in (1, 2):
        res = refine(cands[task], embedder=embedder, scorer=None) if cands[task] else None
        triples = res.triples if res else []
        counts[f"task{task}_candidates"] = len(cands[task])
        counts[f"task{task}_triples"] = len(triples)
        kg[task] = _tables(triples, names[task])
    return PipelineKnowledge(done, kg, time.process_time() - c0, time.perf_counter() - w0, counts)


def _tables(triples: Sequence[KnowledgeTriple], names: dict[str, str]) -> KGTables:
    """KG tables of refined triples: a co-buy triple links both products, a per-product
    (search-buy) triple its product; no co-buy edges."""
    intentions: dict[str, tuple[str, str]] = {}
    rows = []
    for t in triples:
        tt = t.tail_type or RELATION_TAIL_TYPES[t.relation]
        iid = t.intention_id or intention_id(t.tail, tt)
        intentions[iid] = (t.tail, tt)
        heads = (t.source, t.target) if t.behaviour == Behaviour.CO_BUY else (t.target,)
        rows += [
            ["Product", h, t.relation, iid, t.plausibility, None, t.frequency, [], None]
            for h in heads
        ]
    return KGTables.from_frames(
        "own-pipeline",
        products=pd.DataFrame(
            [[k, v, None, None, None] for k, v in names.items()],
            columns=["id", "title", "type", "domain", "brand"],
        ),
        intentions=pd.DataFrame(
            [[k, t, tt, []] for k, (t, tt) in intentions.items()],
            columns=["id", "text", "tail_type", "aliases"],
        ),
        co_buy=pd.DataFrame([], columns=["a", "b", "count"]),
        knowledge=pd.DataFrame(rows, columns=list(TABLE_COLUMNS["knowledge"])),
    )


def mcnemar_exact(right_a: Sequence[bool], right_b: Sequence[bool]) -> float:
    """Two-sided exact McNemar p-value of two methods' paired right/wrong answers."""
    from scipy.stats import binomtest

    a, b = np.asarray(right_a, bool), np.asarray(right_b, bool)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    if only_a + only_b == 0:
        return 1.0
    return float(binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue)


@dataclass
class OwnPipelineResult:
    """One task: accuracies of the same held-out questions, and the paired tests."""

    task: int
    questions: int
    pairs: int
    train_questions: int
    accuracy: dict[str, float]
    p_vs_no_kg: float
    p_vs_shuffled: float
    covered: float  # share of held-out questions whose products the pipeline KG knows


def _train_features(train: Sequence[Question], vectors: TextVectors, seed: int) -> list[np.ndarray]:
    """KG features of training questions from a KG of *other* training pairs (inner folds)."""
    xs: dict[int, np.ndarray] = {}
    for inner in group_folds(train, 5, seed=seed + 1):
        held = set(inner.tolist())
        kg = KGIndex.from_tables(
            kg_from_questions([t for n, t in enumerate(train) if n not in held])
        )
        xs.update({int(n): features(train[n], vectors, kg) for n in inner})
    return [xs[n] for n in range(len(train))]


def own_pipeline_eval(
    questions: Sequence[Question],
    vectors: TextVectors,
    knowledge: PipelineKnowledge,
    *,
    train_limit: int | None = None,
    seed: int = 0,
) -> OwnPipelineResult:
    """No KG, the pipeline's KG and its shuffled control on the sampled pairs' questions."""
    task = questions[0].task
    held = set(knowledge.pairs)
    test = [q for q in questions if q.pair in held]
    train = [q for q in questions if q.pair not in held]
    if train_limit is not None and len(train) > train_limit:
        pick = np.random.default_rng(seed).choice(len(train), train_limit, replace=False)
        train = [train[i] for i in sorted(pick)]
    kg_tables = knowledge.kg[task]
    vectors.add(
        [
            x
            for q in [*train, *test]
            for x in (q.item_a_name, q.item_b_name, q.intention, query_text(q), *q.options)
        ]
        + [str(t) for t in kg_tables.intentions["text"]]
    )
    xs = _train_features(train, vectors, seed)
    golds = [q.gold for q in train]
    with_kg = OptionScorer(use_kg=True, seed=seed).fit(xs, golds)
    no_kg = OptionScorer(use_kg=False, seed=seed).fit(xs, golds)
    own = KGIndex.from_tables(kg_tables)
    shuffled = KGIndex.from_tables(kg_tables, shuffle_seed=seed)
    x_own = [features(q, vectors, own) for q in test]
    x_shuf = [features(q, vectors, shuffled) for q in test]
    preds = {
        "no KG": no_kg.predict(x_own),
        "own-pipeline KG": with_kg.predict(x_own),
        "shuffled own-pipeline KG": with_kg.predict(x_shuf),
    }
    right = {k: [int(p) == q.gold for q, p in zip(test, v, strict=True)] for k, v in preds.items()}
    return OwnPipelineResult(
        task=task,
        questions=len(test),
        pairs=len({q.pair for q in test}),
        train_questions=len(train),
        accuracy={k: accuracy(test, v) for k, v in preds.items()},
        p_vs_no_kg=mcnemar_exact(right["own-pipeline KG"], right["no KG"]),
        p_vs_shuffled=mcnemar_exact(right["own-pipeline KG"], right["shuffled own-pipeline KG"]),
        covered=float(np.mean([own.knows(q) for q in test])) if test else float("nan"),
    )


def run_own_pipeline(
    data: Path,
    *,
    pairs: int,
    cpu_minutes: float,
    cache_dir: Path,
    train_limit: int | None = 600,
    seed: int = 0,
    generator: TextGenerator | None = None,
    embedder: Embedder | None = None,
    max_new_tokens: int = 48,
) -> tuple[PipelineKnowledge, list[OwnPipelineResult]]:
    """The whole setting: sample, generate (Gemma 3 270M unless ``generator``) within the
    budget, refine, score both tasks. Completions are cached under ``cache_dir``."""
    from cosmo.core.embeddings import SentenceTransformerEmbedder
    from cosmo.generation.base import GenerationParams
    from cosmo.generation.cache import GenerationCache
    from cosmo.generation.hf import TransformersGenerator
    from cosmo.generation.runner import GenerateConfig, run_generation

    for task in (1, 2):
        if not (data / f"task{task}.jsonl").exists():
            raise InputError(f"IntentionQA task{task}.jsonl not found; pass --data", file=str(data))
    qs = {t: load_questions(data / f"task{t}.jsonl") for t in (1, 2)}
    gen = generator or TransformersGenerator(cache_dir=cache_dir)
    emb = embedder or SentenceTransformerEmbedder()
    cache = GenerationCache(cache_dir / "evaluation" / "own_pipeline_generations.sqlite").open()
    params = GenerationParams(max_new_tokens=max_new_tokens, stop=("\n\n",))

    def generate(
        bps: list[BehaviourPair], g: TextGenerator, rels: tuple[str, ...]
    ) -> list[Candidate]:
        cfg = GenerateConfig(relations=rels, params=params, pipeline_run="own-pipeline")
        return run_generation(bps, g, cache, cfg).candidates

    try:
        sample = sample_pairs(qs[1], pairs, seed)
        know = pipeline_knowledge(
            qs, sample, gen, emb, cpu_budget_s=cpu_minutes * 60, generate=generate
        )
    finally:
        cache.close()
    vectors = TextVectors(emb)
    results = [
        own_pipeline_eval(qs[t], vectors, know, train_limit=train_limit, seed=seed) for t in (1, 2)
    ]
    return know, results


def own_pipeline_table(know: PipelineKnowledge, results: Sequence[OwnPipelineResult]) -> Table:
    """Both tasks side by side: accuracies, questions, pairs, exact McNemar p-values."""
    title = (
        f"IntentionQA, own-pipeline knowledge: {len(know.pairs)} held-out pairs, "
        f"generation + refinement {know.cpu_s / 60:.1f} CPU-min ({know.wall_s / 60:.1f} min wall)"
    )
    table = Table(title=title)
    table.add_column("method / measure")
    for r in results:
        table.add_column(f"task {r.task}", justify="right")
    for name in results[0].accuracy:
        table.add_row(f"learned scorer, {name}", *(f"{r.accuracy[name]:.3f}" for r in results))
    table.add_row("questions (pairs)", *(f"{r.questions} ({r.pairs})" for r in results))
    table.add_row("training questions (other pairs)", *(str(r.train_questions) for r in results))
    table.add_row("covered by the pipeline KG", *(f"{r.covered:.2f}" for r in results))
    table.add_row("McNemar exact p, own vs no KG", *(f"{r.p_vs_no_kg:.3f}" for r in results))
    table.add_row("McNemar exact p, own vs shuffled", *(f"{r.p_vs_shuffled:.3f}" for r in results))
    table.add_row(
        "candidates -> refined triples",
        *(
            f"{know.counts[f'task{r.task}_candidates']} -> {know.counts[f'task{r.task}_triples']}"
            for r in results
        ),
    )
    return table
