"""``cosmo instruct``: build instruction data, LoRA-tune COSMO-LM, evaluate it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cosmo.core.clitools import console, settings_of

__all__ = ["register"]

instruct_app = typer.Typer(
    help="COSMO-LM: build instruction data, LoRA-tune, evaluate.", no_args_is_help=True
)


@instruct_app.command("build")
def build_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="Output JSONL (a manifest is written beside it)")],
    db: Annotated[
        Path | None, typer.Option(help="Annotation store (default: the state dir's)")
    ] = None,
    intentionqa: Annotated[
        Path | None, typer.Option(help="Add IntentionQA task1.jsonl with reference labels")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="IntentionQA lines to use")] = None,
    catalogue: Annotated[
        Path | None, typer.Option(help="Catalogue table for behaviour pairs")
    ] = None,
    search_buy: Annotated[
        Path | None, typer.Option(help="Search-buy table (query, product_id)")
    ] = None,
    co_buy: Annotated[Path | None, typer.Option(help="Co-buy table (product_a, product_b)")] = None,
    heldout: Annotated[float, typer.Option(help="Share of pairs held out for evaluation")] = 0.2,
    seed: int = 0,
) -> None:
    """Instruction examples of five tasks from annotations (and reference labels) and behaviour."""
    from collections import Counter

    from cosmo.core.errors import InputError
    from cosmo.refine.annotation.review import final_labels
    from cosmo.refine.annotation.settings import AnnotationSettings
    from cosmo.refine.annotation.store import AnnotationStore
    from cosmo.refine.instruct.data import (
        build_instructions,
        pairs_from_candidates,
        pairs_from_tables,
        reference_labels,
        write_examples,
    )
    from cosmo.refine.intentionqa import intentionqa_candidates

    path = db or AnnotationSettings().db_path(settings_of(ctx))
    candidates, labels = [], {}
    if path.exists():
        store = AnnotationStore(path)
        candidates = store.candidates()
        labels = dict(final_labels(store))
    if intentionqa is not None:
        iqa = intentionqa_candidates(intentionqa, limit_rows=limit, tails="sentence")
        ref = reference_labels(iqa)
        known = {c.candidate_id for c in candidates}
        candidates += [c for c in iqa if c.candidate_id not in known]
        labels = {**ref, **labels}  # human labels win
    if not candidates:
        raise InputError(f"no annotations in {path} and no --intentionqa: nothing to build from")
    pairs = pairs_from_candidates(candidates)
    if catalogue is not None:
        pairs += pairs_from_tables(catalogue, search_buy, co_buy)
    examples = build_instructions(candidates, labels, pairs, seed=seed, heldout=heldout)
    write_examples(
        examples, out, seed=seed, heldout=heldout, db=str(path), intentionqa=str(intentionqa)
    )
    counts = Counter(f"{e.task}/{e.split}" for e in examples)
    console.print(
        f"wrote {len(examples)} examples to {out}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )


@instruct_app.command("tune")
def tune_cmd(
    data: Annotated[Path, typer.Argument(help="Instruction JSONL from `cosmo instruct build`")],
    out: Annotated[Path, typer.Argument(help="Adapter folder to write")],
    base_model: Annotated[
        str | None, typer.Option(help="Default gemma3-270m (COSMO_INSTRUCT_BASE_MODEL)")
    ] = None,
    max_steps: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option()] = None,
    r: Annotated[int | None, typer.Option(help="LoRA rank")] = None,
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda, cuda:1 (default: cuda if available)")
    ] = None,
    minutes: Annotated[
        float | None, typer.Option(help="Stop after this much time (the adapter is saved)")
    ] = None,
    checkpoint_every: Annotated[
        int, typer.Option(help="Save the adapter every N steps (0: only at the end)")
    ] = 0,
    resume: Annotated[
        bool, typer.Option(help="Continue the run checkpointed in OUT up to --max-steps")
    ] = False,
) -> None:
    """LoRA-tune the base model on the train split; saves the adapter."""
    from cosmo.refine.instruct.data import read_examples
    from cosmo.refine.instruct.settings import InstructSettings
    from cosmo.refine.instruct.tune import TuneConfig, tune

    s = InstructSettings()
    cfg = TuneConfig(
        r=r or s.r,
        alpha=2 * (r or s.r) if r else s.alpha,
        lr=lr or s.lr,
        max_steps=max_steps or s.max_steps,
        batch_size=batch_size or s.batch_size,
        grad_accum=s.grad_accum,
        max_length=s.max_length,
        device=device or s.device,
        checkpoint_every=checkpoint_every,
        time_budget_s=minutes * 60 if minutes else None,
    )
    res = tune(read_examples(data), base_model or s.base_model, out, cfg, resume=resume)
    console.print(
        f"adapter in {res.adapter_dir}: {res.steps} steps on {res.examples} examples, "
        f"{res.seconds_per_step:.1f} s/step, loss {res.losses[0]:.3f} → {res.losses[-1]:.3f}"
    )


@instruct_app.command("eval")
def eval_cmd(
    data: Annotated[Path, typer.Argument(help="Instruction JSONL (its held-out split is used)")],
    adapter: Annotated[Path, typer.Argument(help="Adapter folder from `cosmo instruct tune`")],
    limit: Annotated[int | None, typer.Option(help="Held-out examples per task")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    device: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Tuned vs untuned: accuracy and AUC of yes/no answers on held-out examples."""
    from rich.table import Table

    from cosmo.refine.instruct.data import read_examples
    from cosmo.refine.instruct.evaluate import evaluate_adapter

    res = evaluate_adapter(read_examples(data), adapter, limit_per_task=limit, device=device)
    if as_json:
        console.print_json(json.dumps([r.as_dict() for r in res]))
        return
    t = Table(title="COSMO-LM on held-out examples (score = logit yes − logit no)")
    for c in ("task", "n", "acc base", "acc tuned", "AUC base", "AUC tuned"):
        t.add_column(c)
    for r in res:
        t.add_row(
            r.task,
            str(r.n),
            f"{r.base_accuracy:.3f}",
            f"{r.tuned_accuracy:.3f}",
            *(f"{v:.3f}" if v is not None else "-" for v in (r.base_auc, r.tuned_auc)),
        )
    console.print(t)


def register(app: typer.Typer) -> None:
    """Add ``cosmo instruct`` to the root app."""
    app.add_typer(instruct_app, name="instruct")
