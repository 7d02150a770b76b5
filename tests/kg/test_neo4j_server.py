"""``cosmo db start --backend neo4j``: the Neo4j server cosmo resolves, configures and starts.

The happy path runs in every Neo4j test (the session's server is started this way); these
tests cover the failures, each of which must name its fix, exit non-zero from the CLI and
leave no server half-started.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from cosmo.cli import app
from cosmo.core.errors import ConfigError, ServerError
from cosmo.core.settings import Settings
from cosmo.kg.neo4j_server import Neo4jServer
from tests.conftest import NEO4J_JARS, free_port

pytestmark = pytest.mark.single_backend("starts and stops Neo4j servers of its own")


def _settings(tmp_path: Path, **kw: object) -> Settings:
    base = {
        "state_dir": tmp_path / "state",
        "neo4j_uri": f"bolt://127.0.0.1:{free_port()}",
        "neo4j_http_port": free_port(),
        "neo4j_password": SecretStr("first-password"),
        "neo4j_lib_dir": NEO4J_JARS,
        "neo4j_heap": "512m",
        "neo4j_pagecache": "128m",
    }
    base.update(kw)
    return Settings(**base)  # type: ignore[arg-type]


def _java_processes(home: Path) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "CommunityEntryPoint" in cmd and str(home) in cmd:
                pids.append(int(d.name))
    return pids


@pytest.fixture(scope="module")
def jars(neo4j_settings: Settings) -> Path:
    """The jars the session's server runs from (resolved by then)."""
    return NEO4J_JARS


def test_start_stop_and_status_through_the_cli(jars: Path, tmp_path: Path) -> None:
    s = _settings(tmp_path)
    env = {
        "COSMO_STATE_DIR": str(s.state_dir),
        "COSMO_NEO4J_URI": s.neo4j_uri,
        "COSMO_NEO4J_HTTP_PORT": str(s.neo4j_http_port),
        "COSMO_NEO4J_PASSWORD": "first-password",
        "COSMO_NEO4J_LIB_DIR": str(jars),
        "COSMO_NEO4J_HEAP": "512m",
        "COSMO_NEO4J_PAGECACHE": "128m",
    }
    runner = CliRunner()
    try:
        r = runner.invoke(app, ["db", "start", "--backend", "neo4j"], env=env)
        assert r.exit_code == 0, r.output
        assert "Neo4j is up" in r.output
        r = runner.invoke(app, ["db", "status", "--backend", "neo4j"], env=env)
        assert r.exit_code == 0 and "running" in r.output
        conf = (s.state_dir / "neo4j" / "conf" / "neo4j.conf").read_text()
        assert "first-password" not in conf and "dbms.security.auth_enabled=true" in conf
        assert f"server.bolt.listen_address=127.0.0.1:{s.neo4j_uri.rsplit(':', 1)[1]}" in conf
        # a wrong password is refused by status and start, and the running server stays up
        bad = {**env, "COSMO_NEO4J_PASSWORD": "other-password"}
        r = runner.invoke(app, ["db", "status", "--backend", "neo4j"], env=bad)
        assert r.exit_code == 1 and "refuses the password" in r.output
        r = runner.invoke(app, ["db", "start", "--backend", "neo4j"], env=bad)
        assert r.exit_code != 0 and "refuses the password" in str(r.exception)
    finally:
        r = runner.invoke(app, ["db", "stop", "--backend", "neo4j"], env=env)
    assert r.exit_code == 0 and "Neo4j stopped" in r.output
    assert not _java_processes(s.state_dir / "neo4j")
    r = runner.invoke(app, ["db", "status", "--backend", "neo4j"], env=env)
    assert r.exit_code == 1
    # started again with another password: the database was created with the first one
    server = Neo4jServer(_settings(tmp_path, neo4j_password=SecretStr("other-password"),
                                   neo4j_uri=s.neo4j_uri, neo4j_http_port=s.neo4j_http_port))  # fmt: skip
    with pytest.raises(ServerError, match="created with another password"):
        server.start()
    assert not _java_processes(s.state_dir / "neo4j")


def test_missing_java_names_the_fix(jars: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(ServerError, match="Java 17"):
        Neo4jServer(_settings(tmp_path)).start()


def test_missing_maven_names_the_fix(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    java = shutil.which("java")
    assert java, "the Neo4j tests need Java"
    monkeypatch.setenv("JAVA_HOME", str(Path(os.path.realpath(java)).parent.parent))
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn on it
    server = Neo4jServer(_settings(tmp_path, neo4j_lib_dir=tmp_path / "empty-lib"))
    with pytest.raises(ServerError, match="Maven"):
        server.start()
    assert not (tmp_path / "empty-lib").exists()


def test_port_taken_names_the_setting(jars: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = _settings(tmp_path, neo4j_http_port=port)
        with pytest.raises(ServerError, match=f"Port {port}.*COSMO_NEO4J_HTTP_PORT"):
            Neo4jServer(s).start()
        s = _settings(tmp_path, neo4j_uri=f"bolt://127.0.0.1:{port}")
        with pytest.raises(ServerError, match=f"Port {port}.*COSMO_NEO4J_URI"):
            Neo4jServer(s).start()
    assert not (tmp_path / "state" / "neo4j" / "neo4j.pid").exists()


def test_a_server_that_does_not_come_up_is_stopped(jars: Path, tmp_path: Path) -> None:
    s = _settings(tmp_path)
    with pytest.raises(ServerError, match=r"did not answer on Bolt within 1 s.*stopped"):
        Neo4jServer(s).start(timeout=1.0)
    assert not _java_processes(s.state_dir / "neo4j")
    assert not (s.state_dir / "neo4j" / "neo4j.pid").exists()


def test_settings_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COSMO_NEO4J_PASSWORD"):
        Neo4jServer(_settings(tmp_path, neo4j_password=None)).start()
    with pytest.raises(ConfigError, match="this machine only"):
        Neo4jServer(_settings(tmp_path, neo4j_uri="bolt://db.example:7687")).start()
