"""The API reads from a FalkorDB replica: real servers on loopback, a real uvicorn, and the
primary paused with SIGSTOP while requests keep being answered."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from cosmo.api import ApiSettings, create_app
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.replicas import ReplicaReads, _caught_up
from tests.api.conftest import load_sample
from tests.conftest import serve_app
from tests.kg.test_replicas import replica_pair

pytestmark = pytest.mark.single_backend("FalkorDB replication (REPLICAOF) between two servers")

Q = "query($id: ID!) { product(id: $id) { id title } }"


def test_reads_answer_from_the_replica_while_the_primary_is_paused(tmp_path: Path) -> None:
    with replica_pair(tmp_path) as (ps, rs, primary):
        load_sample(ps)
        p, r = FalkorDBStore.from_settings(ps), FalkorDBStore.from_settings(rs)
        try:
            assert _caught_up(p, r, 30)
        finally:
            p.close()
            r.close()
        core = ps.model_copy(update={"falkordb_replicas": f"127.0.0.1:{rs.falkordb_port}"})
        settings = ApiSettings(
            key_prefix="cosmo:replica:", response_cache_size=100, response_cache_check_s=0
        )
        app = create_app(settings, core=core)
        assert isinstance(app.state.services.store, ReplicaReads)
        pid = primary.status().pid
        assert pid is not None
        with serve_app(app) as url, httpx.Client(base_url=url, timeout=30) as http:

            def ask(pid_: str) -> tuple[dict, float]:  # type: ignore[type-arg]
                t = time.perf_counter()
                res = http.post("/graphql", json={"query": Q, "variables": {"id": pid_}})
                assert res.status_code == 200, res.text
                return res.json(), time.perf_counter() - t

            first, _ = ask("P1")
            assert first["data"]["product"]["title"].startswith("Coleman")
            cache = app.state.response_cache
            assert ask("P1")[0] == first and cache.hits == 1  # the cache works while all is up
            os.kill(pid, signal.SIGSTOP)
            try:
                for ident in ("P1", "P2", "P1"):
                    answer, took = ask(ident)
                    assert "errors" not in answer, answer
                    assert answer["data"]["product"]["id"] == ident
                    # the version stamp is waited for db_timeout_ms, then the cache is bypassed
                    assert took < settings.db_timeout_ms / 1000 + 1.5, took
                # the cache (its version stamp lives on the primary) was bypassed, not an error
                assert cache.hits == 1 and cache.bypassed >= 1
            finally:
                os.kill(pid, signal.SIGCONT)
            assert app.state.services.store.fallbacks == 0  # no read needed the primary
