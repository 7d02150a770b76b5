"""The demo's last stage: serve the API on the graph the earlier stages built.

With ``ctx.serve`` it prints the URLs and runs uvicorn until Ctrl-C; otherwise it starts
the server briefly, checks ``/readyz`` and one GraphQL answer, prints the URLs and stops.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosmo.core.demo import DemoContext
    from cosmo.kg.store import GraphStore

__all__ = ["run"]

NAV = """query($q: String!) { navigate(query: $q) {
  facets(size: 3) { relation tailType values { count intention { text } } }
  products(first: 3) { totalCount edges { node { product { id title } } } } } }"""


def _port(host: str, wanted: int) -> int:
    with socket.socket() as s:
        try:
            if wanted == 0:
                raise OSError("any port")
            s.bind((host, wanted))
            return wanted
        except OSError:
            s.bind((host, 0))
            return int(s.getsockname()[1])


def _sample_query(ctx: DemoContext[GraphStore]) -> str:
    rows = ctx.store.query(
        "MATCH (q:Query)-[s:SEARCH_BUY]->(:Product) WITH q, sum(s.count) AS n "
        "RETURN q.text AS text ORDER BY n DESC LIMIT 1"
    )
    return str(rows[0]["text"]) if rows else "gift"


def run(ctx: DemoContext[GraphStore]) -> None:
    import httpx
    import uvicorn

    from cosmo.api.http.serve import build_app
    from cosmo.api.settings import ApiSettings
    from cosmo.core.errors import ServerError

    api = ApiSettings()
    port = _port(api.host, api.port)
    base = f"http://{api.host}:{port}"
    app = build_app(api, ctx.settings)
    ctx.urls.update(
        graphiql=f"{base}/graphql",
        navigation=f"{base}/navigate",
        annotation=f"{base}/annotate/"
        if app.state.has_annotation
        else "(annotation page not installed)",
        metrics=f"{base}/metrics",
    )
    query = _sample_query(ctx)

    def show() -> None:
        ctx.console.print(f"  GraphiQL:         {ctx.urls['graphiql']}")
        ctx.console.print(
            f"  Navigation page:  {ctx.urls['navigation']}?q={query.replace(' ', '+')}"
        )
        ctx.console.print(f"  Annotation page:  {ctx.urls['annotation']}")
        ctx.console.print(f"  Metrics:          {ctx.urls['metrics']}")

    if ctx.serve:
        show()
        ctx.console.print("[bold]API running; press Ctrl-C to stop.[/]")
        uvicorn.run(app, host=api.host, port=port, log_level="warning")
        return
    server = uvicorn.Server(uvicorn.Config(app, host=api.host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        if not server.started:
            raise ServerError(f"the API server did not start on {base} within 30 s")
        with httpx.Client(base_url=base, timeout=30) as http:
            ready = http.get("/readyz").json()
            ctx.console.print(f"[green]✓[/] /readyz: ready={ready['ready']}")
            data: Any = http.post("/graphql", json={"query": NAV, "variables": {"q": query}}).json()
            if data.get("errors"):
                ctx.console.print(f"[red]GraphQL error:[/] {data['errors'][0]['message']}")
            else:
                nav = data["data"]["navigate"]
                facets = ", ".join(
                    f"{f['relation']}: {f['values'][0]['intention']['text']}"
                    for f in nav["facets"]
                    if f["values"]
                )
                ctx.console.print(
                    f"[green]✓[/] navigate({query!r}): {nav['products']['totalCount']} products; facets: {facets or '-'}"
                )
        show()
    finally:
        server.should_exit = True
        thread.join(15)
