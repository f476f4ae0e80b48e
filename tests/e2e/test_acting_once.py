"""Every action a person takes in chat acts once, however often its request arrives.

A captured Slack request replayed byte for byte (same body, timestamp and signature, inside the
300 s window), the same action in Socket Mode envelopes, a Telegram update posted to the webhook
again, even under another update id: each is acknowledged as usual, and the thread, the chat
and the audit log show one action. A new press (a new trigger_id or callback query) is a new
action, so the second press that takes a thread over still works.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from bridge.desks.claims import short_reference
from bridge.domain.models import Thread
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from tests.e2e.conftest import GROUP, Deployment, Emulators, wait_for
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_personal_replies import slack_ephemerals

RINA_TG, SARI_TG = 1001, 1002
SECRET_TOKEN = "replay-test-secret"
WATCH_S = 2.0


@pytest.fixture(autouse=True)
def platform_limits(emulators: Emulators) -> None:
    """Slack's and Telegram's rate limits apply, as on the real platforms."""
    emulators.slack.rate_limits = emulators.telegram.rate_limits = True


@pytest.fixture
async def store(redis_url: str) -> Any:
    client = connect(redis_url)
    yield Store(client, Keys("e2e"))
    await client.aclose()


async def the_thread(store: Store) -> Thread:
    thread_ids = await store.thread_ids()
    assert len(thread_ids) == 1
    thread = await store.thread(thread_ids[0])
    assert thread is not None
    return thread


def audit_lines(deployment: Deployment, word: str) -> list[str]:
    return [line for line in deployment.audit().splitlines() if f" | {word} | " in line]


def watch(what: str, still: Callable[[], bool], seconds: float = WATCH_S) -> None:
    """The expected state is there: see that it stays so for a while (no late repeats)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert still(), what
        time.sleep(0.1)


def replay(emulators: Emulators, trigger_id: str, times: int) -> None:
    """The action sent again ``times`` times, a hundred per call to the emulator."""
    for start in range(0, times, 100):
        count = min(100, times - start)
        result = emulators.slack_control("replay", {"trigger_id": trigger_id, "times": count})
        assert result.status_code == 200, result.text
        assert result.json()["statuses"] == {"200": count}, "every replay gets an ordinary ack"


def press(emulators: Emulators, user: str, ts: str, action: str) -> str:
    """A Slack button press; returns its trigger_id."""
    result = emulators.slack_control(
        "click", {"user": user, "channel": "C0HUMAS", "ts": ts, "action_id": action}
    )
    assert result.json()["status"] == 200, result.text
    return str(result.json()["trigger_id"])


def told(emulators: Emulators, user: str, words: str) -> list[str]:
    return [text for text in slack_ephemerals(emulators, user) if words in text]


async def claim_replayed_then_taken_over(
    deployment: Deployment, store: Store, *, times: int
) -> None:
    """Rina claims; Sari presses Claim (told whose it is); that press is replayed ``times``
    times: nothing changes. Then Sari presses again, a new press, and takes it over."""
    emulators = deployment.emulators
    emulators.post("warga_budi", "@humas_demo trotoar rusak")
    mirror = settle(deployment, 1)[0]
    press(emulators, "U0RINA", mirror["ts"], "claim")
    wait_for(lambda: told(emulators, "U0RINA", "It is yours"), what="Rina's claim")
    first = press(emulators, "U0SARI", mirror["ts"], "claim")
    wait_for(lambda: told(emulators, "U0SARI", "rina claimed this"), what="Sari told whose")
    claimed = await the_thread(store)

    replay(emulators, first, times)
    watch(
        "a replay changed something",
        lambda: len(slack_ephemerals(emulators, "U0SARI")) == 1,
    )
    after = await the_thread(store)
    assert (after.status_by, after.version) == ("rina", claimed.version)
    assert len(audit_lines(deployment, "claimed")) == 1

    press(emulators, "U0SARI", mirror["ts"], "claim")
    wait_for(
        lambda: told(emulators, "U0SARI", "You took this over from rina"),
        what="the new press taking it over",
    )
    assert (await the_thread(store)).status_by == "sari"
    assert len(audit_lines(deployment, "claimed")) == 2


async def test_a_claim_replayed_a_thousand_times_acts_once(
    deployment: Deployment, store: Store
) -> None:
    deployment.start()
    await claim_replayed_then_taken_over(deployment, store, times=1000)


async def test_in_socket_mode_the_same_action_in_new_envelopes_acts_once(
    deployment: Deployment, store: Store
) -> None:
    deployment.use_slack_socket_mode()
    deployment.start()
    await claim_replayed_then_taken_over(deployment, store, times=1000)


