"""Small helpers the subcommand modules share: settings from the context, error display."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from cosmo.core.settings import Settings

__all__ = ["console", "err_console", "settings_of"]

console = Console()
err_console = Console(stderr=True)


def settings_of(ctx: typer.Context) -> Settings:
    """The :class:`Settings` built once by the root command's callback."""
    root: Any = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, Settings):
        obj = Settings()
        root.obj = obj
    return obj
