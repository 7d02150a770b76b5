"""The ``cosmo`` command line.

Every stage registers its commands here through a ``register(app)`` function in its own
``cli`` module (``cosmo.kg.cli``, ``cosmo.ingest.cli``, ...). Errors that cosmo raises on
purpose are shown as one clear message, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cosmo.core.clitools import console, err_console, settings_of
from cosmo.core.errors import CosmoError
from cosmo.core.settings import Settings

__all__ = ["app", "main"]

app = typer.Typer(
    name="cosmo",
    help="Turn e-commerce behaviour into a commonsense knowledge graph and serve it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(
    help="Run the graph database server (FalkorDB embedded, or Neo4j).", no_args_is_help=True
)
app.add_typer(db_app, name="db")

_STAGES = ("kg", "ingest", "generation", "refine", "pipeline", "gnn", "evaluation", "api")


@app.callback()
def _root(
    ctx: typer.Context,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="State folder (database, caches, artifacts). Env: COSMO_STATE_DIR"),
    ] = None,
) -> None:
    from cosmo.envcheck import unknown_env

    for var, near in unknown_env(os.environ):
        hint = f" (did you mean {' or '.join(near)}?)" if near else ""
        err_console.print(f"[yellow]warning:[/] {var} is not a cosmo setting; ignored{hint}")
    settings = Settings() if state_dir is None else Settings(state_dir=state_dir)
    ctx.obj = settings


Backend = Annotated[
    str | None,
    typer.Option(
        "--backend", help="falkordb (embedded, pip only) or neo4j (needs Java 17+ and Maven once)"
    ),
]


def _backend(backend: str | None) -> str | None:
    if backend not in (None, "falkordb", "neo4j"):
        raise typer.BadParameter(f"unknown backend {backend!r}; use falkordb or neo4j")
    return backend


def _server(ctx: typer.Context, backend: str | None, replica_of: str | None = None):  # type: ignore[no-untyped-def]
    from cosmo.kg.factory import open_server

    return open_server(settings_of(ctx), _backend(backend), replica_of=replica_of)


@db_app.command("install")
def db_install(ctx: typer.Context, backend: Backend = "neo4j") -> None:
    """Fetch what the server needs, once (Neo4j: its jars, with Maven; FalkorDB: nothing)."""
    console.print(_server(ctx, backend).install(console.print))


@db_app.command("start")
def db_start(
    ctx: typer.Context,
    backend: Backend = None,
    timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait (FalkorDB: for loading progress that has stalled)"),
    ] = 180.0,
    replica_of: Annotated[
        str | None,
        typer.Option(help="HOST:PORT of a FalkorDB primary: start a read replica of it"),
    ] = None,
) -> None:
    """Start the database server (127.0.0.1 only; FalkorDB by default)."""
    server = _server(ctx, backend, replica_of)
    st = server.start(timeout=timeout, say=console.print)
    console.print(
        f"[green]{server.name} is up[/] at {st.host}:{st.port} (pid {st.pid}), "
        f"data in {st.data_dir}"
    )


@db_app.command("stop")
def db_stop(ctx: typer.Context, backend: Backend = None) -> None:
    """Stop the server started by ``cosmo db start``."""
    server = _server(ctx, backend)
    stopped = server.stop()
    console.print(f"{server.name} stopped" if stopped else f"No {server.name} was running")


@db_app.command("status")
def db_status(ctx: typer.Context, backend: Backend = None) -> None:
    """Say whether the server runs and answers (exit 1 when not)."""
    server = _server(ctx, backend)
    st = server.status()
    state = "[green]running[/]" if st.running and st.answers else "[red]not running[/]"
    console.print(
        f"{server.name} {state} at {st.host}:{st.port} pid={st.pid} data={st.data_dir} {st.detail}"
    )
    if not (st.running and st.answers):
        raise typer.Exit(1)


@app.command("demo")
def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option(help="Keep the API running at the end.")] = True,
    backend: Backend = None,
) -> None:
    """Run the whole pipeline on the bundled sample (FalkorDB embedded, or --backend neo4j)."""
    from cosmo.demo import run_demo

    settings = settings_of(ctx)
    if backend is not None:
        settings = settings.model_copy(update={"backend": _backend(backend)})
    run_demo(settings, serve=serve)


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
        from rich.markup import escape

        err_console.print(f"[bold red]error:[/] {escape(str(e))}")  # [extras] are text
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
