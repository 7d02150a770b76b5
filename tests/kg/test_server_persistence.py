"""The embedded FalkorDB server's persistence: what reaches its append-only file, and recovery."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from cosmo.core.settings import Settings
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.loader import load_triples_file
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.versions import graph_stats
from tests.conftest import free_port

pytestmark = pytest.mark.single_backend("kills and restarts a FalkorDB server of its own")


def _aof(state: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((state / "db" / "appendonlydir").glob("*.aof")))


def test_writes_are_logged_as_effects_and_survive_kill_9(iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(state_dir=tmp_path / "state", falkordb_port=free_port(), graph="g")
    server = EmbeddedServer(settings)
    server.start()
    store = FalkorDBStore.from_settings(settings)
    try:
        store.setup(embedding_dim=384)
        deadline = time.monotonic() + 30  # FalkorDB logs a constraint again once it is built
        while any(c["status"] != "OPERATIONAL" for c in store.query("CALL db.constraints()")):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1.5)  # the log is flushed every second
        constraints = _aof(settings.state_dir).count(b"GRAPH.CONSTRAINT")
        store.setup(embedding_dim=384)  # a repeat asks for no constraint again
        time.sleep(1.5)
        assert _aof(settings.state_dir).count(b"GRAPH.CONSTRAINT") == constraints
        path = tmp_path / "t.parquet"
        iqa_triples.head(400).to_parquet(path)
        load_triples_file(store, path)
        expected = graph_stats(store)
        log = _aof(settings.state_dir)
        # the load's MERGE batches are logged as their effects, never re-run as queries
        assert log.count(b"GRAPH.EFFECT") > 0
        assert b"MERGE (h)-[" not in log
        os.kill(server.status().pid or 0, signal.SIGKILL)
        said: list[str] = []
        st = server.start(say=said.append)
        assert st.running and st.answers
        assert graph_stats(store) == expected
    finally:
        store.close()
        server.stop()
    conf = (settings.state_dir / "db" / "falkordb.conf").read_text()
    assert "aof-use-rdb-preamble yes" in conf and "EFFECTS_THRESHOLD 0" in conf
