"""LoRA fine-tuning of a causal LM on instruction examples (peft), on CPU or GPU.

The loss is on the answer tokens only (the prompt is masked). The adapter is saved with
``save_pretrained`` plus ``cosmo-instruct.json`` (base model, settings, loss curve) and a
manifest, so :func:`cosmo.refine.instruct.serve.load_tuned` can load it again.

CPU smoke run (tests): Gemma 3 270M, batch 2, 2 steps, ~5 s a step on two cores.
GPU: see the README (bf16, batch 32, r=16, lr 2e-4, a few thousand steps).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cosmo.core.errors import ModelError, PipelineError
from cosmo.core.manifest import Manifest
from cosmo.core.models import resolve_model
from cosmo.refine.instruct.data import InstructExample

__all__ = ["ADAPTER_INFO", "TuneConfig", "TuneResult", "load_base", "logits_at", "tune"]

ADAPTER_INFO = "cosmo-instruct.json"
OPTIMIZER_STATE = "optimizer.pt"


def _check_resumable(out_dir: Path, base_model: str) -> None:
    """Refuse (before any model loads) to resume a checkpoint of another base model."""
    info_path = Path(out_dir) / ADAPTER_INFO
    if info_path.exists():
        was = json.loads(info_path.read_text()).get("base_model")
        if was != base_model:
            raise PipelineError(f"cannot resume {out_dir}: tuned from {was!r}, not {base_model!r}")


def _resume(model: Any, opt: Any, sched: Any, out_dir: Path) -> tuple[list[float], float]:
    """Load the checkpoint in ``out_dir`` into the model (and optimiser); return its loss
    curve and seconds so far (nothing to resume: an empty curve)."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    info_path, weights = out_dir / ADAPTER_INFO, out_dir / "adapter_model.safetensors"
    if not (info_path.exists() and weights.exists()):
        return [], 0.0
    info = json.loads(info_path.read_text())
    set_peft_model_state_dict(model, load_file(str(weights)))
    state = out_dir / OPTIMIZER_STATE
    if state.exists():
        saved = torch.load(state, map_location="cpu", weights_only=True)
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])
    return [float(x) for x in info.get("losses", [])], float(info.get("seconds", 0.0))


@dataclass(frozen=True)
class TuneConfig:
    """LoRA and optimiser settings (defaults suit a CPU smoke run; see the README for GPUs)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_steps: int = 2
    batch_size: int = 2
    grad_accum: int = 1
    max_length: int = 256
    seed: int = 0
    device: str | None = None  # None: cuda when available, else cpu
    bf16: bool | None = None  # None: bf16 on cuda
    checkpoint_every: int = 0  # save the adapter every N steps (0: only at the end)
    time_budget_s: float | None = None  # stop early (and save) after this many seconds


@dataclass
class TuneResult:
    adapter_dir: Path
    steps: int
    examples: int
    seconds: float
    losses: list[float] = field(default_factory=list)

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(self.steps, 1)


def _device(cfg: TuneConfig) -> str:
    import torch

    return cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")


def load_base(model: str, device: str, *, bf16: bool = False) -> tuple[Any, Any]:
    """Tokenizer and causal LM from a local folder or Hugging Face name (offline-friendly)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model)
        lm = AutoModelForCausalLM.from_pretrained(
            model,
            dtype=torch.bfloat16 if bf16 else torch.float32,
            attn_implementation="eager",
        )
    except Exception as e:
        raise ModelError(f"cannot load the causal LM {model!r}: {e}") from e
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    lm = lm.to(device)  # type: ignore[arg-type]
    return tok, lm


