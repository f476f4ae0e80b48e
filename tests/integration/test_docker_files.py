"""docker/Dockerfile, docker/compose.yaml and the env example agree with the code.

No Docker engine is needed: the files are parsed and checked against the package (its settings,
roles and CLI commands) and the repository (every path they copy or mount). Where the docker
client or hadolint exists, they check the files too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from app.runtime import ROLES
from app.settings import AppSettings
from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DOCKER / "compose.yaml").read_text()))


def setting_names() -> set[str]:
    return {f"REACHABLE_{name.upper()}" for name in AppSettings.model_fields}


def test_the_image_is_slim_runs_as_a_user_and_checks_its_health() -> None:
    steps = instructions()
    assert all(arg.startswith("python:3.11-slim") for k, arg in steps if k == "FROM")
    final = final_stage()
    users = [arg for keyword, arg in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    healthcheck = next(arg for keyword, arg in final if keyword == "HEALTHCHECK")
    assert '"reachable", "healthcheck"' in healthcheck
    assert "healthcheck" in cli.commands and "doctor" in cli.commands
    assert ("ENTRYPOINT", '["reachable"]') in final


def test_the_image_builds_from_the_repository_alone_with_runtime_dependencies_only() -> None:
    for keyword, arg in instructions():
        if keyword == "COPY" and not arg.startswith("--from"):
            *sources, _ = arg.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        if keyword == "RUN" and "pip" in arg:
            assert "[dev]" not in arg and "-e " not in arg
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "tests", ".git"} <= set(ignored)


def test_the_image_settings_exist_and_every_role_answers_health_on_the_exposed_port() -> None:
    env: dict[str, str] = {}
    for keyword, arg in final_stage():
        if keyword == "ENV":
            env.update(pair.split("=", 1) for pair in arg.split())
    unknown = {k for k in env if k.startswith("REACHABLE_")} - setting_names()
    assert not unknown, f"the Dockerfile sets unknown settings {unknown}"
    exposed = next(arg for keyword, arg in final_stage() if keyword == "EXPOSE")
    assert env["REACHABLE_WEB_PORT"] == env["REACHABLE_HEALTH_PORT"] == exposed
    assert env["REACHABLE_WEB_HOST"] == "0.0.0.0"


def test_compose_runs_redis_with_aof_on_a_volume_and_one_service_per_role() -> None:
    spec = compose()
    services = spec["services"]
    redis = services["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    volume, _, target = redis["volumes"][0].partition(":")
    assert target == "/data" and volume in spec["volumes"]
    roles = {}
    for name, service in services.items():
        if name == "redis":
            continue
        assert service["command"][:2] == ["run", "--role"]
        roles[service["command"][2]] = name
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["build"]["dockerfile"] == "docker/Dockerfile"
        assert (DOCKER / service["build"]["context"] / service["build"]["dockerfile"]).exists()
        mount_source, mount_target = service["volumes"][0].split(":")[:2]
        assert mount_target == service["environment"]["REACHABLE_CONFIG"]
        assert (DOCKER / mount_source).parent.is_dir()
        assert set(service["environment"]) <= setting_names()
        assert service["env_file"] == "reachable.env"
    assert set(roles) == set(ROLES)
    assert "ports" not in services["worker"] and "ports" not in services["poller"]


def test_the_env_example_names_only_real_settings_and_loads() -> None:
    example = DOCKER / "reachable.env.example"
    values = dotenv_values(example)
    assert set(values) <= setting_names(), set(values) - setting_names()
    settings = AppSettings(_env_file=example)  # type: ignore[call-arg]
    assert settings.slack_mode == "socket"
    assert "humas" in settings.x_account_tokens


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    found = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return found.returncode == 0


@pytest.mark.skipif(not _has_compose(), reason="no docker compose client on this machine")
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env_file = DOCKER / "reachable.env"
    created = not env_file.exists()
    if created:
        shutil.copy(DOCKER / "reachable.env.example", env_file)
    try:
        result = subprocess.run(
            ["docker", "compose", "-f", str(DOCKER / "compose.yaml"), "config", "--quiet"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DOCKER_CONFIG": str(tmp_path)},
        )
    finally:
        if created:
            env_file.unlink()
    assert result.returncode == 0, result.stderr


def test_compose_follows_the_compose_specification() -> None:
    """The compose-spec JSON schema, as check-jsonschema vendors it: what `docker compose`
    itself validates against."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(DOCKER / "compose.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


HADOLINT = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


@pytest.mark.skipif(not Path(HADOLINT).exists(), reason="hadolint is not installed here")
def test_hadolint_finds_nothing_to_fix() -> None:
    result = subprocess.run(
        [HADOLINT, str(DOCKER / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout
