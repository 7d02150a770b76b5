"""COSMO-LM: instruction data from annotations and behaviour, LoRA tuning, serving, evaluation.

Light to import: torch, transformers and peft load inside the functions that need them.
"""

from cosmo.refine.instruct.data import (
    TASKS,
    TEMPLATES,
    InstructExample,
    PairInWords,
    build_instructions,
    pairs_from_candidates,
    pairs_from_tables,
    read_examples,
    reference_labels,
    split_of,
    write_examples,
)
from cosmo.refine.instruct.evaluate import (
    YES_NO_TASKS,
    EvalResult,
    answer_logprobs,
    evaluate_adapter,
    yes_no_scores,
)
from cosmo.refine.instruct.serve import (
    PACKAGED_ADAPTER,
    LoRATransformersGenerator,
    adapter_base_model,
    adapter_generator,
    load_tuned,
    packaged_adapter_dir,
)
from cosmo.refine.instruct.settings import InstructSettings
from cosmo.refine.instruct.tune import TuneConfig, TuneResult, tune

__all__ = [
    "PACKAGED_ADAPTER",
    "TASKS",
    "TEMPLATES",
    "YES_NO_TASKS",
    "EvalResult",
    "InstructExample",
    "InstructSettings",
    "LoRATransformersGenerator",
    "PairInWords",
    "TuneConfig",
    "TuneResult",
    "adapter_base_model",
    "adapter_generator",
    "answer_logprobs",
    "build_instructions",
    "evaluate_adapter",
    "load_tuned",
    "packaged_adapter_dir",
    "pairs_from_candidates",
    "pairs_from_tables",
    "read_examples",
    "reference_labels",
    "split_of",
    "tune",
    "write_examples",
    "yes_no_scores",
]
