"""docker-compose.yml: the production stack is well formed (checked by a Docker Compose client)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from tests.compose_stack import COMPOSE, check_stack, compose_cosmo_env, compose_stack
from tests.openai_fake import serve_fake_openai

ENV = {
    **os.environ,
    "NEO4J_PASSWORD": "placeholder",
    "REDIS_PASSWORD": "placeholder",
    "COSMO_API_KEY": "placeholder",
}


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
    cmd = services["api"]["command"]
    assert int(cmd[cmd.index("--workers") + 1]) > 1  # production runs several processes
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


@pytest.mark.single_backend("production's compose file runs the API on Neo4j")
def test_the_api_runs_with_the_compose_environment(neo4j_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`cosmo serve --explain` with the api service's environment: ready, answers GraphQL, and
    explains a miss through the OpenAI-compatible server compose points it at."""
    served = yaml.safe_load(COMPOSE.read_text())["services"]["vllm"]["command"]
    model = next(a.split("=", 1)[1] for a in served if a.startswith("--served-model-name="))
    answer = " a warm coat for the kids. Also more text"
    with (
        serve_fake_openai(model=model, answer=lambda prompt: answer) as (gen_url, state),
        compose_stack(neo4j_settings, tmp_path, gen_url) as url,
    ):
        e = check_stack(url)
    assert e["model"] == model and e["text"]
    assert e["intents"] == [{"relation": "xWANT", "tail": "a warm coat for the kids"}]
    assert state.bodies and {b["model"] for b in state.bodies} == {model}
