"""Every ``COSMO_*`` environment variable must mean something: a typo must not pass silently.

Each part of cosmo reads its settings from ``COSMO_<PREFIX>_<FIELD>`` variables
(pydantic-settings), and a variable no class declares is simply ignored there. At start-up
the command line warns about each ``COSMO_*`` variable that is neither a settings field nor
one of the few variables read directly (:data:`OTHER_ENV`), with the closest real name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from pydantic_settings import BaseSettings

__all__ = ["OTHER_ENV", "OTHER_PREFIXES", "known_env", "settings_classes", "unknown_env"]

# read directly, not through a settings class
OTHER_ENV = frozenset(
    {
        "COSMO_SHARED_DATA",  # where the public test and demo data live (core/demo.py)
        "COSMO_TEST_CACHE",  # converted models kept between test runs (tests/)
        "COSMO_SCREENSHOT",  # where browser tests keep their screenshots (tests/)
    }
)
OTHER_PREFIXES = ("COSMO_VLLM_",)  # scripts/vllm/*.sh


def settings_classes() -> list[type[BaseSettings]]:
    """Every settings class cosmo has (``tests/test_envcheck.py`` checks none is missing)."""
    from cosmo.api.settings import ApiSettings
    from cosmo.core.settings import Settings
    from cosmo.generation.settings import GenerationSettings
    from cosmo.kg.settings import IntentionMatchSettings
    from cosmo.pipeline.settings import PipelineSettings
    from cosmo.refine.annotation.settings import AnnotationSettings
    from cosmo.refine.instruct.settings import InstructSettings
    from cosmo.refine.settings import RefineSettings

    return [
        Settings,
        GenerationSettings,
        RefineSettings,
        PipelineSettings,
        AnnotationSettings,
        InstructSettings,
        ApiSettings,
        IntentionMatchSettings,
    ]


def known_env(classes: Iterable[type[BaseSettings]] | None = None) -> set[str]:
    """The variable names the settings classes read (upper case)."""
    names = set()
    for cls in settings_classes() if classes is None else classes:
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        for name, field in cls.model_fields.items():
            names.add(f"{prefix}{name}".upper())
            if isinstance(field.validation_alias, str):
                names.add(field.validation_alias.upper())
    return names


def unknown_env(environ: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """(variable, the closest known names) for each ``COSMO_*`` variable nothing reads."""
    known = known_env() | OTHER_ENV
    out = []
    for var in sorted(environ):
        up = var.upper()
        if not up.startswith("COSMO_") or up in known or up.startswith(OTHER_PREFIXES):
            continue
        out.append((var, difflib.get_close_matches(up, sorted(known), n=2, cutoff=0.6)))
    return out
