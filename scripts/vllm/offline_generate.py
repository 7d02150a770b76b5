"""Generate with vLLM in-process (cosmo's VLLMGenerator) and print the result as JSON.

Run it with the vLLM venv's Python (``bash scripts/vllm/setup.sh`` builds it)::

    .venv-vllm/bin/python scripts/vllm/offline_generate.py --model PATH \\
        --prompt "A customer bought a tent because" --prompt "Sunscreen is used for"

``--prompts-file`` reads a JSON list of prompts instead. The output is one JSON object:
``{"model", "load_s", "generate_s", "generations": [{"text", "prompt_tokens",
"completion_tokens", "finish_reason"}, ...]}``. Tests and ``bench/generate.py`` call it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="model folder or Hugging Face name")
    ap.add_argument("--prompt", action="append", default=[], help="a prompt (repeatable)")
    ap.add_argument("--prompts-file", type=Path, help="JSON file with a list of prompts")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--top-p", type=float, default=0.9)
    ap.add_argument("--repetition-penalty", type=float, default=1.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stop", action="append", default=[], help="stop string (repeatable)")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--max-model-len", type=int, default=512)
    ap.add_argument(
        "--single-process",
        action="store_true",
        help="run vLLM's engine and worker in this process (starts faster; CPU tests)",
    )
    ap.add_argument("--output", type=Path, help="write the JSON here instead of stdout")
    ap.add_argument("--repeat", type=int, default=1, help="generate this many times (timing)")
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    engine_kwargs = {}
    if args.single_process:
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        engine_kwargs["distributed_executor_backend"] = "uni"

    from cosmo.core.errors import CosmoError
    from cosmo.generation.base import GenerationParams
    from cosmo.generation.vllm_offline import VLLMGenerator

    prompts = list(args.prompt)
    if args.prompts_file:
        prompts += json.loads(args.prompts_file.read_text(encoding="utf-8"))
    if not prompts:
        ap.error("give --prompt or --prompts-file")
    params = GenerationParams(
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        repetition_penalty=args.repetition_penalty,
        seed=args.seed,
        stop=tuple(args.stop),
    )
    try:
        gen = VLLMGenerator(
            args.model, dtype=args.dtype, max_model_len=args.max_model_len, **engine_kwargs
        )
        t0 = time.perf_counter()
        gen.load()
        load_s = time.perf_counter() - t0
        times = []
        for _ in range(max(1, args.repeat)):
            t1 = time.perf_counter()
            out = gen.generate(prompts, params)
            times.append(time.perf_counter() - t1)
    except CosmoError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    result = {
        "model": gen.model_name,
        "load_s": round(load_s, 3),
        "generate_s": [round(t, 3) for t in times],
        "generations": [asdict(g) for g in out],
    }
    if args.output:
        args.output.write_text(json.dumps(result), encoding="utf-8")
    else:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":  # vLLM spawns workers: build the engine only under this guard
    sys.exit(main())
