"""docker-compose.yml: the production stack is well formed (checked by a Docker Compose client)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
ENV = {
    **os.environ,
    "NEO4J_PASSWORD": "placeholder",
    "REDIS_PASSWORD": "placeholder",
    "COSMO_API_KEY": "placeholder",
}


def compose_cosmo_env(spec: dict) -> dict[str, dict[str, str]]:  # type: ignore[type-arg]
    """The COSMO_* variables each service's container is given."""
    out = {}
    for name, svc in spec["services"].items():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        out[name] = {k: str(v) for k, v in env.items() if k.upper().startswith("COSMO_")}
    return out


def test_every_cosmo_variable_the_compose_file_sets_is_a_setting() -> None:
    from cosmo.envcheck import unknown_env

    env = compose_cosmo_env(yaml.safe_load(COMPOSE.read_text()))
    assert env["api"], "the api service sets no COSMO_* variable"
    for service, variables in env.items():
        assert unknown_env(variables) == [], f"{service} sets variables cosmo ignores"
    api = env["api"]
    assert api["COSMO_REDIS_URL"].startswith("redis://") and "@redis:6379" in api["COSMO_REDIS_URL"]
    assert api["COSMO_GEN_BASE_URL"] == "http://vllm:8000/v1"
    assert api["COSMO_API_API_KEY"].startswith("${COSMO_API_KEY:?")


def test_services_healthchecks_and_secrets() -> None:
    text = COMPOSE.read_text()
    spec = yaml.safe_load(text)
    services = spec["services"]
    assert {"neo4j", "api", "vllm", "redis"} <= set(services)
    neo = services["neo4j"]
    assert neo["image"].startswith("neo4j:5")
    assert {"7474:7474", "7687:7687"} <= set(neo["ports"])
    assert "cypher-shell" in " ".join(neo["healthcheck"]["test"])
    assert neo["environment"]["NEO4J_AUTH"] == "neo4j/${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
    for name, svc in services.items():
        assert "healthcheck" in svc, f"{name} has no healthcheck"
    deps = services["api"]["depends_on"]
    assert all(d["condition"] == "service_healthy" for d in deps.values())
    assert "--explain" in services["api"]["command"]  # the API uses the vLLM service
    assert services["vllm"]["deploy"]["resources"]["reservations"]["devices"][0][
        "capabilities"
    ] == ["gpu"]
    assert "password" not in text.lower().replace("neo4j_password", "").replace(
        "redis_password", ""
    ).replace("--requirepass", "")


def test_docker_client_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        cmd = [docker, "compose", "-f", str(COMPOSE), "config", "-q"]
    elif shutil.which("docker-compose"):
        cmd = [str(shutil.which("docker-compose")), "-f", str(COMPOSE), "config", "-q"]
    else:
        pytest.fail("no Docker Compose client: install.sh installs Debian's docker-compose")
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