def logits_at(model: Any, ids: Any, mask: Any, rows: Any, cols: Any) -> Any:
    """Next-token logits at the chosen (row, column) positions only.

    Runs the decoder, then the output head on just those positions: with Gemma's 262k
    vocabulary the full logits tensor would cost more than the rest of the step. Falls
    back to the full forward for models without ``get_decoder``.
    """
    import torch

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        decoder = inner.get_decoder()
        head = inner.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        decoder = head = None
    if decoder is None or head is None:
        return model(input_ids=ids, attention_mask=mask).logits[rows, cols].float()
    hidden = decoder(input_ids=ids, attention_mask=mask).last_hidden_state[rows, cols]
    logits = head(hidden).float()
    cap = getattr(inner.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def encode(tok: Any, ex: InstructExample, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (prompt masked with -100) of one example, prompt cut on the left."""
    prompt = tok(ex.prompt, add_special_tokens=True)["input_ids"]
    answer = tok(" " + ex.answer, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    answer = answer[: max_length // 2]
    keep = max_length - len(answer)
    if len(prompt) > keep:
        prompt = prompt[:1] + prompt[len(prompt) - keep + 1 :]
    return prompt + answer, [-100] * len(prompt) + answer


def _lora(base_model: str, device: str, bf16: bool, cfg: TuneConfig) -> tuple[Any, Any]:
    """The tokenizer and the base model with trainable LoRA adapters."""
    from peft import LoraConfig, get_peft_model

    tok, model = load_base(base_model, device, bf16=bf16)
    lora = LoraConfig(
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.train()
    return tok, model


class _Batches:
    """Training examples in shuffled rounds, as padded tensors on the device."""

    def __init__(
        self, encoded: list[tuple[list[int], list[int]]], pad: int, cfg: TuneConfig, device: str
    ) -> None:
        self.encoded, self.pad, self.cfg, self.device = encoded, pad, cfg, device
        self.rng = random.Random(cfg.seed)
        self.order: list[int] = []

    def _take(self) -> list[int]:
        if len(self.order) < self.cfg.batch_size:
            more = list(range(len(self.encoded)))
            self.rng.shuffle(more)
            self.order += more
        return [self.order.pop() for _ in range(self.cfg.batch_size)]

    def skip(self, n: int) -> None:
        """Pass over ``n`` batches (a resumed run sees the batches it would have seen)."""
        for _ in range(n):
            self._take()

    def next(self) -> tuple[Any, Any, Any]:
        import torch

        batch = [self.encoded[i] for i in self._take()]
        width = max(len(ids) for ids, _ in batch)
        pad, dev = self.pad, self.device
        ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in batch], device=dev)
        lab = torch.tensor([y + [-100] * (width - len(y)) for _, y in batch], device=dev)
        mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in batch], device=dev)
        return ids, lab, mask


def _step_loss(model: Any, batches: _Batches, cfg: TuneConfig, step: int) -> float:
    """Accumulate the gradients of ``grad_accum`` batches; return their summed loss."""
    import torch

    total = 0.0
    for _ in range(cfg.grad_accum):
        ids, lab, mask = batches.next()
        # position t predicts token t + 1: score only the answer tokens
        rows, cols = torch.nonzero(lab[:, 1:] != -100, as_tuple=True)
        logits = logits_at(model, ids, mask, rows, cols)
        loss = torch.nn.functional.cross_entropy(logits, lab[rows, cols + 1]) / cfg.grad_accum
        if not math.isfinite(loss.item()):
            raise PipelineError(
                f"the loss became {loss.item()} at step {step}; lower the learning rate"
            )
        loss.backward()
        total += loss.item()
    return total


def tune(
    examples: Sequence[InstructExample],
    base_model: str,
    out_dir: Path,
    config: TuneConfig | None = None,
    *,
    progress: bool = True,
    resume: bool = False,
    cache_dir: Path | None = None,
) -> TuneResult:
    """Fine-tune a LoRA adapter of ``base_model`` on the train split of ``examples``.

    ``base_model`` is recorded as given (a cosmo alias such as ``gemma3-270m`` stays the
    alias, so the adapter loads on any machine) and resolved to a local folder to load.

    ``resume=True`` continues the run checkpointed in ``out_dir`` (adapter weights, step
    count, loss curve, and the optimiser state when it was saved) up to ``max_steps``
    steps in all; without a checkpoint there it starts afresh.
    """
    import torch
    from tqdm.auto import tqdm

    cfg = config or TuneConfig()
    train = [e for e in examples if e.split == "train"]
    if not train:
        raise PipelineError("no training examples (split == 'train'); build instructions first")
    if resume:
        _check_resumable(out_dir, base_model)
    device = _device(cfg)
    bf16 = cfg.bf16 if cfg.bf16 is not None else device.startswith("cuda")
    torch.manual_seed(cfg.seed)
    tok, model = _lora(resolve_model(base_model, cache_dir), device, bf16, cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(cfg.warmup_steps, 1)) if cfg.warmup_steps else 1.0
    )
    batches = _Batches(
        [encode(tok, e, cfg.max_length) for e in train], tok.pad_token_id, cfg, device
    )
    out_dir = Path(out_dir)
    losses, before = _resume(model, opt, sched, out_dir) if resume else ([], 0.0)
    batches.skip(len(losses) * cfg.grad_accum)
    started = time.perf_counter()
    t0 = started - before  # seconds are counted over all runs
    bar = tqdm(total=cfg.max_steps, initial=len(losses), desc="LoRA steps", disable=not progress)
    for step in range(len(losses), cfg.max_steps):
        if cfg.time_budget_s is not None and time.perf_counter() - started > cfg.time_budget_s:
            break
        opt.zero_grad(set_to_none=True)
        total = _step_loss(model, batches, cfg, step)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(round(total, 5))
        bar.update(1)
        bar.set_postfix(loss=f"{total:.3f}")
        if cfg.checkpoint_every and len(losses) % cfg.checkpoint_every == 0:
            _save(model, out_dir, base_model, cfg, len(train), losses, t0, device, (opt, sched))
    bar.close()
    seconds = _save(model, out_dir, base_model, cfg, len(train), losses, t0, device, (opt, sched))
    return TuneResult(out_dir, len(losses), len(train), seconds, losses)


def _record_base(config_path: Path, base_model: str) -> None:
    """peft records the folder the base was loaded from; record the name it was given."""
    config = json.loads(config_path.read_text())
    config["base_model_name_or_path"] = base_model
    tmp = config_path.with_name(f".{config_path.name}.tmp")
    tmp.write_text(json.dumps(config, indent=2, sort_keys=True))
    tmp.replace(config_path)


def _save(
    model: Any,
    out_dir: Path,
    base_model: str,
    cfg: TuneConfig,
    n_train: int,
    losses: list[float],
    t0: float,
    device: str,
    optim: tuple[Any, Any] | None = None,
) -> float:
    """Save the adapter as it is after ``len(losses)`` steps (a checkpoint or the end),
    with the optimiser and scheduler state (``optimizer.pt``) for :func:`tune`'s resume."""
    import torch

    seconds = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    _record_base(out_dir / "adapter_config.json", base_model)
    if optim is not None:
        tmp_opt = out_dir / f".{OPTIMIZER_STATE}.tmp"
        torch.save({"opt": optim[0].state_dict(), "sched": optim[1].state_dict()}, tmp_opt)
        tmp_opt.replace(out_dir / OPTIMIZER_STATE)
    info = {
        "base_model": base_model,
        "config": asdict(cfg),
        "train_examples": n_train,
        "steps": len(losses),
        "losses": losses,
        "seconds": round(seconds, 2),
        "device": device,
    }
    tmp = out_dir / f".{ADAPTER_INFO}.tmp"
    tmp.write_text(json.dumps(info, indent=2))
    tmp.replace(out_dir / ADAPTER_INFO)
    m = Manifest(stage="instruct-tune", parameters={"base_model": base_model, **asdict(cfg)})
    m.count("train_examples", n_train)
    m.count("steps", len(losses))
    m.notes["losses"] = losses
    m.notes["seconds"] = round(seconds, 2)
    m.write(out_dir / "adapter_model.safetensors")
    return seconds
