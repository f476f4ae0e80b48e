"""Someone not in the config floods the bot with commands: told once a minute, audited once a
minute, and Redis barely grows, in Slack and in Telegram."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from tests.e2e.conftest import GROUP, Deployment, Emulators, wait_for

FLOOD = 500


@pytest.fixture(autouse=True)
def platform_limits(emulators: Emulators) -> None:
    """Slack's and Telegram's rate limits apply, as on the real platforms."""
    emulators.slack.rate_limits = emulators.telegram.rate_limits = True


def keys_of(url: str) -> set[str]:
    with redis.Redis.from_url(url, decode_responses=True) as client:
        return set(client.scan_iter(match="e2e:*", count=1000))


def stranger_entries(deployment: Deployment, chat: str) -> list[str]:
    return [
        line
        for line in deployment.audit().splitlines()
        if "stranger:" in line and f" via {chat}" in line
    ]


def bot_messages(deployment: Deployment) -> list[dict[str, Any]]:
    return [m for m in deployment.emulators.telegram_messages(GROUP) if m["from"]["is_bot"]]


def test_a_strangers_flood_of_commands_gets_one_answer_a_minute_per_chat(
    deployment: Deployment, redis_url: str
) -> None:
    emulators = deployment.emulators
    deployment.start()
    # The bridge is settled: staff commands answered in both chats.
    assert "Rules, tried top to bottom" in emulators.slash("U0SARI", "rules")
    emulators.telegram_control("send", {"user_id": 1001, "chat_id": GROUP, "text": "/help"})
    wait_for(lambda: len(bot_messages(deployment)) == 1, what="help in the group")
    before = keys_of(redis_url)

    started = time.monotonic()
    answers = [emulators.slash("U0EVE", "rules") for _ in range(FLOOD // 2)]
    answers += [emulators.slash("U0EVE", "unanswered") for _ in range(FLOOD // 2)]
    slack_minutes = minutes_since(started)
    told = [a for a in answers if a.strip()]
    assert 1 <= len(told) <= slack_minutes, f"{len(told)} answers in {slack_minutes} minute(s)"
    assert "not on Reachable's staff list" in told[0]

    started = time.monotonic()
    for number in range(FLOOD):
        command = "/rules" if number % 2 else "/unanswered"
        sent = emulators.telegram_control(
            "send", {"user_id": 6666, "chat_id": GROUP, "text": command}
        )
        assert sent.status_code == 200, sent.text
    # Rina's command after the flood is answered once the whole flood has been read.
    last = emulators.telegram_control(
        "send", {"user_id": 1001, "chat_id": GROUP, "text": "/help"}
    ).json()
    wait_for(
        lambda: [
            m for m in bot_messages(deployment) if m["reply_to_message_id"] == last["message_id"]
        ],
        timeout=90,
        what="the flood read",
    )
    telegram_minutes = minutes_since(started)
    refused = [m for m in bot_messages(deployment) if "not on Reachable's staff list" in m["text"]]
    assert 1 <= len(refused) <= telegram_minutes

    slack_entries = stranger_entries(deployment, "slack")
    telegram_entries = stranger_entries(deployment, "telegram")
    assert 1 <= len(slack_entries) <= slack_minutes
    assert 1 <= len(telegram_entries) <= telegram_minutes
    assert "stranger:U0EVE" in slack_entries[0] and "stranger:6666" in telegram_entries[0]
    grown = keys_of(redis_url) - before
    # Two keys per chat for the strangers, and the marks of Rina's one command.
    assert {key.split(":")[1] for key in grown} <= {"audit", "seen"}, grown
    assert len(grown) <= 6, grown


def minutes_since(started: float) -> int:
    """The minutes a flood spanned: a stranger may be told once in each."""
    return 1 + int((time.monotonic() - started) // 60)
