"""``cosmo kg neo4j-import``: the first build through neo4j-admin equals the incremental load."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from cosmo.cli import app
from cosmo.core.errors import InputError, ServerError
from cosmo.core.settings import Settings
from cosmo.kg.loader import load_triples_file
from cosmo.kg.neo4j_import import STAGING, _admin_import, neo4j_first_build
from cosmo.kg.neo4j_server import Neo4jServer
from cosmo.kg.neo4j_store import Neo4jStore
from cosmo.kg.versions import graph_stats, list_runs
from tests.conftest import NEO4J_JARS, free_port
from tests.kg.conftest import graph_dump

pytestmark = pytest.mark.single_backend("stops its own Neo4j server for neo4j-admin import")


def test_import_equals_incremental_and_needs_overwrite(
    neo4j_settings: Settings, iqa_triples, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = neo4j_settings.model_copy(
        update={
            "state_dir": tmp_path / "state",
            "neo4j_uri": f"bolt://127.0.0.1:{free_port()}",
            "neo4j_http_port": free_port(),
            "neo4j_password": SecretStr("import-test-pw"),
            "neo4j_lib_dir": NEO4J_JARS,
            "neo4j_heap": "512m",
            "neo4j_pagecache": "128m",
        }
    )
    server = Neo4jServer(settings)
    path = tmp_path / "t.parquet"
    iqa_triples.head(400).to_parquet(path)
    try:
        server.start()
        store = Neo4jStore.from_settings(settings)
        store.setup(embedding_dim=384)
        load_triples_file(store, path)
        expected, stats = graph_dump(store), graph_stats(store)
        assert any(d[0] == "edge" and dict(d[4]).get("sources") for d in expected)
        store.close()
        with pytest.raises(InputError, match="--overwrite"):
            neo4j_first_build(server, path)
        env = {
            "COSMO_STATE_DIR": str(settings.state_dir),
            "COSMO_NEO4J_URI": settings.neo4j_uri,
            "COSMO_NEO4J_HTTP_PORT": str(settings.neo4j_http_port),
            "COSMO_NEO4J_PASSWORD": "import-test-pw",
            "COSMO_NEO4J_LIB_DIR": str(NEO4J_JARS),
            "COSMO_NEO4J_HEAP": "512m",
            "COSMO_NEO4J_PAGECACHE": "128m",
            "COSMO_BACKEND": "neo4j",
        }
        r = CliRunner().invoke(app, ["kg", "neo4j-import", str(path), "--overwrite"], env=env)
        assert r.exit_code == 0, r.output
        assert "IMPORT DONE" in r.output and "400 of 400 rows" in r.output
        store = Neo4jStore.from_settings(settings)
        assert graph_dump(store) == expected  # every node and edge property
        runs = list_runs(store)
        assert len(runs) == 1 and runs[0].status == "done" and runs[0].loaded == 400
        assert runs[0].counts.relationships_created == sum(stats["relationships"].values())
        edge_runs = store.query("MATCH ()-[r]->() RETURN DISTINCT r.created_run AS run")
        assert edge_runs == [{"run": runs[0].id}]
        again = load_triples_file(store, path)  # incremental on top of the import: nothing new
        assert again.written.relationships_created == 0
        store.close()
        # a failed import leaves the served database as it was
        bad = tmp_path / "bad.csv"
        bad.write_text(":START_ID(Product),:END_ID(Product),:TYPE\nnobody,nothing,CO_BUY\n")
        server.stop()
        with pytest.raises(ServerError, match="database is unchanged"):
            _admin_import(server, [f"--relationships={bad}"], print)
        assert not (settings.neo4j_dir / "data" / "databases" / STAGING).exists()
        server.start()
        store = Neo4jStore.from_settings(settings)
        assert graph_dump(store) == expected
        store.close()
    finally:
        server.stop()
