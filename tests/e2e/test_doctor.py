"""`reachable doctor` against the emulators: a sound deployment passes; a wrong Slack token, a
bot removed from a channel and a Redis without persistence are each named, with a fix."""

from __future__ import annotations

import subprocess
import sys

from cli.redisproc import RedisProcess
from tests.e2e.conftest import ROOT, Deployment


def doctor(deployment: Deployment) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "doctor", "--config", str(deployment.config)],
        capture_output=True,
        text=True,
        env=deployment.env,
        cwd=ROOT,
        timeout=90,
    )


def row(output: str, area: str, check: str) -> str:
    """The table row of one check, with its fix line when there is one."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if line.startswith(area) and f" {check} " in line:
            follow = lines[index + 1] if index + 1 < len(lines) else ""
            return line + ("\n" + follow if "fix:" in follow else "")
    raise AssertionError(f"no row for {area} / {check} in:\n{output}")


def test_a_sound_deployment_is_ready_to_go_live(
    deployment: Deployment, private_redis: RedisProcess
) -> None:
    deployment.env["REACHABLE_REDIS_URL"] = private_redis.url
    result = doctor(deployment)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ready to go live" in out and "FAIL" not in out
    assert "AOF on" in row(out, "Redis", "persistence")
    assert "@humas_demo is user" in row(out, "X @humas_demo", "account id")
    assert "act as @humas_demo" in row(out, "X @humas_demo", "posting")
    assert "mention reads left" in row(out, "X @humas_demo", "rate limit")
    assert "the bot is in #humas" in row(out, "Slack", "channel C0HUMAS")
    assert "administrator" in row(out, "Telegram", "chat -1001000000001")
    assert " ok " in row(out, "Clock", "against slack")
    assert "test-signing-secret" not in out and "xoxb-" not in out


def test_each_problem_is_named_with_its_fix_and_blocks_go_live(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_SLACK_BOT_TOKEN"] = "xoxb-wrong"
    result = doctor(deployment)
    assert result.returncode == 1, result.stdout + result.stderr
    persistence = row(result.stdout, "Redis", "persistence")
    assert "FAIL" in persistence and "persistence is off" in persistence
    assert "appendonly yes" in persistence
    token = row(result.stdout, "Slack", "bot token")
    assert "FAIL" in token and "invalid_auth" in token and "REACHABLE_SLACK_BOT_TOKEN" in token
    assert "xoxb-wrong" not in result.stdout
    assert "problems block go-live" in result.stdout

    deployment.env["REACHABLE_SLACK_BOT_TOKEN"] = "xoxb-test-token"
    removed = emulators.slack_control("remove_bot", {"channel": "C0SUPER"})
    assert removed.status_code == 200, removed.text
    result = doctor(deployment)
    assert result.returncode == 1
    channel = row(result.stdout, "Slack", "channel C0SUPER")
    assert "FAIL" in channel and "not a member of #supervisors" in channel
    assert "/invite @" in channel
    assert " ok " in row(result.stdout, "Slack", "channel C0HUMAS")


def test_a_rate_limited_check_says_so_instead_of_blaming_the_token(
    deployment: Deployment,
) -> None:
    fault = {"path": "/api/auth.test", "error": "rate_limited", "retry_after": 30}
    assert deployment.emulators.slack_control("faults", fault).status_code == 200
    result = doctor(deployment)
    assert result.returncode == 1, result.stdout + result.stderr
    token = row(result.stdout, "Slack", "bot token")
    assert "FAIL" in token and "Slack asked Reachable to wait 30 s" in token
    assert "refused the bot token" not in token and "reachable doctor` again" in token