async def test_a_form_and_a_slash_command_replayed_act_once(
    deployment: Deployment, store: Store
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo info lowongan?")
    mirror = settle(deployment, 1)[0]
    thread = await the_thread(store)

    command = emulators.slack_control(
        "command",
        {
            "user": "U0SARI",
            "channel": "C0HUMAS",
            "command": "/reachable",
            "text": f"assign {short_reference(thread.id)} rina",
        },
    ).json()
    assert "now rina's" in command["body"]
    assigned = await the_thread(store)
    replay(emulators, command["trigger_id"], 100)
    assert (await the_thread(store)).version == assigned.version
    assert len(audit_lines(deployment, "reassigned")) == 1

    press(emulators, "U0RINA", mirror["ts"], "dismiss")
    view = emulators.views("U0RINA")[-1]
    submitted = emulators.slack_control(
        "submit",
        {"user": "U0RINA", "view_id": view["id"], "values": {"reason": {"reason": "spam"}}},
    ).json()
    assert submitted["view"] == "closed", submitted
    wait_for(lambda: told(emulators, "U0RINA", "Dismissed (Spam)"), what="the dismissal")
    dismissed = await the_thread(store)
    replay(emulators, submitted["trigger_id"], 100)
    watch(
        "a replayed form acted",
        lambda: len(slack_ephemerals(emulators, "U0RINA")) == 1,
    )
    assert (await the_thread(store)).version == dismissed.version
    assert len(audit_lines(deployment, "dismissed")) == 1


@pytest.fixture
def webhook(deployment: Deployment) -> Iterator[str]:
    url = f"http://127.0.0.1:{deployment.emulators.bridge_port}/telegram/webhook"
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"] = url
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"] = SECRET_TOKEN
    yield url


def issued(emulators: Emulators, update_id: int) -> dict[str, Any]:
    response = emulators.http.get(
        f"{emulators.telegram_server.url}/_emulator/updates", params={"update_id": update_id}
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["update"])


def post_to_webhook(url: str, updates: list[bytes]) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN, "Content-Type": "application/json"}
    with httpx.Client(timeout=15, trust_env=False) as http:
        for body in updates:
            response = http.post(url, content=body, headers=headers)
            assert response.status_code == 200, response.text


async def test_a_telegram_press_and_command_replayed_act_once(
    deployment: Deployment, store: Store, webhook: str
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo trotoar rusak")
    mirror = settle_telegram(deployment, 1)[0]
    assert "rina" not in mirror["text"]
    answer = emulators.answer_text(emulators.press(RINA_TG, GROUP, mirror["message_id"], "claim"))
    assert "It is yours" in answer
    pressed = emulators.telegram_control(
        "press",
        {
            "user_id": SARI_TG,
            "chat_id": GROUP,
            "message_id": mirror["message_id"],
            "action": "claim",
        },
    ).json()
    assert "rina claimed this" in emulators.answer_text(pressed["callback_query_id"])
    claimed = await the_thread(store)

    update = issued(emulators, pressed["update_id"])
    same = json.dumps(update).encode()
    renumbered = [
        json.dumps({**update, "update_id": update["update_id"] + 10_000 + n}).encode()
        for n in range(1000)
    ]
    post_to_webhook(webhook, [same] * 1000 + renumbered)
    watch(
        "a replayed press acted",
        lambda: len(emulators.telegram_calls("answerCallbackQuery")) == 2,
    )
    after = await the_thread(store)
    assert (after.status_by, after.version) == ("rina", claimed.version)
    assert len(audit_lines(deployment, "claimed")) == 1

    again = emulators.press(SARI_TG, GROUP, mirror["message_id"], "claim")
    assert "You took this over from rina" in emulators.answer_text(again)
    assert (await the_thread(store)).status_by == "sari"

    sent = emulators.telegram_control(
        "send",
        {"user_id": SARI_TG, "chat_id": GROUP, "text": f"/assign {short_reference(after.id)} rina"},
    ).json()
    wait_for(
        lambda: [m for m in emulators.telegram_messages() if "now rina's" in m["text"]],
        what="the assignment",
    )
    command = issued(emulators, sent["update_id"])
    post_to_webhook(
        webhook,
        [
            json.dumps({**command, "update_id": command["update_id"] + 20_000 + n}).encode()
            for n in range(100)
        ],
    )
    watch(
        "a replayed command acted",
        lambda: (
            len([m for m in emulators.telegram_messages() if "now rina's" in m["text"]]) == 1
            and len(audit_lines(deployment, "reassigned")) == 1
        ),
    )
