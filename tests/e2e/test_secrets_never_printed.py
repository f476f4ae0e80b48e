"""No secret is ever printed: each process started with wrong credentials (with the stray
space a copy and paste leaves), at DEBUG, says what is wrong, and nothing it printed, on any
path (logging, a traceback, a library's own output), holds a secret in any form."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from bridge.ops.logsafety import REDACTED
from tests.e2e.conftest import ROOT, BridgeProcess, Deployment, wait_for

WRONG = {
    "REACHABLE_TELEGRAM_BOT_TOKEN": "999999:wrong-telegram-token ",
    "REACHABLE_SLACK_BOT_TOKEN": "xoxb-wrong-slack-token ",
    "REACHABLE_SLACK_SIGNING_SECRET": "wrong-signing-secret ",
    "REACHABLE_X_BEARER_TOKEN": "wrong-x-bearer-token ",
    "REACHABLE_X_CONSUMER_KEY": "wrong-consumer-key ",
    "REACHABLE_X_CONSUMER_SECRET": "wrong-consumer-secret ",
    "REACHABLE_X_OAUTH_CLIENT_SECRET": "wrong-oauth-client-secret ",
    "REACHABLE_X_ACCOUNT_TOKENS": json.dumps(
        {"humas": {"access_token": "wrong-access-token ", "access_token_secret": "wrong-ats "}}
    ),
}
SECRETS = [
    *(value for name, value in WRONG.items() if name != "REACHABLE_X_ACCOUNT_TOKENS"),
    "wrong-access-token ",
    "wrong-ats ",
]


def printed_forms(secret: str) -> set[str]:
    return {secret, secret.strip(), quote(secret), quote(secret.strip())}


def leaks(text: str) -> list[str]:
    return sorted({form for s in SECRETS for form in printed_forms(s) if form in text})


# Each role stops at a different wrong credential: Telegram's token at start for the chat roles,
# X's bearer token at the first poll.
@pytest.mark.parametrize(
    ("roles", "says"),
    [
        ((), "Telegram refused the bot token"),
        (("web",), "Telegram refused the bot token"),
        (("worker",), "Telegram refused the bot token"),
        (("poller",), "cannot poll"),
    ],
)
def test_a_process_with_wrong_credentials_says_so_and_prints_no_secret(
    deployment: Deployment, tmp_path: Path, roles: tuple[str, ...], says: str
) -> None:
    env = {**deployment.env, **WRONG, "REACHABLE_LOG_LEVEL": "DEBUG"}
    log = tmp_path / "printed.log"
    process = BridgeProcess(env=env, config=deployment.config, roles=roles, log=log)
    try:
        wait_for(
            lambda: says in log.read_text() or not process.alive(),
            timeout=40,
            what=f"the process to say {says!r} or end",
        )
    finally:
        process.stop()
    printed = log.read_text()
    assert leaks(printed) == [], printed[-3000:]
    assert says in printed, printed[-3000:]


def test_a_secret_in_an_uncaught_traceback_is_redacted_too() -> None:
    """Python prints an uncaught exception straight to stderr, past every logging handler."""
    code = (
        "import os\n"
        "from app.settings import AppSettings\n"
        "from bridge.ops.logsafety import redact_from_the_environment\n"
        "redact_from_the_environment(AppSettings)\n"
        "raise RuntimeError('refused: ' + os.environ['REACHABLE_TELEGRAM_BOT_TOKEN'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"REACHABLE_TELEGRAM_BOT_TOKEN": WRONG["REACHABLE_TELEGRAM_BOT_TOKEN"], "PATH": ""},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"RuntimeError: refused: {REDACTED}" in result.stderr
    assert leaks(result.stderr) == []
