"""No Telegram update is lost, and the bot's answers in a group keep Telegram's pace.

Telegram sends an update until the bridge acknowledges it and never again after, so the bridge
stores each update before acknowledging it and handles it from there: a webhook call that
cannot be stored gets a 503 (and Telegram sends it again), and a process killed after taking an
update in but before handling it handles it after its restart, once. The bot's answers take
their turns in the group's pace with the mirrored mentions, and wait out flood control.

Telegram's (and Slack's) rate limits are on, as on the real platforms.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import redis

from adapters.telegram.updates import TELEGRAM_BEFORE_HANDLING
from cli.redisproc import RedisProcess
from tests.e2e.conftest import GROUP, TELEGRAM_TOKEN, Deployment, Emulators, wait_for

RINA = 1001
SECRET_TOKEN = "updates-test-secret"
REPEAT_WINDOW_S = 2.0
# Telegram's limit in a group: 20 messages a minute, one every three seconds.
GROUP_INTERVAL_S = 3.0


@pytest.fixture(autouse=True)
def platform_limits(emulators: Emulators) -> None:
    emulators.slack.rate_limits = emulators.telegram.rate_limits = True


def use_webhook(deployment: Deployment) -> None:
    url = f"http://127.0.0.1:{deployment.emulators.bridge_port}/telegram/webhook"
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"] = url
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"] = SECRET_TOKEN


def crash_before_handling(deployment: Deployment, tmp_path: Path) -> None:
    """The bridge kills itself (SIGKILL) once per update, after taking it in and before
    handling it."""
    deployment.env["REACHABLE_CRASH_AT"] = TELEGRAM_BEFORE_HANDLING
    deployment.env["REACHABLE_CRASH_DIR"] = str(tmp_path)


def webhook_info(emulators: Emulators) -> dict[str, Any]:
    response = emulators.http.get(
        f"{emulators.telegram_server.url}/bot{TELEGRAM_TOKEN}/getWebhookInfo"
    )
    return dict(response.json()["result"])


def mirrored(deployment: Deployment) -> dict[str, Any]:
    """A mention mirrored into the group, with its buttons."""
    emulators = deployment.emulators
    emulators.post("warga_budi", "@humas_demo trotoar rusak")
    return dict(
        wait_for(
            lambda: next((m for m in emulators.telegram_messages() if m.get("reply_markup")), None),
            timeout=40,
            what="the mention mirrored in the group",
        )
    )


def press(emulators: Emulators, message: dict[str, Any], action: str) -> dict[str, Any]:
    """Rina presses a button; returns the update's and the callback query's ids."""
    response = emulators.telegram_control(
        "press",
        {"user_id": RINA, "chat_id": GROUP, "message_id": message["message_id"], "action": action},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def answered(emulators: Emulators, callback_query_id: str) -> bool:
    answer = emulators.http.get(
        f"{emulators.telegram_server.url}/_emulator/answers",
        params={"callback_query_id": callback_query_id},
    ).json()
    return bool(answer.get("answered"))


def claims_audited(deployment: Deployment) -> int:
    return len([line for line in deployment.audit().splitlines() if " | claimed | " in line])


def watch(what: str, still: Any, seconds: float = REPEAT_WINDOW_S) -> None:
    """The expected state is there: see that it stays so for a while (no late repeats)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert still(), what
        time.sleep(0.1)


def answers_to(emulators: Emulators, message_ids: list[int]) -> list[dict[str, Any]]:
    """The bot's messages in the group that answer one of ``message_ids``, oldest first."""
    wanted = set(message_ids)
    return [
        m
        for m in emulators.telegram_messages()
        if m["from"]["is_bot"] and m.get("reply_to_message_id") in wanted
    ]


def test_while_redis_is_down_the_webhook_answers_503_and_telegrams_retry_is_handled_once(
    deployment: Deployment, private_redis: RedisProcess
) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_REDIS_URL"] = private_redis.url
    use_webhook(deployment)
    bridge = deployment.start()
    wait_for(lambda: webhook_info(emulators)["url"], what="the webhook to be set")
    message = mirrored(deployment)

    private_redis.kill()
    pressed = press(emulators, message, "claim")
    wait_for(
        lambda: "503" in webhook_info(emulators).get("last_error_message", ""),
        what="the webhook refusing the press with 503 while Redis is down",
    )
    assert emulators.telegram_pending() == 1, "Telegram keeps the press"
    assert not answered(emulators, pressed["callback_query_id"])

    private_redis.start()
    assert "It is yours" in emulators.answer_text(pressed["callback_query_id"])
    emulators.telegram_control("redeliver", {"update_id": pressed["update_id"]})
    wait_for(
        lambda: emulators.telegram_pending() == 0,
        what="Telegram's redelivery taken",
    )
    watch(
        "the redelivered press acted again",
        lambda: len(emulators.telegram_calls("answerCallbackQuery")) == 1,
    )
    assert claims_audited(deployment) == 1
    assert bridge.alive()


