"""Mentions posted on X appear in Slack exactly once, threaded, and cannot abuse the channel."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from tests.e2e.conftest import (
    APP_ID,
    REPEAT_WINDOW_S,
    SLACK_SECRET,
    TAKEOVER_WINDOW_S,
    TEAM_ID,
    Deployment,
    settled,
    wait_for,
)

HOSTILE = (
    "@humas_demo <!channel> *bold* _x_ ~s~ <https://evil.example|https://bank.example> "
    "@here 👨‍👩‍👧 \u202bمرحبا بكم\u202c"
)


def section_text(message: dict[str, Any]) -> str:
    return next(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def telegram_text(message: dict[str, Any]) -> str:
    """The public text inside a mirrored Telegram message: between the header and the footer."""
    return str(message["text"].split("\n\n")[1])


def settle_telegram(deployment: Deployment, count: int) -> list[dict[str, Any]]:
    """The Telegram group once ``count`` messages are there and no more come."""
    emulators = deployment.emulators
    settled(
        lambda: len(emulators.telegram_messages()),
        until=lambda n: n >= count,
        what=f"{count} Telegram messages",
    )
    messages = emulators.telegram_messages()
    assert len(messages) == count, [m["text"][:80] for m in messages]
    return messages


def by_text(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {section_text(m): m for m in messages}


def settle(
    deployment: Deployment,
    count: int,
    channel: str = "C0HUMAS",
    *,
    window_s: float = REPEAT_WINDOW_S,
) -> list[dict[str, Any]]:
    """The channel once ``count`` messages are there and no more come (a duplicate would)."""
    settled(
        lambda: len(deployment.emulators.messages(channel)),
        until=lambda n: n >= count,
        what=f"{count} messages in {channel}",
        window_s=window_s,
    )
    messages = deployment.emulators.messages(channel)
    assert len(messages) == count, [section_text(m) for m in messages]
    return messages


def post_the_three_mentions(deployment: Deployment) -> None:
    """Two in one conversation, and a hostile one: the foundation's acceptance story."""
    emulators = deployment.emulators
    first = emulators.post("warga_budi", "@humas_demo jalan rusak di depan pasar #lapor")
    emulators.post(
        "siti_rahma", "@humas_demo @warga_budi betul, parah sekali", in_reply_to=first["id"]
    )
    emulators.post("eve_attacker", HOSTILE)


