"""What the bridge's doors refuse, they refuse plainly: a 4xx that says why (never a 500), one
log line with the origin and the reason (never the body), a count in /metrics, and nothing
changed. A signed payload is still only data: the bridge follows no address it names but
Slack's own, and text that cannot be posted is turned back to the person who wrote it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.httpserver import ThreadedServer
from tests.e2e.conftest import APP_ID, GROUP, TEAM_ID, Deployment, wait_for
from tests.e2e.test_hostile_requests import BUTTON, form, slack_headers, snapshot
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_replies import open_reply_form

SECRET_TOKEN = "s3cret-token"
# Sent in every refused body: it must never reach the log.
MARKER = "BODY-MARKER-9f3c"
LONE_SURROGATE = "terima kasih \ud83d"


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent chunked: no Content-Length tells its size up front."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_refused_requests_get_a_clear_4xx_one_log_line_without_the_body_and_a_count(
    deployment: Deployment, redis_url: str
) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"] = (
        f"http://127.0.0.1:{emulators.bridge_port}/telegram/webhook"
    )
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"] = SECRET_TOKEN
    deployment.start("web")
    base = f"http://127.0.0.1:{emulators.bridge_port}"
    button = form({**BUTTON, "marker": MARKER})
    oversized = b"payload=" + MARKER.encode() + b"x" * 1_200_000
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    update = json.dumps({"update_id": 5, "marker": MARKER}).encode()
    slack_cases: list[tuple[str, dict[str, str | bytes], bytes | Iterator[bytes], int]] = [
        ("unsigned", {}, button, 401),
        ("forged", slack_headers(button, secret="guess"), button, 401),
        (
            "a timestamp that is no number",
            {**slack_headers(button), "X-Slack-Request-Timestamp": "12a4"},
            button,
            401,
        ),
        (
            "a signature that is not ASCII",
            {**slack_headers(button), "X-Slack-Signature": "v0=é".encode("latin-1")},
            button,
            401,
        ),
        ("an oversized chunked body", slack_headers(oversized), chunks(oversized), 413),
    ]
    before = snapshot(redis_url)
    with httpx.Client(timeout=15, trust_env=False) as http:
        for what, headers, body, status in slack_cases:
            response = http.post(
                f"{base}/slack/events", content=body, headers={**form_type, **headers}
            )
            assert response.status_code == status, (what, response.status_code, response.text)
            assert response.json()["error"], what
        telegram_cases: list[tuple[str, dict[str, str | bytes], bytes | Iterator[bytes], int]] = [
            ("a secret that is not ASCII", {"X-Telegram-Bot-Api-Secret-Token": "é"}, update, 403),
            (
                "an oversized chunked body",
                {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN},
                chunks(b'{"update_id": 1, "x": "' + b"x" * 1_200_000 + b'"}'),
                413,
            ),
        ]
        for what, headers, body, status in telegram_cases:
            response = http.post(
                f"{base}/telegram/webhook",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    **{
                        name: value.encode("latin-1") if isinstance(value, str) else value
                        for name, value in headers.items()
                    },
                },
            )
            assert response.status_code == status, (what, response.status_code, response.text)
        metrics = http.get(f"{base}/metrics").text

    assert 'reachable_refused_requests_total{door="slack"} 5.0' in metrics
    assert 'reachable_refused_requests_total{door="telegram"} 2.0' in metrics
    after = {key: kind for key, kind in snapshot(redis_url).items() if ":count:refused:" not in key}
    assert after == {key: kind for key, kind in before.items() if ":count:refused:" not in key}
    log = deployment.log.read_text()
    assert MARKER not in log
    refusals = [line for line in log.splitlines() if "refused a request at" in line]
    assert len(refusals) == 7, refusals
    assert any("slack from 127.0.0.1: the timestamp is not a number" in r for r in refusals)
    assert "Traceback" not in log
    assert deployment.processes[0].alive()


class ForeignHost:
    """An address that is not Slack's, counting what reaches it."""

    def __init__(self) -> None:
        self.hits = 0

        async def hit(request: Request) -> Response:
            self.hits += 1
            return JSONResponse({"ok": True})

        self.server = ThreadedServer(
            Starlette(routes=[Route("/{path:path}", hit, methods=["POST"])])
        ).start()


def test_a_response_url_elsewhere_is_never_followed_and_the_answer_still_comes(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start("web")
    foreign = ForeignHost()
    try:
        command = urlencode(
            {
                "team_id": TEAM_ID,
                "api_app_id": APP_ID,
                "channel_id": "C0HUMAS",
                "user_id": "U0RINA",
                "command": "/reachable",
                "text": "unlink",
                "trigger_id": "1.2.3",
                "response_url": f"{foreign.server.url}/steal",
            }
        ).encode()
        response = httpx.post(
            f"http://127.0.0.1:{emulators.bridge_port}/slack/events",
            content=command,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                **slack_headers(command),
            },
            trust_env=False,
        )
        assert response.status_code == 200, response.text

        def ephemerals() -> list[object]:
            return list(
                emulators.http.get(
                    f"{emulators.slack_server.url}/_emulator/ephemerals",
                    params={"channel": "C0HUMAS", "user": "U0RINA"},
                ).json()["ephemerals"]
            )

        wait_for(ephemerals, what="the answer, told to Rina directly")
        assert foreign.hits == 0
    finally:
        foreign.server.stop()


