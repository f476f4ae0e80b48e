"""The Slack emulator refuses, limits and pages as Slack does, seen through the real slack_sdk.

Block Kit limits: emulators/slack/blocks.py names them and their sources.

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
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.httpserver import ThreadedServer
from emulators.core import EmulatorCore
from emulators.slack import SlackEmulator
from emulators.x.render import fault_response as x_fault_response

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


# -- Block Kit limits ----------------------------------------------------------------------------

BUTTON = {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def text_input(**extra: Any) -> dict[str, Any]:
    element = {"type": "plain_text_input", "action_id": "text", **extra}
    return {"type": "input", "block_id": "reply", "label": plain("Reply"), "element": element}


def choice(kind: str, options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    element = {"type": kind, "action_id": "pick", "options": options, **extra}
    return {"type": "input", "block_id": "choice", "label": plain("Pick"), "element": element}


def modal(*blocks: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("Reply"),
        "submit": plain("Send"),
        "close": plain("Cancel"),
        "blocks": list(blocks),
        **extra,
    }


@pytest.fixture
def bridge() -> Iterator[str]:
    """Something that answers Slack's signed requests, so that a click yields a trigger_id."""

    async def ok(request: Request) -> Response:
        return Response("")

    server = ThreadedServer(
        Starlette(routes=[Route("/slack/events", ok, methods=["POST"])])
    ).start()
    try:
        yield f"{server.url}/slack/events"
    finally:
        server.stop()


@pytest.fixture
async def trigger(client: AsyncWebClient, control: httpx.AsyncClient, bridge: str) -> Any:
    """A fresh trigger_id, as a button press gives one (usable once, for 3 seconds)."""
    await control.post("/config", json={"bridge_url": bridge})
    ts = (
        await client.chat_postMessage(
            channel=CHANNEL, text="x", blocks=[{"type": "actions", "elements": [BUTTON]}]
        )
    )["ts"]

    async def new() -> str:
        click = {"user": RINA, "channel": CHANNEL, "ts": ts, "action_id": "go"}
        answer = await control.post("/click", json=click)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["trigger_id"])

    return new


MODAL_REFUSALS: list[tuple[dict[str, Any], str]] = [
    (modal(text_input(max_length=3001)), "/view/blocks/0/element/max_length"),
    (modal(text_input(min_length=20, max_length=10)), "/view/blocks/0/element/min_length"),
    (
        modal(text_input(max_length=10, initial_value="x" * 11)),
        "/view/blocks/0/element/initial_value",
    ),
    (modal(text_input(initial_value="x" * 3001)), "/view/blocks/0/element/initial_value"),
    (modal(text_input(placeholder=plain("x" * 151))), "/view/blocks/0/element/placeholder/text"),
    (
        modal(choice("radio_buttons", [option(f"o{n}", f"v{n}") for n in range(11)])),
        "/view/blocks/0/element/options",
    ),
    (
        modal(choice("static_select", [option(f"o{n}", f"v{n}") for n in range(101)])),
        "/view/blocks/0/element/options",
    ),
    (
        modal(choice("radio_buttons", [option("x" * 76, "v")])),
        "/view/blocks/0/element/options/0/text/text",
    ),
    (
        modal(choice("radio_buttons", [option("o", "v" * 151)])),
        "/view/blocks/0/element/options/0/value",
    ),
    (
        modal(choice("radio_buttons", [option("o", "v")], initial_option=option("p", "w"))),
        "/view/blocks/0/element/initial_option",
    ),
    (modal(text_input(), title=plain("x" * 25)), "/view/title/text"),
    (modal(text_input(), submit=plain("x" * 25)), "/view/submit/text"),
    (modal(text_input(), close=plain("x" * 25)), "/view/close/text"),
    (modal(text_input(), private_metadata="x" * 3001), "/view/private_metadata"),
    (modal(text_input(), callback_id="x" * 256), "/view/callback_id"),
    (modal({**text_input(), "block_id": "x" * 256}), "/view/blocks/0/block_id"),
    (modal(*[{"type": "divider"}] * 101), "/view/blocks"),
]


@pytest.mark.parametrize(("view", "pointer"), MODAL_REFUSALS)
async def test_a_modal_past_a_limit_is_refused_naming_the_place(
    client: AsyncWebClient, trigger: Any, view: dict[str, Any], pointer: str
) -> None:
    error = await refused(client.views_open(trigger_id=await trigger(), view=view))
    assert error.response["error"] == "invalid_arguments"
    [message] = error.response["response_metadata"]["messages"]
    assert message.startswith("[ERROR] ") and message.endswith(f"[json-pointer:{pointer}]")


async def test_a_modal_at_every_limit_opens(client: AsyncWebClient, trigger: Any) -> None:
    radios = [option(f"{n}" + "x" * 74, f"{n}" + "v" * 149) for n in range(10)]
    view = modal(
        text_input(max_length=3000, initial_value="x" * 3000, placeholder=plain("p" * 150)),
        choice("radio_buttons", radios, initial_option=radios[3]),
        {
            "type": "input",
            "block_id": "menu",
            "label": plain("Menu"),
            "element": {
                "type": "static_select",
                "action_id": "menu",
                "options": [option(f"o{n}", f"v{n}") for n in range(100)],
            },
        },
        title=plain("t" * 24),
        submit=plain("s" * 24),
        close=plain("c" * 24),
        private_metadata="m" * 3000,
        callback_id="c" * 255,
    )
    opened = await client.views_open(trigger_id=await trigger(), view=view)
    assert opened["view"]["private_metadata"] == "m" * 3000
    updated = await client.views_update(view_id=opened["view"]["id"], view=view)
    assert updated["ok"]
    too_long = modal(text_input(max_length=3001))
    error = await refused(client.views_update(view_id=opened["view"]["id"], view=too_long))
    assert error.response["error"] == "invalid_arguments"


async def test_message_blocks_past_a_limit_are_refused_by_every_method(
    client: AsyncWebClient,
) -> None:
    long_button = [{"type": "actions", "elements": [{**BUTTON, "text": plain("x" * 76)}]}]
    menu = {
        "type": "static_select",
        "action_id": "menu",
        "options": [option("o", "v" * 151)],
    }
    bad_option = [{"type": "actions", "elements": [menu]}]
    too_many = [{"type": "divider"}] * 51
    posted = await client.chat_postMessage(channel=CHANNEL, text="x")
    for blocks, pointer in (
        (long_button, "/blocks/0/elements/0/text/text"),
        (bad_option, "/blocks/0/elements/0/options/0/value"),
        (too_many, "/blocks"),
    ):
        for call in (
            client.chat_postMessage(channel=CHANNEL, text="x", blocks=blocks),
            client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x", blocks=blocks),
            client.chat_postEphemeral(channel=CHANNEL, user=RINA, text="x", blocks=blocks),
        ):
            error = await refused(call)
            assert error.response["error"] == "invalid_blocks"
            assert error.response["response_metadata"]["messages"][0].endswith(
                f"[json-pointer:{pointer}]"
            )
    await client.chat_postMessage(channel=CHANNEL, text="x", blocks=[{"type": "divider"}] * 50)
