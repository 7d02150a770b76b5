"""FalkorDB read replicas on loopback: a replica started with ``replica_of`` follows the
primary's writes (incremental and ``GRAPH.BULK``), refuses writes, and is resynced when it
lacks the primary's graph."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cosmo.core.errors import ConfigError, GraphStoreError
from cosmo.core.settings import Settings
from cosmo.kg.bulk import bulk_load_if_empty
from cosmo.kg.factory import open_server
from cosmo.kg.falkordb_store import FalkorDBStore
from cosmo.kg.replicas import _caught_up, check_replicas, parse_address, parse_addresses
from cosmo.kg.server import EmbeddedServer
from cosmo.kg.versions import graph_stats
from tests.conftest import free_port
from tests.kg.test_cli import _env

pytestmark = pytest.mark.single_backend("FalkorDB replication (REPLICAOF) between two servers")


def _cosmo(settings: Settings, *args: str, **env: str) -> str:
    """Run the ``cosmo`` CLI as a user would, on ``settings``' state dir, port and graph."""
    out = subprocess.run(
        [sys.executable, "-m", "cosmo.cli", *args],
        env={**_env(settings), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stdout + out.stderr
    return out.stdout


@contextlib.contextmanager
def replica_pair(
    tmp: Path, graph: str = "g"
) -> Iterator[tuple[Settings, Settings, EmbeddedServer]]:
    """A primary and a replica of it (``cosmo db start --replica-of``) on free loopback
    ports, linked; both stopped after."""
    ps = Settings(state_dir=tmp / "primary", falkordb_port=free_port(), graph=graph)
    rs = Settings(state_dir=tmp / "replica", falkordb_port=free_port(), graph=graph)
    primary = EmbeddedServer(ps)
    primary.start()
    try:
        said = _cosmo(rs, "db", "start", "--replica-of", f"127.0.0.1:{ps.falkordb_port}")
        assert "FalkorDB is up" in said
        p, r = FalkorDBStore.from_settings(ps), FalkorDBStore.from_settings(rs)
        try:
            assert _caught_up(p, r, 60), "the replica did not link to the primary"
        finally:
            p.close()
            r.close()
        yield ps, rs, primary
    finally:
        with contextlib.suppress(Exception):
            EmbeddedServer(rs).stop()
        primary.stop()


def test_replica_follows_writes_and_refuses_its_own(tmp_path: Path) -> None:
    with replica_pair(tmp_path) as (ps, rs, _):
        p, r = FalkorDBStore.from_settings(ps), FalkorDBStore.from_settings(rs)
        try:
            p.execute("CREATE (:Product {id: 'P1', title: 'tent'})")
            assert _caught_up(p, r, 10)
            assert r.query("MATCH (n:Product) RETURN n.id AS id") == [{"id": "P1"}]
            with pytest.raises(GraphStoreError, match=r"READONLY|read only|read-only"):
                r.execute("CREATE (:Product {id: 'P2'})")
            conf = (rs.state_dir / "db" / "falkordb.conf").read_text()
            assert f"replicaof 127.0.0.1 {ps.falkordb_port}" in conf
        finally:
            p.close()
            r.close()


def test_bulk_first_build_reaches_the_replica_and_a_lagging_one_is_resynced(
    tmp_path: Path, iqa_triples
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.parquet"
    iqa_triples.head(300).to_parquet(path)
    with replica_pair(tmp_path) as (ps, rs, _):
        p, r = FalkorDBStore.from_settings(ps), FalkorDBStore.from_settings(rs)
        try:
            replicas = f"127.0.0.1:{rs.falkordb_port}"
            said = _cosmo(ps, "kg", "load", str(path), COSMO_FALKORDB_REPLICAS=replicas)
            assert "holds the graph" in said and "resync" not in said, said
            assert graph_stats(r) == graph_stats(p) and any(
                graph_stats(p)["relationships"].values()
            )
            # a replica that was cut off during a second build is resynced, and says so
            r.client.connection.execute_command("REPLICAOF", "NO", "ONE")
            p2 = FalkorDBStore(p.client, "g2")
            assert bulk_load_if_empty(p2, path, settings=ps) is not None
            said: list[str] = []
            check_replicas(p2, [FalkorDBStore(r.client, "g2")], say=said.append, timeout_s=2)
            assert "lacks the primary's graph 'g2': resyncing it" in said[0]
            assert "resynced" in said[-1]
            assert graph_stats(FalkorDBStore(r.client, "g2")) == graph_stats(p2)
        finally:
            p.close()
            r.close()


def test_addresses_are_checked() -> None:
    assert parse_address("10.0.0.2:6390") == ("10.0.0.2", 6390)
    assert parse_addresses(" a:1, b:2 ,") == [("a", 1), ("b", 2)]
    for bad in ("nohost", "h:0", "h:99999", "h:p"):
        with pytest.raises(ConfigError, match="HOST:PORT"):
            parse_address(bad, "--replica-of")
    with pytest.raises(ConfigError, match="Neo4j"):
        open_server(Settings(), "neo4j", replica_of="127.0.0.1:7687")
    with pytest.raises(ValueError, match="falkordb_replicas"):
        Settings(falkordb_replicas="no port")
