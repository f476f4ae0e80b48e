"""The container HEALTHCHECK: `reachable healthcheck` passes for a web process and for a worker
that serves health on REACHABLE_HEALTH_PORT, and fails when nothing answers."""

from __future__ import annotations

import subprocess
import sys

import httpx

from app.httpserver import free_port
from tests.e2e.conftest import ROOT, Deployment, wait_for


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "healthcheck"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=30,
    )


def test_every_role_answers_the_healthcheck(deployment: Deployment) -> None:
    health_port = free_port()
    env = {**deployment.env, "REACHABLE_HEALTH_PORT": str(health_port)}
    assert healthcheck(env).returncode == 1, "nothing runs yet"

    deployment.env["REACHABLE_HEALTH_PORT"] = str(health_port)
    worker = deployment.start("worker")
    wait_for(lambda: healthcheck(env).returncode == 0, timeout=20, what="the worker's health")
    metrics = httpx.get(f"http://127.0.0.1:{health_port}/metrics", timeout=5)
    assert metrics.status_code == 200 and "reachable_open_threads" in metrics.text
    # A worker serves no platform callbacks.
    assert httpx.post(f"http://127.0.0.1:{health_port}/slack/events").status_code == 404

    worker.stop()
    unhealthy = healthcheck(env)
    assert unhealthy.returncode == 1 and "does not answer" in unhealthy.stderr

    deployment.env.pop("REACHABLE_HEALTH_PORT")
    deployment.start("web")
    assert healthcheck({**deployment.env}).stdout.strip() == "healthy"