def test_a_payload_without_the_app_id_is_ignored_when_one_is_configured(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle(deployment, 1)[0]
    claim = next(
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "claim"
    )
    press = {
        **BUTTON,
        "container": {"type": "message", "channel_id": "C0HUMAS", "message_ts": message["ts"]},
        "message": {"ts": message["ts"]},
        "actions": [{"action_id": "claim", "value": claim["value"], "action_ts": "1.5"}],
    }

    def send(payload: dict[str, object]) -> None:
        body = form(payload)
        response = httpx.post(
            f"http://127.0.0.1:{emulators.bridge_port}/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **slack_headers(body)},
            trust_env=False,
        )
        assert response.status_code == 200, response.text

    send({key: value for key, value in press.items() if key != "api_app_id"})
    wait_for(
        lambda: "ignored a Slack request from workspace" in deployment.log.read_text(),
        what="the bridge to log the ignored request",
    )
    assert "is on it" not in str(emulators.messages()[0]["blocks"])

    send({**press, "trigger_id": "1.2.4"})  # the same press from our app does claim
    wait_for(
        lambda: "rina is on it" in str(emulators.messages()[0]["blocks"]),
        what="the claim from a payload naming our app",
    )


def test_a_reply_with_broken_unicode_is_turned_back_with_a_clear_message(
    deployment: Deployment,
) -> None:
    """No Telegram app can send a lone surrogate (its wire is UTF-8), but a JSON escape can
    carry one; Slack forms can. Either way the person is told, and nothing is stored."""
    emulators = deployment.emulators
    webhook = f"http://127.0.0.1:{emulators.bridge_port}/telegram/webhook"
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"] = webhook
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"] = SECRET_TOKEN
    deployment.start()
    emulators.post("warga_budi", "@humas_demo jalan rusak")
    message = settle(deployment, 1)[0]
    mirrored = settle_telegram(deployment, 1)[0]

    view = open_reply_form(emulators, "U0RINA", message)
    # JSON escapes a lone surrogate as \\ud83d, as a forged or broken client would send it.
    refused = emulators.http.post(
        f"{emulators.slack_server.url}/_emulator/submit",
        content=json.dumps({"user": "U0RINA", "view_id": view["id"], "text": LONE_SURROGATE}),
        headers={"Content-Type": "application/json"},
    ).json()
    assert refused["view"] == "kept_open"
    assert "cannot be posted (broken Unicode" in str(refused["body"])

    # Rina answers in the chat and the bot shows its preview. A broken client's message is then
    # forged under the id of a message the chat has (the preview), since the bot answers by
    # replying to it; it is no repeat of anything the bridge has seen.
    normal = emulators.telegram_control(
        "send",
        {
            "user_id": 1001,
            "chat_id": GROUP,
            "text": "terima kasih",
            "reply_to_message_id": mirrored["message_id"],
        },
    ).json()
    preview = wait_for(
        lambda: [m for m in emulators.telegram_messages() if "terima kasih" in m["text"]][1:],
        what="the preview of Rina's answer",
    )[0]
    refused_by_telegram = emulators.http.post(
        f"{emulators.telegram_server.url}/_emulator/send",
        content=json.dumps({"user_id": 1001, "chat_id": GROUP, "text": LONE_SURROGATE}),
        headers={"Content-Type": "application/json"},
    )
    assert refused_by_telegram.status_code == 400
    assert "lone surrogate" in refused_by_telegram.text
    now = int(time.time())
    update = {
        "update_id": normal["update_id"] + 1,
        "message": {
            "message_id": preview["message_id"],
            "date": now,
            "chat": {"id": GROUP, "type": "supergroup", "title": "Humas"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Rina"},
            "text": LONE_SURROGATE,
            "reply_to_message": {
                "message_id": mirrored["message_id"],
                "date": now,
                "chat": {"id": GROUP, "type": "supergroup", "title": "Humas"},
                "from": {"id": 424242, "is_bot": True, "first_name": "Reachable"},
                "text": mirrored["text"],
            },
        },
    }
    pushed = httpx.post(
        webhook,
        content=json.dumps(update),
        headers={
            "Content-Type": "application/json",
            "X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN,
        },
        trust_env=False,
    )
    assert pushed.status_code == 200, pushed.text
    wait_for(
        lambda: [
            m
            for m in emulators.telegram_messages()
            if "cannot be posted (broken Unicode" in (m.get("text") or "")
        ],
        what="the bot to say the text cannot be posted",
    )
    lines = deployment.audit().splitlines()
    assert any("refused | rina via slack" in line and "\\ud83d" in line for line in lines)
    assert "Traceback" not in deployment.log.read_text()
