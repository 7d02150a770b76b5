"""``cosmo serve`` and ``cosmo api ...``: run the API, its explanation worker and the refresh job."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from cosmo.core.clitools import console, settings_of

__all__ = ["register"]

api_app = typer.Typer(
    help="The GraphQL API's jobs: cache refresh and explanation worker.", no_args_is_help=True
)


def _services(ctx: typer.Context) -> tuple[Any, Any, Any, Any, Any]:
    import redis.asyncio as aioredis

    from cosmo.api.services.cache import CacheStore, FeatureStore
    from cosmo.api.services.graph import GraphReader
    from cosmo.api.settings import ApiSettings
    from cosmo.kg.factory import open_async_store

    core = settings_of(ctx)
    api = ApiSettings()
    store = open_async_store(core)
    redis = aioredis.Redis.from_url(core.cache_url, decode_responses=True, socket_timeout=10)
    cache = CacheStore(
        redis, prefix=api.key_prefix, ttl_s=api.cache_ttl_s, preload_ttl_s=api.preload_ttl_s
    )
    return (
        api,
        GraphReader(store),
        cache,
        FeatureStore(redis, prefix=api.key_prefix),
        (store, redis),
    )


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Bind address. Env: COSMO_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Port. Env: COSMO_API_PORT")] = None,
    explain: Annotated[
        bool,
        typer.Option(help="Run the explanation worker with the generator model in the server."),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes (production: one per core; each builds its own app)."
        ),
    ] = 1,
) -> None:
    """Serve GraphQL (/graphql), the navigation page (/navigate), /healthz, /readyz, /metrics."""
    import os

    import uvicorn

    from cosmo.api.http.serve import build_app, open_generator
    from cosmo.api.settings import ApiSettings

    core = settings_of(ctx)
    api = ApiSettings()
    h, p = host or api.host, port or api.port
    console.print(f"cosmo API on http://{h}:{p}/graphql  (navigation: http://{h}:{p}/navigate)")
    if workers > 1:
        # each worker process builds the app from the environment (uvicorn's factory mode)
        os.environ["COSMO_STATE_DIR"] = str(core.state_dir)
        factory = "explaining_app_from_env" if explain else "app_from_env"
        uvicorn.run(
            f"cosmo.api.http.serve:{factory}",
            factory=True,
            workers=workers,
            host=h,
            port=p,
            log_level="info",
            access_log=False,
        )
        return
    app = build_app(api, core, generator=open_generator(api, core) if explain else None)
    uvicorn.run(app, host=h, port=p, log_level="info", access_log=False)


@api_app.command("refresh")
def refresh_cmd(
    ctx: typer.Context,
    top: Annotated[
        int | None, typer.Option(help="Frequent queries to preload. Env: COSMO_API_REFRESH_TOP")
    ] = None,
    generate: Annotated[
        bool, typer.Option(help="Generate misses now (else queue them for the worker).")
    ] = True,
    navigation: Annotated[
        bool, typer.Option(help="Also precompute the navigation of the frequent queries.")
    ] = True,
) -> None:
    """The daily job: preload explanations (and navigation) of the most frequent queries."""
    from cosmo.api.http.serve import open_generator
    from cosmo.api.services.explain import refresh
    from cosmo.api.services.nav_store import NavigationStore, precompute_navigation
    from cosmo.api.services.version import GraphVersion

    api, reader, cache, features, closers = _services(ctx)
    n = top or api.refresh_top

    async def run() -> tuple[Any, int]:
        try:
            gen = open_generator(api, settings_of(ctx)) if generate else None
            r = await refresh(reader, cache, features, generator=gen, top=n, batch=api.worker_batch)
            nav = 0
            if navigation:
                version = GraphVersion(reader, closers[1], prefix=api.key_prefix, check_s=0)
                store = NavigationStore(
                    closers[1], version, prefix=api.key_prefix, ttl_s=api.preload_ttl_s
                )
                nav = await precompute_navigation(
                    reader,
                    store,
                    top=n,
                    cap=api.max_candidates,
                    facet_products=api.facet_products,
                )
            return r, nav
        finally:
            await closers[0].close()
            await closers[1].aclose()

    r, nav = asyncio.run(run())
    console.print(
        f"[green]refreshed[/] {r.queries} queries, {r.pairs} pairs: {r.from_graph} from the graph, "
        f"{r.generated} generated, {r.queued} queued; navigation of {nav} queries precomputed"
    )


@api_app.command("worker")
def worker_cmd(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option(help="Drain the queue once and exit.")] = False,
) -> None:
    """Explain queued cache misses in batches with the generator model (Ctrl-C to stop)."""
    from cosmo.api.http.serve import open_generator
    from cosmo.api.services.explain import ExplainWorker

    api, _reader, cache, features, closers = _services(ctx)
    worker = ExplainWorker(
        cache, features, open_generator(api, settings_of(ctx)), batch=api.worker_batch
    )

    async def run() -> int:
        done = 0
        try:
            if once:
                while n := await worker.run_once():
                    done += n
            else:
                await worker.run_forever(asyncio.Event(), api.worker_idle_s)
        finally:
            await closers[0].close()
            await closers[1].aclose()
        return done

    console.print(f"explained {asyncio.run(run())} queued pairs")


def register(app: typer.Typer) -> None:
    """Add ``cosmo serve`` and ``cosmo api`` to the root command."""
    app.command("serve")(serve)
    app.add_typer(api_app, name="api")
