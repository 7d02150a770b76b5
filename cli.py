"""The ``cosmo`` command line.

Every stage registers its commands here through a ``register(app)`` function in its own
``cli`` module (``cosmo.kg.cli``, ``cosmo.ingest.cli``, ...). Errors that cosmo raises on
purpose are shown as one clear message, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from cosmo.clitools import console, err_console, settings_of
from cosmo.errors import CosmoError
from cosmo.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="cosmo",
    help="Turn e-commerce behaviour into a commonsense knowledge graph and serve it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Run the embedded FalkorDB server.", no_args_is_help=True)
app.add_typer(db_app, name="db")

_STAGES = ("kg", "ingest", "generation", "refine", "gnn", "api")


@app.callback()
def _root(
    ctx: typer.Context,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="State folder (database, caches, artifacts). Env: COSMO_STATE_DIR"),
    ] = None,
) -> None:
    settings = Settings() if state_dir is None else Settings(state_dir=state_dir)
    ctx.obj = settings


@db_app.command("start")
def db_start(ctx: typer.Context) -> None:
    """Start the embedded FalkorDB server (127.0.0.1 only, AOF persistence)."""
    from cosmo.kg.server import EmbeddedServer

    st = EmbeddedServer(settings_of(ctx)).start()
    console.print(
        f"[green]FalkorDB is up[/] at {st.host}:{st.port} (pid {st.pid}), data in {st.data_dir}"
    )


@db_app.command("stop")
def db_stop(ctx: typer.Context) -> None:
    """Stop the embedded server started by ``cosmo db start``."""
    from cosmo.kg.server import EmbeddedServer

    stopped = EmbeddedServer(settings_of(ctx)).stop()
    console.print("FalkorDB stopped" if stopped else "No embedded FalkorDB was running")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Say whether the embedded server runs and answers."""
    from cosmo.kg.server import EmbeddedServer

    st = EmbeddedServer(settings_of(ctx)).status()
    state = "[green]running[/]" if st.running and st.answers else "[red]not running[/]"
    console.print(
        f"FalkorDB {state} at {st.host}:{st.port} pid={st.pid} data={st.data_dir} {st.detail}"
    )
    if not (st.running and st.answers):
        raise typer.Exit(1)


@app.command("demo")
def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option(help="Keep the API running at the end.")] = True,
) -> None:
    """Run the whole pipeline on the bundled sample with the embedded database."""
    from cosmo.demo import run_demo

    run_demo(settings_of(ctx), serve=serve)


def _register_stages() -> None:
    for name in _STAGES:
        try:
            module = importlib.import_module(f"cosmo.{name}.cli")
        except ModuleNotFoundError as e:
            if e.name == f"cosmo.{name}.cli":
                continue
            raise
        module.register(app)


_register_stages()


def main() -> None:
    """Entry point of the ``cosmo`` console script."""
    try:
        app()
    except CosmoError as e:
        err_console.print(f"[bold red]error:[/] {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
