"""The emulators' call log keeps what each call asked for, and never a credential."""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import json
from collections.abc import Iterator

import httpx
import pytest

from app.httpserver import ThreadedServer
from emulators.telegram import TelegramEmulator
from emulators.x import XEmulator

BOT_TOKEN = "123456:ABC-secret-part"
GROUP = -1001000000001


@pytest.fixture
def telegram() -> Iterator[httpx.Client]:
    emulator = TelegramEmulator(
        token=BOT_TOKEN,
        bot_username="reachable_bot",
        chats={GROUP: {"title": "Humas", "type": "supergroup"}},
        users={},
    )
    server = ThreadedServer(emulator.app).start()
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as http:
        yield http
    server.stop()


def test_a_form_call_is_logged_with_its_parameters(telegram: httpx.Client) -> None:
    telegram.post(
        f"/bot{BOT_TOKEN}/sendMessage",
        data={"chat_id": str(GROUP), "text": "halo", "reply_markup": '{"inline_keyboard": []}'},
    )

    (call,) = telegram.get("/_emulator/calls").json()["calls"]
    assert call["params"] == {
        "chat_id": str(GROUP),
        "text": "halo",
        "reply_markup": '{"inline_keyboard": []}',
    }
    assert (call["body_format"], call["status"]) == ("form", 200)


def test_a_json_call_and_an_injected_fault_are_logged_with_their_parameters(
    telegram: httpx.Client,
) -> None:
    telegram.post(
        "/_emulator/faults", json={"path": "/bot*/sendMessage", "status": 429, "retry_after": 3}
    )
    telegram.post(f"/bot{BOT_TOKEN}/sendMessage", json={"chat_id": GROUP, "text": "halo"})
    telegram.get(f"/bot{BOT_TOKEN}/getUpdates", params={"offset": "5", "timeout": "0"})

    limited, updates = telegram.get("/_emulator/calls").json()["calls"]
    assert (limited["status"], limited["params"]) == (429, {"chat_id": GROUP, "text": "halo"})
    assert (updates["params"], updates["body_format"]) == ({"offset": "5", "timeout": "0"}, "none")


def test_secrets_sent_as_parameters_are_logged_by_name_only(telegram: httpx.Client) -> None:
    telegram.post(
        f"/bot{BOT_TOKEN}/setWebhook",
        data={"url": "http://127.0.0.1:9/telegram", "secret_token": "s3cret-value"},
    )
    x = XEmulator(oauth2_clients={"web": "client-secret-value"})
    server = ThreadedServer(x.app).start()
    try:
        httpx.post(
            f"{server.url}/2/oauth2/token",
            data={"grant_type": "refresh_token", "refresh_token": "r3fresh-value"},
            auth=("web", "client-secret-value"),
            trust_env=False,
        )
        x_calls = httpx.get(f"{server.url}/_emulator/calls", trust_env=False).json()["calls"]
    finally:
        server.stop()
    (webhook,) = telegram.get("/_emulator/calls").json()["calls"]

    assert webhook["params"]["secret_token"] == "[redacted]"
    assert x_calls[0]["params"] == {"grant_type": "refresh_token", "refresh_token": "[redacted]"}
    logged = json.dumps([webhook, *x_calls])
    assert "s3cret-value" not in logged and "r3fresh-value" not in logged
