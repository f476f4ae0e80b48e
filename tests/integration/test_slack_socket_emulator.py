"""The Slack emulator's Socket Mode, driven by slack_sdk's own Socket Mode client.

If the emulator's envelopes, acks, tickets and drops did not behave like Slack's, the bridge's
Socket Mode tests would prove nothing; here the real client connects, acks and reconnects.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from app.httpserver import ThreadedServer
from emulators.slack import SlackEmulator

APP_TOKEN = "xapp-1-test"
BOT_TOKEN = "xoxb-test"
CHANNEL = "C0MENTIONS"
RINA = "U0RINA"


@pytest.fixture
def emulator() -> Iterator[tuple[SlackEmulator, str]]:
    slack = SlackEmulator(
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        socket_mode=True,
        channels={CHANNEL: "mentions"},
        users={RINA: "rina"},
    )
    server = ThreadedServer(slack.app)
    server.start()
    try:
        yield slack, server.url
    finally:
        server.stop()


class Recorder:
    """A Socket Mode app that acks every envelope, answering commands with a text."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.ack = True

    async def __call__(self, client: SocketModeClient, request: SocketModeRequest) -> None:
        self.received.append(
            {"type": request.type, "payload": request.payload, "retry": request.retry_attempt}
        )
        if not self.ack:
            return
        payload = {"text": "got it"} if request.type == "slash_commands" else None
        await client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=payload)
        )


@pytest.fixture
async def connected(
    emulator: tuple[SlackEmulator, str],
) -> AsyncIterator[tuple[SocketModeClient, Recorder, str]]:
    _, url = emulator
    web = AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/")
    client = SocketModeClient(app_token=APP_TOKEN, web_client=web, ping_interval=1)
    recorder = Recorder()
    client.socket_mode_request_listeners.append(recorder)  # type: ignore[arg-type]
    await client.connect()
    try:
        yield client, recorder, url
    finally:
        await client.close()


async def _control(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with httpx.AsyncClient(base_url=url, timeout=20) as http:
        response = await http.request(method, f"/_emulator{path}", json=body)
        return response.status_code, response.json()


async def _connections(url: str) -> int:
    return len((await _control(url, "GET", "/socket"))[1]["connections"])


async def _wait_connected(url: str) -> None:
    for _ in range(100):
        if await _connections(url):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the client did not reconnect")


async def test_only_the_app_token_opens_a_connection(emulator: tuple[SlackEmulator, str]) -> None:
    _, url = emulator
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(token=BOT_TOKEN, base_url=f"{url}/api/").apps_connections_open(
            app_token=BOT_TOKEN
        )
    assert refused.value.response["error"] == "not_allowed_token_type"
    opened = await AsyncWebClient(base_url=f"{url}/api/").apps_connections_open(app_token=APP_TOKEN)
    assert str(opened["url"]).startswith("ws://127.0.0.1:")


async def test_events_commands_and_clicks_arrive_as_acked_envelopes(
    connected: tuple[SocketModeClient, Recorder, str],
) -> None:
    _, recorder, url = connected
    await _wait_connected(url)
    status, sent = await _control(
        url, "POST", "/message", {"user": RINA, "channel": CHANNEL, "text": "hello"}
    )
    assert status == 200 and sent["status"] == 200
    status, answered = await _control(
        url, "POST", "/command", {"user": RINA, "channel": CHANNEL, "command": "/reachable"}
    )
    assert answered["status"] == 200 and json.loads(answered["body"]) == {"text": "got it"}
    assert [r["type"] for r in recorder.received] == ["events_api", "slash_commands"]
    event = recorder.received[0]["payload"]
    assert event["event_id"] == sent["event_id"] and event["event"]["text"] == "hello"
    assert recorder.received[1]["payload"]["user_id"] == RINA


async def test_an_event_unacked_when_the_connection_drops_is_sent_again_after_reconnecting(
    connected: tuple[SocketModeClient, Recorder, str],
) -> None:
    _, recorder, url = connected
    await _wait_connected(url)
    await _control(url, "POST", "/socket/drop", {"after_next_send": True})
    status, sent = await _control(
        url, "POST", "/message", {"user": RINA, "channel": CHANNEL, "text": "once"}
    )
    assert status == 200 and sent["status"] == 200
    deliveries = [r for r in recorder.received if r["payload"].get("event_id") == sent["event_id"]]
    assert [d["retry"] for d in deliveries] == [0, 1]
    state = (await _control(url, "GET", "/socket"))[1]
    assert state["dropped"] == 1 and state["redelivered"] == 1


async def test_a_command_is_not_resent_and_the_person_sees_an_error(
    connected: tuple[SocketModeClient, Recorder, str],
) -> None:
    _, recorder, url = connected
    await _wait_connected(url)
    recorder.ack = False
    status, body = await _control(
        url, "POST", "/command", {"user": RINA, "channel": CHANNEL, "command": "/reachable"}
    )
    assert status == 504 and "acknowledge" in body["error"]
    assert len(recorder.received) == 1
