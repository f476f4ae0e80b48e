"""The Slack emulator refuses, limits and pages as Slack does, seen through the real slack_sdk.

Sources: Slack's Web API spec (slackapi/slack-api-specs, web-api/slack_web_openapi_v2.json,
1.7.0) lists ``rate_limited`` (HTTP 200) for chat.postMessage and chat.update besides the 429
``ratelimited`` of the rate-limit tiers; the conversations.replies and .history reference pages
(docs.slack.dev) describe ``limit`` (default 1000 for replies and 100 for history, under 1000),
``cursor``/``response_metadata.next_cursor``/``has_more``, and the ``oldest``/``latest``/
``inclusive`` time range.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from adapters.emulation import EmulatorCore
from adapters.slack.emulator import SlackEmulator
from adapters.x.emulator import fault_response as x_fault_response
from bridge.httpserver import ThreadedServer

TOKEN = "xoxb-strict-test"
CHANNEL = "C0DESK"
RINA = "U0RINA"


@pytest.fixture
def emulator() -> Iterator[tuple[SlackEmulator, str]]:
    emulator = SlackEmulator(
        bot_token=TOKEN,
        bridge_url=None,
        channels={CHANNEL: "desk"},
        users={RINA: "rina"},
        rate_limits=False,
    )
    server = ThreadedServer(emulator.app).start()
    try:
        yield emulator, server.url
    finally:
        server.stop()


@pytest.fixture
def client(emulator: tuple[SlackEmulator, str]) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=f"{emulator[1]}/api/")


@pytest.fixture
async def control(emulator: tuple[SlackEmulator, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{emulator[1]}/_emulator", timeout=15) as http:
        yield http


async def refused(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


# -- rate_limited as a fault -----------------------------------------------------------------------


async def test_rate_limited_comes_with_http_200_with_or_without_retry_after(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    with_wait = {"path": "/api/chat.postMessage", "error": "rate_limited", "retry_after": 3}
    answer = await control.post("/faults", json=with_wait)
    assert answer.status_code == 200 and answer.json()["fault"]["status"] == 200
    error = await refused(client.chat_postMessage(channel=CHANNEL, text="x"))
    assert error.response.status_code == 200
    assert error.response.data == {"ok": False, "error": "rate_limited"}
    assert error.response.headers["Retry-After"] == "3"

    without = {"path": "/api/chat.update", "status": 200, "error": "rate_limited", "times": 2}
    await control.post("/faults", json=without)
    posted = await client.chat_postMessage(channel=CHANNEL, text="first")
    for _ in range(2):
        error = await refused(client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x"))
        assert error.response["error"] == "rate_limited"
        assert "Retry-After" not in error.response.headers
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="the third call works")


async def test_any_method_can_be_made_to_answer_any_slack_error(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    for path, error in (
        ("/api/conversations.history", "rate_limited"),
        ("/api/views.open", "rate_limited"),
        ("/api/chat.postEphemeral", "ratelimited"),
    ):
        await control.post("/faults", json={"path": path, "error": error})
    history = await refused(client.conversations_history(channel=CHANNEL))
    view = await refused(client.views_open(trigger_id="1.2.3", view={"type": "modal"}))
    ephemeral = await refused(client.chat_postEphemeral(channel=CHANNEL, user=RINA, text="x"))
    assert [e.response["error"] for e in (history, view, ephemeral)] == [
        "rate_limited",
        "rate_limited",
        "ratelimited",
    ]
    assert {e.response.status_code for e in (history, view, ephemeral)} == {200}

    # An error code with a 4xx status: the JSON body names it.
    await control.post(
        "/faults",
        json={"path": "/api/auth.test", "status": 403, "error": "team_access_not_granted"},
    )
    error = await refused(client.auth_test())
    assert (error.response.status_code, error.response["error"]) == (403, "team_access_not_granted")


async def test_faults_slack_could_not_send_are_refused_clearly(control: httpx.AsyncClient) -> None:
    cases = [
        ({"path": "/api/x", "status": 200}, "200 needs an error code"),
        ({"path": "/api/x", "status": 503, "error": "rate_limited"}, "5xx answers are plain text"),
        ({"path": "/api/x", "error": "Rate Limited!"}, "a code such as rate_limited"),
        ({"path": "/api/x", "error": "rate_limited", "times": 0}, "times must be >= 1"),
    ]
    for fault, problem in cases:
        answer = await control.post("/faults", json=fault)
        assert answer.status_code == 400 and problem in answer.json()["error"], fault
    assert (await control.get("/faults")).json()["faults"] == []


async def test_platforms_without_error_codes_refuse_them() -> None:
    core = EmulatorCore("x", x_fault_response)
    server = ThreadedServer(core.wrap(Starlette(routes=core.control_routes()))).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            answer = await http.post(
                "/_emulator/faults", json={"path": "/2/tweets", "error": "rate_limited"}
            )
    finally:
        server.stop()
    assert answer.status_code == 400
    assert "the x emulator's failures have no error code" in answer.json()["error"]


# -- paging as Slack pages -----------------------------------------------------------------------


async def test_a_long_thread_pages_oldest_first_with_a_cursor(client: AsyncWebClient) -> None:
    root = (await client.chat_postMessage(channel=CHANNEL, text="root"))["ts"]
    replies = [
        (await client.chat_postMessage(channel=CHANNEL, text=f"r{n}", thread_ts=root))["ts"]
        for n in range(7)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.conversations_replies(channel=CHANNEL, ts=root, limit=3, cursor=cursor)
        pages += 1
        seen += [m["ts"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        assert bool(cursor) is page["has_more"]
        if not page["has_more"]:
            break
    assert seen == [root, *replies] and pages == 3

    everything = await client.conversations_replies(channel=CHANNEL, ts=root)
    assert len(everything["messages"]) == 8 and everything["has_more"] is False
    bad = await refused(client.conversations_replies(channel=CHANNEL, ts=root, cursor="nope"))
    assert bad.response["error"] == "invalid_cursor"


async def test_a_time_range_narrows_replies_and_history(client: AsyncWebClient) -> None:
    root = (await client.chat_postMessage(channel=CHANNEL, text="root"))["ts"]
    first, second, third = [
        (await client.chat_postMessage(channel=CHANNEL, text=f"r{n}", thread_ts=root))["ts"]
        for n in range(3)
    ]
    after_first = await client.conversations_replies(channel=CHANNEL, ts=root, oldest=first)
    assert [m["ts"] for m in after_first["messages"]] == [second, third]
    between = await client.conversations_replies(
        channel=CHANNEL, ts=root, oldest=first, latest=third, inclusive=True
    )
    assert [m["ts"] for m in between["messages"]] == [first, second, third]

    later = [(await client.chat_postMessage(channel=CHANNEL, text=f"t{n}"))["ts"] for n in range(3)]
    newer = await client.conversations_history(channel=CHANNEL, oldest=later[0], limit=1)
    assert [m["ts"] for m in newer["messages"]] == [later[2]] and newer["has_more"] is True
    rest = await client.conversations_history(
        channel=CHANNEL, oldest=later[0], cursor=newer["response_metadata"]["next_cursor"]
    )
    assert [m["ts"] for m in rest["messages"]] == [later[1]] and rest["has_more"] is False
    bad = await refused(client.conversations_history(channel=CHANNEL, oldest="yesterday"))
    assert bad.response["error"] == "invalid_ts_oldest"