def test_mentions_appear_once_threaded_and_hostile_text_stays_inert(deployment: Deployment) -> None:
    deployment.start()
    post_the_three_mentions(deployment)

    messages = by_text(settle(deployment, 3))

    root = messages["@humas_demo jalan rusak di depan pasar #lapor"]
    reply = messages["@humas_demo @warga_budi betul, parah sekali"]
    hostile = messages[HOSTILE]
    assert root.get("thread_ts") in (None, root["ts"])
    assert reply["thread_ts"] == root["ts"]
    assert hostile.get("thread_ts") in (None, hostile["ts"])
    # Shown literally, pinging nobody, and the only links are ours, labelled honestly.
    assert section_text(hostile) == HOSTILE
    assert hostile["pings"] == []
    for link in hostile["links"]:
        assert link["url"].startswith("https://x.com/")
        assert "evil.example" not in link["url"] and "bank.example" not in link["label"]
    root_details = " ".join(str(b) for b in root["blocks"])
    assert "Route: complaints" in root_details and "SLA 30m" in root_details
    actions = [
        e["action_id"] for b in root["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == ["reply_institution", "reply_personal", "claim", "dismiss"]


def test_restarting_the_bridge_mid_stream_loses_nothing_and_repeats_nothing(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    bridge = deployment.start()
    for n in range(4):
        emulators.post(f"citizen{n}", f"@humas_demo pertanyaan nomor {n}")
    wait_for(lambda: len(emulators.messages()) >= 2, what="the first mirrors")
    bridge.stop()
    for n in range(4, 8):
        emulators.post(f"citizen{n}", f"@humas_demo pertanyaan nomor {n}")
    deployment.start()
    expected = sorted(f"@humas_demo pertanyaan nomor {n}" for n in range(8))
    assert sorted(section_text(m) for m in settle(deployment, 8)) == expected
    assert sorted(telegram_text(m) for m in settle_telegram(deployment, 8)) == expected


def test_a_worker_killed_while_posting_loses_nothing_and_repeats_nothing(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    # Slack answers slowly, so the kill lands while a post is under way.
    slow = {
        "method": "POST",
        "path": "/api/chat.postMessage",
        "status": 0,
        "delay_s": 0.6,
        "times": 3,
    }
    assert emulators.slack_control("faults", slow).status_code == 200
    deployment.start("poller")
    deployment.start("web")
    doomed = deployment.start("worker")
    for n in range(6):
        emulators.post(f"citizen{n}", f"@humas_demo laporan nomor {n}")
    wait_for(lambda: len(emulators.messages()) >= 1, what="the first post")
    time.sleep(0.3)
    doomed.kill()
    deployment.start("worker")
    expected = sorted(f"@humas_demo laporan nomor {n}" for n in range(6))
    posted = settle(deployment, 6, window_s=TAKEOVER_WINDOW_S)
    assert sorted(section_text(m) for m in posted) == expected
    assert sorted(telegram_text(m) for m in settle_telegram(deployment, 6)) == expected


def test_pressing_a_button_answers_only_the_presser(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle(deployment, 1)[0]
    result = emulators.slack_control(
        "click", {"user": "U0RINA", "channel": "C0HUMAS", "ts": message["ts"], "action_id": "claim"}
    )
    assert result.status_code == 200 and result.json()["status"] == 200
    ephemerals = wait_for(
        lambda: emulators.http.get(
            f"{emulators.slack_server.url}/_emulator/ephemerals",
            params={"channel": "C0HUMAS", "user": "U0RINA"},
        ).json()["ephemerals"],
        what="an ephemeral answer",
    )
    assert "It is yours" in ephemerals[0]["text"]
    # Somebody not on the staff list is told so; the channel itself is unchanged.
    emulators.slack_control(
        "click",
        {
            "user": "U0EVE",
            "channel": "C0HUMAS",
            "ts": message["ts"],
            "action_id": "reply_institution",
        },
    )
    refused = wait_for(
        lambda: emulators.http.get(
            f"{emulators.slack_server.url}/_emulator/ephemerals",
            params={"channel": "C0HUMAS", "user": "U0EVE"},
        ).json()["ephemerals"],
        what="a refusal",
    )
    assert "not on Reachable's staff list" in refused[0]["text"]
    assert emulators.messages() == [message] or len(emulators.messages()) == 1


@pytest.mark.parametrize("forgery", [{"signature": "bad"}, {"timestamp": 1_000_000_000}])
def test_forged_or_stale_slack_requests_are_refused(
    deployment: Deployment, forgery: dict[str, Any]
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle(deployment, 1)[0]
    result = emulators.slack_control(
        "click",
        {
            "user": "U0RINA",
            "channel": "C0HUMAS",
            "ts": message["ts"],
            "action_id": "claim",
            **forgery,
        },
    )
    assert result.json()["status"] == 401
    # The refused press claimed nothing: Rina's own press right after is the first claim,
    # and the only answer she sees is to that one.
    emulators.click("U0RINA", message["ts"], "claim")
    answers = settled(
        lambda: [
            e["text"]
            for e in emulators.http.get(
                f"{emulators.slack_server.url}/_emulator/ephemerals",
                params={"channel": "C0HUMAS", "user": "U0RINA"},
            ).json()["ephemerals"]
        ],
        until=bool,
        what="an answer to the genuine press",
    )
    assert len(answers) == 1 and "It is yours" in answers[0], answers


def signed_click(deployment: Deployment, *, team: str, user: str, message: dict[str, Any]) -> int:
    """A block_actions request signed with the real secret, as if from workspace ``team``."""
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "other"},
        "user": {"id": user, "username": "x", "team_id": team},
        "api_app_id": APP_ID,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": "C0HUMAS"},
        "channel": {"id": "C0HUMAS", "name": "humas"},
        "trigger_id": "1.2.3",
        "actions": [
            {
                "action_id": "claim",
                "block_id": "b",
                "type": "button",
                "value": "v",
                "action_ts": str(time.time()),
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=timestamp, body=body)
    response = httpx.post(
        f"http://127.0.0.1:{deployment.emulators.bridge_port}/slack/events",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        },
    )
    return response.status_code


def test_requests_from_another_workspace_are_ignored(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle(deployment, 1)[0]

    def ephemerals() -> list[dict[str, Any]]:
        return list(
            emulators.http.get(
                f"{emulators.slack_server.url}/_emulator/ephemerals",
                params={"channel": "C0HUMAS", "user": "U0RINA"},
            ).json()["ephemerals"]
        )

    assert signed_click(deployment, team="T0OTHER", user="U0RINA", message=message) == 200
    # The very same request from our own workspace is answered: the check is the team alone.
    # Only that one: the other workspace's, sent first, gets no answer however long we wait.
    assert signed_click(deployment, team=TEAM_ID, user="U0RINA", message=message) == 200
    answers = settled(ephemerals, until=bool, what="an answer to our own workspace")
    assert len(answers) == 1, answers
