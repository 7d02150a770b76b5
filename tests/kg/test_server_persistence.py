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
from tests.kg.conftest import assert_resumed_to

pytestmark = pytest.mark.single_backend("kills and restarts a FalkorDB server of its own")


def _aof(state: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((state / "db" / "appendonlydir").glob("*.aof")))


def test_writes_are_logged_as_effects_and_survive_kill_9(iqa_triples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(state_dir=tmp_path / "state", falkordb_port=free_port(), graph="g")
    server = EmbeddedServer(settings)
    server.start()
    store = FalkorDBStore.from_settings(settings)
    try:
        store.setup(embedding_dim=384)  # returns once every constraint is built
        # (FalkorDB logs a constraint again once it is built)
        assert all(c["status"] == "OPERATIONAL" for c in store.query("CALL db.constraints()"))
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


def _rewrites_done(store: FalkorDBStore) -> int:
    """AOF rewrites finished so far, once none is running or scheduled."""
    from cosmo.kg.bulk import await_log_rewrite

    info = await_log_rewrite(store, timeout_s=60)
    assert info["aof_last_bgrewrite_status"] == "ok"
    return int(info["aof_rewrites"])


def _rewrite_aof(store: FalkorDBStore) -> None:
    """Rewrite the append-only file now and wait until it finished, successfully.

    A rewrite already running (the one a first build starts when it ends) is waited for
    first: the server refuses a second one while it runs.
    """
    before = _rewrites_done(store)
    store.raw_command("BGREWRITEAOF")
    assert _rewrites_done(store) == before + 1


def test_the_server_restarts_after_an_aof_rewrite_that_follows_nul_attempts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from cosmo.core.errors import InputError
    from cosmo.core.text import find_control
    from cosmo.kg.bulk import bulk_load_if_empty
    from tests.kg.conftest import graph_dump

    def rows(prefix: str) -> list[dict[str, str]]:
        base = {"behaviour": "co_buy", "source": f"{prefix}A", "relation": "USED_WITH"}
        return [
            {**base, "target": f"{prefix}B", "tail": "a tent", "model": "m"},
            {**base, "target": f"{prefix}C", "tail": "a stove", "model": "m\x00x"},
            {**base, "target": f"{prefix}D", "tail": "a mat", "target_title": "D\x00title"},
            {**base, "target": f"{prefix}E", "tail": "a lamp", "model": "bell\x07"},
        ]

    settings = Settings(state_dir=tmp_path / "state", falkordb_port=free_port(), graph="g")
    server = EmbeddedServer(settings)
    server.start()
    store = FalkorDBStore.from_settings(settings)
    try:
        first, second = tmp_path / "bulk.jsonl", tmp_path / "more.jsonl"
        pd.DataFrame(rows("x")).to_json(first, orient="records", lines=True)
        pd.DataFrame(rows("y")).to_json(second, orient="records", lines=True)
        bulk = bulk_load_if_empty(store, first, settings=settings, max_rejected=0.9)
        assert bulk is not None and bulk.loaded_rows == 1 and len(bulk.errors) == 3
        more = load_triples_file(store, second, max_rejected=0.9)  # the incremental path
        assert more.loaded_rows == 1 and len(more.errors) == 3
        with pytest.raises(InputError, match="NUL"):
            store.execute("MATCH (p:Product {id: 'xA'}) SET p.title = $t", {"t": "a\x00b"})
        expected, dump = graph_stats(store), graph_dump(store)
        assert all(find_control(list(map(str, d))) is None for d in dump)
        store.query("MATCH ()-[e]->() RETURN properties(e) AS p")  # the read that once crashed
        _rewrite_aof(store)
        assert b"GRAPH.EFFECT" not in _aof(settings.state_dir)  # the rewrite replaced the log
        assert server.stop()
        st = server.start()
        assert st.running and st.answers
        assert graph_stats(store) == expected and graph_dump(store) == dump
    finally:
        store.close()
        server.stop()


def test_kill_9_of_the_server_mid_load_then_resume_gives_exact_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The server (not the loader) is killed halfway through a 50k-relationship load."""
    from cosmo.bench.kg_load import synthetic
    from cosmo.core.errors import CosmoError
    from cosmo.kg.bulk import bulk_load_if_empty
    from cosmo.kg.versions import list_runs

    settings = Settings(state_dir=tmp_path / "state", falkordb_port=free_port(), graph="g")
    server = EmbeddedServer(settings)
    server.start()
    store = FalkorDBStore.from_settings(settings)
    ref = FalkorDBStore.from_settings(settings.model_copy(update={"graph": "reference"}))
    try:
        path = tmp_path / "t.parquet"
        synthetic(50_000).to_parquet(path)
        assert bulk_load_if_empty(ref, path, settings=settings) is not None
        expected = graph_stats(ref)
        assert sum(expected["relationships"].values()) >= 49_000
        ref.clear()
        store.setup(embedding_dim=384)
        done = [0]

        def kill_halfway(n: int) -> None:
            done[0] += n
            if done[0] >= 8_000 and server.status().running:
                os.kill(server.status().pid or 0, signal.SIGKILL)

        with pytest.raises(CosmoError):
            load_triples_file(store, path, batch_size=1000, progress=kill_halfway)
        assert not server.status().running
        t0 = time.monotonic()
        assert server.start().answers
        restart = time.monotonic() - t0
        partial = graph_stats(store)
        assert partial != expected and list_runs(store)[0].status == "running"
        again = load_triples_file(store, path, batch_size=1000)
        assert again.resumed_from > 0
        assert_resumed_to(store, expected)
        assert restart < 60, f"the restart after kill -9 took {restart:.0f} s"
    finally:
        ref.close()
        store.close()
        server.stop()


def test_a_first_build_holds_background_saves_and_rewrites_the_log_once(
    iqa_triples, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """No growth-triggered AOF rewrite or RDB snapshot forks while ``GRAPH.BULK`` writes
    (a fork prepared mid-build once stopped the server answering anyone); the settings come
    back afterwards, one rewrite leaves a log that restores the built graph."""
    from cosmo.kg.bulk import background_saves_held, bulk_load_if_empty

    settings = Settings(state_dir=tmp_path / "state", falkordb_port=free_port(), graph="g")
    server = EmbeddedServer(settings)
    server.start()
    store = FalkorDBStore.from_settings(settings)

    def config() -> dict[str, str]:
        keys = ("auto-aof-rewrite-percentage", "save")
        return {k: store.client.connection.config_get(k)[k] for k in keys}

    try:
        before = config()
        assert before["auto-aof-rewrite-percentage"] == "50"
        with background_saves_held(store):
            assert config() == {"auto-aof-rewrite-percentage": "0", "save": ""}
        assert config() == before
        rewrites = _rewrites_done(store)
        path = tmp_path / "t.parquet"
        iqa_triples.head(400).to_parquet(path)
        assert bulk_load_if_empty(store, path, settings=settings) is not None
        assert config() == before
        assert _rewrites_done(store) == rewrites + 1  # the build's one rewrite
        expected = graph_stats(store)
        os.kill(server.status().pid or 0, signal.SIGKILL)
        assert server.start().answers
        assert graph_stats(store) == expected
    finally:
        store.close()
        server.stop()
