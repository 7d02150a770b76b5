"""docker-compose.yml: the production stack is well formed (checked by the Docker client where it exists)."""

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
        pytest.skip("no Docker Compose client on this machine (docker compose or docker-compose)")
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
