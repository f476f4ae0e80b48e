"""Hostile requests at the bridge's public doors: each gets a clear refusal (or is ignored, as
the platform expects) and none changes anything in Redis.

Slack's events URL and Telegram's webhook: malformed and oversized bodies, forged signatures,
stale timestamps, replays, wrong secrets, unknown workspaces, chats and people, ids beyond
2**53, and signed payloads full of garbage.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import redis

from tests.e2e.conftest import GROUP, SLACK_SECRET, TEAM_ID, Deployment

SECRET_TOKEN = "s3cret-token"


def snapshot(url: str) -> dict[str, Any]:
    """Every key of the deployment with its type and size: what a request could have changed.
    Left out: the audit log, where a refused attempt is recorded by design (a stranger's once a
    minute per chat, with its two keys counting the rest), the mark a known person's signed
    action leaves for an hour, whatever it did, so that a replay of it does nothing, and the
    count of refused requests /metrics shows (one integer per door)."""
    with redis.Redis.from_url(url, decode_responses=True) as client:
        state = {}
        for key in client.scan_iter(match="e2e:*", count=1000):
            if key == "e2e:audit" or key.startswith(
                ("e2e:audit:strangers:", "e2e:seen:slack:interaction:", "e2e:count:refused:")
            ):
                continue
            kind = client.type(key)
            size = {
                "string": client.strlen,
                "hash": client.hlen,
                "list": client.llen,
                "set": client.scard,
                "zset": client.zcard,
                "stream": client.xlen,
            }[kind](key)
            state[key] = (kind, size)
        return state


def slack_headers(body: bytes, *, age_s: int = 0, secret: str = SLACK_SECRET) -> dict[str, str]:
    """Signed as Slack signs (v0, HMAC-SHA256), for any bytes, even invalid UTF-8."""
    timestamp = str(int(time.time()) - age_s)
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}


def form(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


BUTTON = {
    "type": "block_actions",
    "team": {"id": TEAM_ID},
    "api_app_id": "A0TEST",
    "user": {"id": "U0RINA"},
    "channel": {"id": "C0HUMAS"},
    "container": {"type": "message", "channel_id": "C0HUMAS", "message_ts": "1.2"},
    "trigger_id": "1.2.3",
    "actions": [
        {"action_id": "claim", "value": "x-humas-18446744073709551615|99999999999999999999"}
    ],
}


def slack_requests() -> list[tuple[str, bytes, Callable[[bytes], dict[str, str]], set[int]]]:
    """(what, body, headers for it, acceptable statuses): each must leave Redis untouched."""
    signed = slack_headers
    garbage_button = {**BUTTON, "actions": [{"action_id": "claim", "value": "\u202e<!channel>|"}]}
    return [
        ("not a form or JSON", b"\x00\xff\xfe garbage", signed, {400, 401, 404}),
        ("oversized", b"payload=" + b"x" * 2_000_000, signed, {413}),
        ("forged signature", form(BUTTON), lambda b: signed(b, secret="guess"), {401}),
        ("stale timestamp", form(BUTTON), lambda b: signed(b, age_s=600), {401}),
        ("no signature", form(BUTTON), lambda b: {}, {401}),
        ("another workspace", form({**BUTTON, "team": {"id": "T0OTHER"}}), signed, {200}),
        ("an unknown person", form({**BUTTON, "user": {"id": "U0EVE"}}), signed, {200}),
        (
            "a channel that is no destination",
            form({**BUTTON, "channel": {"id": "C0NOPE"}}),
            signed,
            {200},
        ),
        ("ids beyond 2**53 for no thread", form(BUTTON), signed, {200}),
        ("garbage in a signed button", form(garbage_button), signed, {200}),
        ("a signed payload that is not JSON", b"payload=%7B%7B%7B", signed, {400, 401, 404}),
    ]


def test_hostile_requests_change_nothing(deployment: Deployment, redis_url: str) -> None:
    emulators = deployment.emulators
    webhook = f"http://127.0.0.1:{emulators.bridge_port}/telegram/webhook"
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"] = webhook
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"] = SECRET_TOKEN
    deployment.start("web")
    events = f"http://127.0.0.1:{emulators.bridge_port}/slack/events"
    with httpx.Client(timeout=15, trust_env=False) as http:
        for what, body, headers, statuses in slack_requests():
            before = snapshot(redis_url)
            response = http.post(
                events,
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded", **headers(body)},
            )
            time.sleep(0.3)  # anything it set off in the background has run
            assert response.status_code in statuses, (what, response.status_code, response.text)
            assert snapshot(redis_url) == before, f"Slack: {what} changed the state"

        update = {
            "update_id": 2**62,
            "message": {
                "message_id": 2**40,
                "date": int(time.time()),
                "chat": {"id": -(2**60), "type": "supergroup", "title": "<b>x</b>"},
                "from": {"id": 2**60, "is_bot": False, "first_name": "\u202e\ud800"},
                "text": "/rules",
            },
        }
        known_chat_stranger = {
            "update_id": 7,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 6666, "type": "private"},
                "from": {"id": 6666, "is_bot": False, "first_name": "Eve"},
                "text": "/link",
            },
        }
        ok = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN, "Content-Type": "application/json"}
        telegram_cases = [
            (
                "wrong secret",
                json.dumps(update).encode(),
                {**ok, "X-Telegram-Bot-Api-Secret-Token": "guess"},
                {403},
            ),
            ("no secret", json.dumps(update).encode(), {"Content-Type": "application/json"}, {403}),
            ("not JSON", b"{{{", ok, {400}),
            ("JSON that is no update", b'{"update_id": "x", "message": 5}', ok, {400}),
            ("oversized", b'{"update_id": 1, "x": "' + b"x" * 2_000_000 + b'"}', ok, {413}),
            ("an unknown chat, ids beyond 2**53", json.dumps(update).encode(), ok, {200}),
            ("a stranger in private", json.dumps(known_chat_stranger).encode(), ok, {200}),
        ]
        for what, body, headers_, statuses in telegram_cases:
            before = snapshot(redis_url)
            response = http.post(webhook, content=body, headers=headers_)
            time.sleep(0.3)
            assert response.status_code in statuses, (what, response.status_code, response.text)
            assert snapshot(redis_url) == before, f"Telegram: {what} changed the state"
        for where in ("/slack/events", "/telegram/webhook", "/link/x/callback"):
            wrong = http.put(f"http://127.0.0.1:{emulators.bridge_port}{where}")
            assert wrong.status_code == 405, where
    assert deployment.processes[0].alive()
    assert emulators.telegram_messages(GROUP) == []
    assert not [c for c in emulators.telegram_calls("sendMessage")]
