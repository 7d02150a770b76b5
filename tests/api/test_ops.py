"""Operations: health, readiness, metrics, pages, GraphiQL, the annotation mount, CLI, demo."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rich.console import Console


def test_health_ready_metrics(make_client: Any, gql: Any) -> None:
    client, _ = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["ready"] and body["graph"]["ok"] and body["cache"] == {"ok": True, "queue": 0}
    gql(client, '{ product(id: "P1") { id } }')
    gql(client, '{ product(id: "P1") { intentions(first: 999) { totalCount } } }')
    text = client.get("/metrics").text
    assert 'cosmo_api_requests_total{path="/graphql",status="200"} 2.0' in text
    assert 'cosmo_api_graphql_errors_total{code="PAGE_SIZE"} 1.0' in text
    assert "cosmo_api_request_seconds_bucket" in text and "cosmo_api_db_up 1.0" in text


def test_pages_and_graphiql(make_client: Any) -> None:
    client, _ = make_client()
    r = client.get("/", follow_redirects=False)
    assert r.status_code in (302, 307) and r.headers["location"] == "/navigate"
    page = client.get("/navigate")
    assert (
        page.status_code == 200
        and 'id="facets"' in page.text
        and "/static/navigate.js" in page.text
    )
    assert 'fetch("/graphql"' in client.get("/static/navigate.js").text
    ide = client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()


def test_graphiql_can_be_turned_off(make_client: Any) -> None:
    client, _ = make_client(graphiql=False)
    r = client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in r.text.lower()


def test_annotation_page_is_mounted(make_client: Any, tmp_path: Path) -> None:
    from cosmo.refine.annotation.store import AnnotationStore

    client, _ = make_client(annotation_store=AnnotationStore(tmp_path / "labels.sqlite"))
    assert client.app.state.has_annotation
    r = client.get("/annotate/")
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_cli_refresh(api_graph: Any, prefix: str, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from cosmo.cli import app
    from tests.conftest import settings_env

    for k, v in settings_env(api_graph).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("COSMO_API_KEY_PREFIX", prefix)
    res = CliRunner().invoke(app, ["api", "refresh", "--top", "10", "--no-generate"])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "3 queries, 4 pairs: 4 from the graph, 0 generated, 0 queued" in out
    assert "navigation of 3 queries precomputed" in out
    assert "serve" in CliRunner().invoke(app, ["--help"]).output


def test_demo_stage_without_serving(
    api_graph: Any, prefix: str, monkeypatch: Any, tmp_path: Path
) -> None:
    from cosmo.api import demo
    from cosmo.core.demo import DemoContext
    from cosmo.kg.factory import open_store

    monkeypatch.setenv("COSMO_API_PORT", "0")
    monkeypatch.setenv("COSMO_API_KEY_PREFIX", prefix)
    monkeypatch.setenv("COSMO_STATE_DIR", str(tmp_path))
    out = io.StringIO()
    store = open_store(api_graph)
    ctx = DemoContext(
        settings=api_graph.model_copy(update={"state_dir": tmp_path}),
        store=store,
        workdir=tmp_path,
        console=Console(file=out, width=200),
        shared_data=None,
        serve=False,
    )
    demo.run(ctx)
    store.close()
    text = out.getvalue()
    assert "ready=True" in text
    assert "navigate('winter camping'): 3 products" in text
    assert ctx.urls["graphiql"].endswith("/graphql") and ctx.urls["navigation"].endswith(
        "/navigate"
    )
    assert ctx.urls["annotation"].endswith("/annotate/")