def test_a_press_the_webhook_took_is_handled_after_a_crash_before_its_handling(
    deployment: Deployment, tmp_path: Path
) -> None:
    emulators = deployment.emulators
    use_webhook(deployment)
    crash_before_handling(deployment, tmp_path)
    bridge = deployment.start()
    wait_for(lambda: webhook_info(emulators)["url"], what="the webhook to be set")
    message = mirrored(deployment)

    pressed = press(emulators, message, "claim")
    wait_for(lambda: not bridge.alive(), what="the bridge killed before handling the press")
    # Stored before it was handled, and so before the kill. Whether Telegram also had its 200
    # depends on which came first in the dying process, the answer's bytes or the kill: a
    # press Telegram sends again is told apart by its update id and acts once all the same.
    with redis.Redis.from_url(deployment.env["REACHABLE_REDIS_URL"]) as db:
        stored = db.xrange("e2e:stream:inbound:telegram")
    assert [int(fields[b"event"]) for _, fields in stored] == [pressed["update_id"]]
    assert not answered(emulators, pressed["callback_query_id"])

    deployment.start()
    assert "It is yours" in emulators.answer_text(pressed["callback_query_id"])
    watch(
        "the press acted twice",
        lambda: len(emulators.telegram_calls("answerCallbackQuery")) == 1,
    )
    assert claims_audited(deployment) == 1


def test_a_command_fetched_by_polling_is_answered_once_after_a_crash_before_its_handling(
    deployment: Deployment, tmp_path: Path
) -> None:
    emulators = deployment.emulators
    crash_before_handling(deployment, tmp_path)
    bridge = deployment.start()
    sent = emulators.telegram_control(
        "send", {"user_id": RINA, "chat_id": GROUP, "text": "/unanswered"}
    ).json()
    wait_for(lambda: not bridge.alive(), what="the bridge killed before handling the command")
    assert answers_to(emulators, [sent["message_id"]]) == []

    deployment.start()
    answer = wait_for(
        lambda: answers_to(emulators, [sent["message_id"]]),
        what="the answer to /unanswered after the restart",
    )
    assert "Nothing is waiting" in answer[0]["text"]
    watch(
        "the command was answered twice",
        lambda: len(answers_to(emulators, [sent["message_id"]])) == 1,
    )


# Two minutes of Telegram's time: longer than the suite's usual limit where it runs in real time.
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_forty_commands_in_a_minute_are_each_answered_in_order_at_telegrams_pace(
    deployment: Deployment,
) -> None:
    """Rina types 40 commands in the group within a minute while a mention is mirrored there:
    every command gets its answer, in order, and the group's messages (the mirror too) keep
    Telegram's 20 a minute."""
    emulators = deployment.emulators
    deployment.env["REACHABLE_TELEGRAM_GROUP_INTERVAL_S"] = str(GROUP_INTERVAL_S)
    # Where the emulators run faster than real time, the bridge paces itself on their clock.
    scale = float(deployment.env.get("REACHABLE_PLATFORM_TIME_SCALE", "1"))
    interval = GROUP_INTERVAL_S / scale
    deployment.start()
    emulators.post("warga_budi", "@humas_demo lampu jalan mati")
    commands = [
        emulators.telegram_control(
            "send", {"user_id": RINA, "chat_id": GROUP, "text": "/unanswered"}
        ).json()["message_id"]
        for _ in range(40)
    ]
    answers = wait_for(
        lambda: len(answers_to(emulators, commands)) >= 40 and answers_to(emulators, commands),
        timeout=40 * interval * 1.5 + 30,
        what="an answer to each of the 40 commands",
    )
    assert [a["reply_to_message_id"] for a in answers] == commands, "one answer each, in order"
    wait_for(
        lambda: [m for m in emulators.telegram_messages() if m.get("reply_markup")],
        timeout=10 * interval + 30,
        what="the mirrored mention, in its turn",
    )

    sends = [
        c
        for c in emulators.telegram_calls("sendMessage")
        if str(c.get("params", {}).get("chat_id")) == str(GROUP)
    ]
    delivered = sorted(c["time"] for c in sends if c["status"] == 200)
    assert len(delivered) == 41, "the 40 answers and the mirror, each once"
    # Telegram's pace: any 21 messages in a row span a minute (a little less for clock jitter).
    spans = [delivered[i + 20] - delivered[i] for i in range(len(delivered) - 20)]
    assert min(spans) >= 20 * interval - 0.5, min(spans)
    assert delivered[-1] - delivered[0] <= 41 * interval * 1.5 + 10, "slower than the pace"
