"""The Slack emulator against the real slack_sdk client and a receiver that checks signatures.

The emulator is only useful if it fails where Slack fails and signs like Slack signs, so these
tests drive it with ``AsyncWebClient`` and verify outgoing requests with slack_sdk's own
``SignatureVerifier``. Payload shapes are compared with Slack's recorded fixtures.
"""

from __future__ import annotations

import os

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.httpserver import ThreadedServer
from emulators.slack import SlackEmulator

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"
MENTIONS = "C0MENTIONS"
OTHER = "C0OTHER"
RINA = "U0RINA"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"

BUTTONS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*New mention*"}},
    {
        "type": "actions",
        "block_id": "mention_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "text": {"type": "plain_text", "text": "Claim"},
                "value": "thread-1",
            },
            {
                "type": "button",
                "action_id": "reply_institution",
                "text": {"type": "plain_text", "text": "Reply"},
                "value": "thread-1",
            },
        ],
    },
]
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "reply_modal",
    "private_metadata": "thread-1",
    "title": {"type": "plain_text", "text": "Reply"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Your reply"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
        }
    ],
}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


# -- a bridge stand-in that verifies what it receives --------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool

    def payload(self) -> dict[str, Any]:
        """The JSON inside: an event body, or the ``payload`` field of an interactive form."""
        if self.headers.get("content-type", "").startswith("application/json"):
            data: dict[str, Any] = json.loads(self.body)
            return data
        form = self.form()
        return dict(json.loads(form["payload"])) if "payload" in form else form

    def form(self) -> dict[str, Any]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class Receiver:
    """Answers like a bridge: 401 on a bad signature, else the next queued reply (or 200 "")."""

    verifier: SignatureVerifier = field(default_factory=lambda: SignatureVerifier(SECRET))
    got: list[Received] = field(default_factory=list)
    replies: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        valid = self.verifier.is_valid(
            body=body,
            timestamp=request.headers.get("x-slack-request-timestamp"),
            signature=request.headers.get("x-slack-signature"),
        )
        with self.lock:
            self.got.append(Received(dict(request.headers), body, valid))
            status, text = self.replies.pop(0) if self.replies else (200, "")
        if not valid:
            return Response("invalid signature", status_code=401)
        media = "application/json" if text.startswith("{") else "text/plain"
        return Response(text, status_code=status, media_type=media)

    @property
    def last(self) -> Received:
        with self.lock:
            return self.got[-1]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/slack/events", receiver.endpoint, methods=["POST"])])
    server = ThreadedServer(app).start()
    try:
        yield receiver, f"{server.url}/slack/events"
    finally:
        server.stop()


@pytest.fixture
def emulator(receiver: tuple[Receiver, str]) -> Iterator[tuple[SlackEmulator, str]]:
    emulator = SlackEmulator(
        bot_token=TOKEN,
        signing_secret=SECRET,
        team_id="T0REACH",
        app_id="A0REACH",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
        bridge_url=receiver[1],
        channels={MENTIONS: "mentions", OTHER: "other"},
        non_member_channels={"C0PRIVATE": "private"},
        users={RINA: "rina", "U0BUDI": "budi"},
        # Off: these tests check shapes with many calls in a row to one channel; the limits
        # have tests of their own (here, and in test_emulator_limits.py).
        rate_limits=False,
    )
    server = ThreadedServer(emulator.app).start()
    try:
        yield emulator, server.url
    finally:
        server.stop()


@pytest.fixture
def url(emulator: tuple[SlackEmulator, str]) -> str:
    return emulator[1]


@pytest.fixture
def client(url: str) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=f"{url}/api/")


@pytest.fixture
async def control(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{url}/_emulator", timeout=15) as http:
        yield http


async def post_buttons(client: AsyncWebClient, **extra: Any) -> str:
    response = await client.chat_postMessage(
        channel=MENTIONS, text="New mention", blocks=BUTTONS, **extra
    )
    return str(response["ts"])


async def messages(control: httpx.AsyncClient, channel: str = MENTIONS) -> list[dict[str, Any]]:
    response = await control.get("/messages", params={"channel": channel})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["messages"]
    return found


# -- Web API -------------------------------------------------------------------------------------


async def test_auth_test_reports_the_bot(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["user_id"] == "U0BOT"
    assert response["bot_id"] == "B0BOT"
    assert response["team_id"] == "T0REACH"
    assert set(response.data) <= set(fixture("auth.test.response.sample.json")) | {"ok"}


async def test_post_reply_update_and_read_back(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    metadata = {"event_type": "mention_mirrored", "event_payload": {"thread": "t1"}}
    posted = await client.chat_postMessage(
        channel=MENTIONS, text="Mention", blocks=BUTTONS, metadata=metadata
    )
    parent = posted["ts"]
    assert posted["channel"] == MENTIONS
    assert posted["message"]["bot_id"] == "B0BOT"
    assert set(posted.data) <= set(fixture("chat.postMessage.response.sample.min.json"))
    reply = await client.chat_postMessage(channel=MENTIONS, text="later", thread_ts=parent)
    assert float(reply["ts"]) > float(parent)
    await client.chat_postMessage(channel=MENTIONS, text="second top-level")

    updated = await client.chat_update(channel=MENTIONS, ts=parent, text="Claimed by Rina")
    assert updated["text"] == "Claimed by Rina"
    assert set(updated.data) <= set(fixture("chat.update.response.sample.min.json"))

    history = await client.conversations_history(channel=MENTIONS, include_all_metadata=True)
    texts = [m["text"] for m in history["messages"]]
    assert texts == ["second top-level", "Claimed by Rina"]  # newest first, no replies
    root = history["messages"][1]
    assert root["metadata"] == metadata
    assert root["reply_count"] == 1
    assert root["latest_reply"] == reply["ts"]
    assert root["edited"]["user"] == "U0BOT"
    assert root["blocks"][1]["elements"][0]["action_id"] == "claim"

    plain = await client.conversations_history(channel=MENTIONS)
    assert all("metadata" not in m for m in plain["messages"])

    thread = await client.conversations_replies(
        channel=MENTIONS, ts=parent, include_all_metadata=True
    )
    assert [m["ts"] for m in thread["messages"]] == [parent, reply["ts"]]
    assert thread["messages"][0]["metadata"] == metadata
    assert thread["messages"][1]["thread_ts"] == parent

    stored = await messages(control)
    assert [m["ts"] for m in stored] == sorted(m["ts"] for m in stored)
    assert stored[0]["edited"] is not None and stored[0]["text"] == "Claimed by Rina"
    assert stored[1]["thread_ts"] == parent
    assert stored[0]["blocks"][0]["block_id"]  # Slack fills in the ids it needs


async def test_form_encoded_call_with_blocks_as_a_json_string(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    response = await client.api_call(
        "chat.postMessage",
        data={"channel": MENTIONS, "text": "form", "blocks": json.dumps(BUTTONS)},
    )
    assert response["ok"]
    stored = await messages(control)
    assert stored[-1]["blocks"][1]["elements"][1]["action_id"] == "reply_institution"


async def test_history_pages_with_a_cursor(client: AsyncWebClient) -> None:
    sent = [(await client.chat_postMessage(channel=OTHER, text=f"m{i}"))["ts"] for i in range(5)]
    first = await client.conversations_history(channel=OTHER, limit=2)
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_history(channel=OTHER, limit=2, cursor=cursor)
    seen = [m["ts"] for m in first["messages"] + second["messages"]]
    assert seen == list(reversed(sent))[:4]


async def test_ephemeral_and_permalink(client: AsyncWebClient, control: httpx.AsyncClient) -> None:
    ephemeral = await client.chat_postEphemeral(channel=MENTIONS, user=RINA, text="only you")
    assert ephemeral["message_ts"]
    seen = (await control.get("/ephemerals", params={"channel": MENTIONS, "user": RINA})).json()
    assert [e["text"] for e in seen["ephemerals"]] == ["only you"]
    assert await messages(control) == []

    parent = await post_buttons(client)
    reply = (await client.chat_postMessage(channel=MENTIONS, text="r", thread_ts=parent))["ts"]
    link = await client.chat_getPermalink(channel=MENTIONS, message_ts=parent)
    assert link["permalink"] == (
        f"https://reachable.slack.com/archives/{MENTIONS}/p{parent.replace('.', '')}"
    )
    threaded = await client.chat_getPermalink(channel=MENTIONS, message_ts=reply)
    assert threaded["permalink"].endswith(f"?thread_ts={parent}&cid={MENTIONS}")


async def test_info_methods(client: AsyncWebClient) -> None:
    channel = await client.conversations_info(channel=MENTIONS)
    assert channel["channel"]["name"] == "mentions" and channel["channel"]["is_member"]
    user = await client.users_info(user=RINA)
    assert user["user"]["name"] == "rina"


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


async def test_errors_have_slack_shapes(url: str, client: AsyncWebClient) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=f"{url}/api/")
    error = await slack_error(wrong.chat_postMessage(channel=MENTIONS, text="x"))
    assert error.response.status_code == 200
    assert error.response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=f"{url}/api/")
    assert (await slack_error(anonymous.auth_test())).response["error"] == "not_authed"

    cases: list[tuple[str, dict[str, Any], str]] = [
        ("chat.postMessage", {"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ("chat.postMessage", {"channel": "C0PRIVATE", "text": "x"}, "not_in_channel"),
        ("chat.postMessage", {"channel": MENTIONS}, "no_text"),
        ("chat.postMessage", {"channel": MENTIONS, "text": "x" * 40_001}, "msg_too_long"),
        ("chat.update", {"channel": MENTIONS, "ts": "1.000001", "text": "x"}, "message_not_found"),
        ("views.open", {"trigger_id": "1.2.nope", "view": MODAL}, "invalid_trigger_id"),
    ]
    for method, arguments, expected in cases:
        error = await slack_error(client.api_call(method, json=arguments))
        assert error.response["error"] == expected, method
    assert (await slack_error(client.users_info(user="U0NOBODY"))).response["error"] == (
        "user_not_found"
    )

    too_long: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    ]
    error = await slack_error(client.chat_postMessage(channel=MENTIONS, text="x", blocks=too_long))
    assert error.response["error"] == "invalid_blocks"
    assert "json-pointer:/blocks/0/text/text" in error.response["response_metadata"]["messages"][0]
    unknown = [{"type": "banner"}]
    error = await slack_error(client.chat_postMessage(channel=MENTIONS, text="x", blocks=unknown))
    assert error.response["error"] == "invalid_blocks"


async def test_blocks_carrying_too_much_text_in_all_are_refused_as_slack_does(
    client: AsyncWebClient,
) -> None:
    """Slack's msg_blocks_too_long: each section is within 3,000 characters, but together they
    carry more text than Slack takes in one message (slackapi/bolt-js#2509: about 12,000)."""
    section = {"type": "section", "text": {"type": "plain_text", "text": "x" * 3000}}
    error = await slack_error(
        client.chat_postMessage(channel=MENTIONS, text="x", blocks=[section] * 5)
    )
    assert error.response["error"] == "msg_blocks_too_long"
    sent = await client.chat_postMessage(channel=MENTIONS, text="x", blocks=[section] * 4)
    error = await slack_error(
        client.chat_update(channel=MENTIONS, ts=sent["ts"], text="x", blocks=[section] * 5)
    )
    assert error.response["error"] == "msg_blocks_too_long"


async def test_only_the_bots_own_messages_can_be_updated(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    sent = await control.post("/message", json={"user": RINA, "channel": MENTIONS, "text": "hi"})
    error = await slack_error(client.chat_update(channel=MENTIONS, ts=sent.json()["ts"], text="x"))
    assert error.response["error"] == "cant_update_message"


async def test_rate_limit_per_channel(
    emulator: tuple[SlackEmulator, str], client: AsyncWebClient
) -> None:
    emulator[0].rate_limits = True
    for i in range(3):
        await client.chat_postMessage(channel=MENTIONS, text=f"burst {i}")
    error = await slack_error(client.chat_postMessage(channel=MENTIONS, text="one too many"))
    assert error.response.status_code == 429
    assert error.response["error"] == "ratelimited"
    assert int(error.response.headers["Retry-After"]) >= 1
    await client.chat_postMessage(channel=OTHER, text="another channel is not limited")


async def test_injected_faults_look_like_slack(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    fault = {"method": "POST", "path": "/api/chat.postMessage", "status": 503, "times": 1}
    assert (await control.post("/faults", json=fault)).status_code == 200
    error = await slack_error(client.chat_postMessage(channel=MENTIONS, text="x"))
    assert error.response.status_code == 503
    await client.chat_postMessage(channel=MENTIONS, text="the next call works")

    limited = {**fault, "status": 429, "retry_after": 7}
    await control.post("/faults", json=limited)
    error = await slack_error(client.chat_postMessage(channel=MENTIONS, text="x"))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    calls = (await control.get("/calls", params={"path": "/api/chat.postMessage"})).json()
    assert [c["status"] for c in calls["calls"]] == [503, 200, 429]


# -- what a client renders -----------------------------------------------------------------------

HOSTILE = "<!channel> <@U123> <https://evil.example|https://bank.example>"


async def test_pings_and_links_only_from_mrkdwn(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    as_mrkdwn: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": HOSTILE}}
    ]
    as_plain: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "plain_text", "text": HOSTILE}},
        {"type": "context", "elements": [{"type": "plain_text", "text": HOSTILE}]},
    ]
    escaped = HOSTILE.replace("<", "&lt;").replace(">", "&gt;")
    await client.chat_postMessage(channel=MENTIONS, text="fallback", blocks=as_mrkdwn)
    await client.chat_postMessage(channel=MENTIONS, text="fallback", blocks=as_plain)
    await client.chat_postMessage(channel=MENTIONS, text=escaped)
    await client.chat_postMessage(channel=MENTIONS, text=HOSTILE, mrkdwn=False)
    await client.chat_postMessage(channel=MENTIONS, text="@here look", link_names=True)

    dangerous, plain, escaped_msg, no_mrkdwn, bare = await messages(control)
    assert dangerous["pings"] == ["<!channel>", "<@U123>"]
    assert dangerous["links"] == [{"url": "https://evil.example", "label": "https://bank.example"}]
    for harmless in (plain, escaped_msg, no_mrkdwn):
        assert harmless["pings"] == [] and harmless["links"] == []
    assert bare["pings"] == ["@here"]


# -- signed requests to the bridge ---------------------------------------------------------------


def assert_shape(payload: dict[str, Any], sample: dict[str, Any], allowed: set[str]) -> None:
    """Our keys are Slack's (the fixture's) plus the documented ``allowed`` extras."""
    assert set(payload) - set(sample) <= allowed, set(payload) - set(sample)


async def test_click_sends_signed_block_actions_and_opens_a_modal(
    client: AsyncWebClient,
    control: httpx.AsyncClient,
    receiver: tuple[Receiver, str],
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "reply_institution"}
    result = await control.post("/click", json=click)
    assert result.status_code == 200, result.text
    assert result.json()["status"] == 200

    got = receiver[0].last
    assert got.valid
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    payload = got.payload()
    sample = fixture("interactive.block_actions.sample.json")
    assert_shape(payload, sample, set())
    assert set(payload["container"]) <= set(sample["container"])
    assert set(payload["actions"][0]) <= set(sample["actions"][0])
    assert payload["type"] == "block_actions"
    assert payload["user"] == {"id": RINA, "username": "rina", "name": "rina", "team_id": "T0REACH"}
    assert payload["container"]["message_ts"] == ts
    assert payload["channel"] == {"id": MENTIONS, "name": "mentions"}
    assert payload["message"]["ts"] == ts
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "reply_institution",
        "mention_actions",
        "thread-1",
    )

    opened = await client.views_open(trigger_id=payload["trigger_id"], view=MODAL)
    view = opened["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "reply_modal"
    assert set(view) <= set(fixture("views.open.response.sample.json")["view"])
    again = await slack_error(client.views_open(trigger_id=payload["trigger_id"], view=MODAL))
    assert again.response["error"] == "exchanged_trigger_id"
    views = (await control.get("/views", params={"user": RINA})).json()["views"]
    assert [v["id"] for v in views] == [view["id"]]


async def test_submit_sends_view_submission_and_honours_errors(
    emulator: tuple[SlackEmulator, str],
    client: AsyncWebClient,
    control: httpx.AsyncClient,
    receiver: tuple[Receiver, str],
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "reply_institution"}
    trigger = (await control.post("/click", json=click)).json()["trigger_id"]
    view_id = (await client.views_open(trigger_id=trigger, view=MODAL))["view"]["id"]

    errors = {"response_action": "errors", "errors": {"reply": "Too long for X"}}
    receiver[0].replies.append((200, json.dumps(errors)))
    result = await control.post("/submit", json={"user": RINA, "view_id": view_id, "text": "hi"})
    assert result.status_code == 200, result.text
    assert json.loads(result.json()["body"]) == errors
    assert [v["id"] for v in emulator[0].open_views(RINA)] == [view_id]

    result = await control.post("/submit", json={"user": RINA, "view_id": view_id, "text": "ok"})
    assert result.json()["status"] == 200
    assert emulator[0].open_views(RINA) == []
    got = receiver[0].last
    assert got.valid
    payload = got.payload()
    sample = fixture("interactive.view_submission.sample.json")
    assert_shape(payload, sample, {"response_urls"})
    assert set(payload["view"]) <= set(sample["view"]) | {"blocks"}
    assert payload["view"]["private_metadata"] == "thread-1"
    assert payload["view"]["state"]["values"] == {
        "reply": {"text": {"type": "plain_text_input", "value": "ok"}}
    }


async def test_message_event_is_signed_json_and_can_be_redelivered(
    control: httpx.AsyncClient, receiver: tuple[Receiver, str], client: AsyncWebClient
) -> None:
    parent = await post_buttons(client)
    sent = await control.post(
        "/message", json={"user": RINA, "channel": MENTIONS, "text": "on it", "thread_ts": parent}
    )
    assert sent.status_code == 200, sent.text
    got = receiver[0].last
    assert got.valid
    envelope = got.payload()
    sample = fixture("event.message.sample.json")
    assert_shape(envelope, sample, {"context_team_id"})
    assert set(envelope["event"]) - set(sample["event"]) == set()
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"].startswith("Ev")
    event = envelope["event"]
    assert (event["user"], event["text"], event["thread_ts"]) == (RINA, "on it", parent)
    assert event["channel_type"] == "channel"

    again = await control.post("/redeliver", json={"event_id": envelope["event_id"]})
    assert again.json()["status"] == 200
    assert receiver[0].last.headers["x-slack-retry-num"] == "1"
    assert receiver[0].last.payload()["event_id"] == envelope["event_id"]
    thread = await client.conversations_replies(channel=MENTIONS, ts=parent)
    assert [m["text"] for m in thread["messages"]][1:] == ["on it"]


async def test_slash_command_is_signed_form_and_its_answer_is_shown(
    control: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    receiver[0].replies.append((200, "Nothing is waiting."))
    command = {"user": RINA, "channel": MENTIONS, "command": "/reachable", "text": "status"}
    result = await control.post("/command", json=command)
    assert result.json() | {"trigger_id": None} == {
        "status": 200,
        "body": "Nothing is waiting.",
        "trigger_id": None,
    }
    got = receiver[0].last
    assert got.valid
    form = got.form()
    assert form["command"] == "/reachable" and form["text"] == "status"
    assert {"channel_id", "user_id", "response_url", "trigger_id", "team_id"} <= set(form)
    shown = (await control.get("/ephemerals", params={"user": RINA})).json()["ephemerals"]
    assert [e["text"] for e in shown] == ["Nothing is waiting."]

    async with httpx.AsyncClient() as http:
        posted = await http.post(
            form["response_url"], json={"response_type": "in_channel", "text": "Summary"}
        )
    assert posted.status_code == 200
    assert [m["text"] for m in await messages(control)] == ["Summary"]


async def test_response_url_replaces_the_clicked_message(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "claim"}
    response_url = (await control.post("/click", json=click)).json()["response_url"]
    async with httpx.AsyncClient() as http:
        done = await http.post(response_url, json={"replace_original": True, "text": "Claimed"})
    assert done.status_code == 200
    [stored] = await messages(control)
    assert (stored["text"], stored["blocks"]) == ("Claimed", None)


async def test_stale_and_forged_requests_are_refused_by_the_receiver(
    client: AsyncWebClient, control: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "claim"}
    for tamper in ({"replay": True}, {"signature": "bad"}, {"timestamp": 1_000_000}):
        result = await control.post("/click", json=click | tamper)
        assert result.json()["status"] == 401, tamper
        assert not receiver[0].last.valid
    message = {"user": RINA, "channel": MENTIONS, "text": "x", "signature": "bad"}
    assert (await control.post("/message", json=message)).json()["status"] == 401


# -- control API input checking ------------------------------------------------------------------


async def test_bad_control_input_is_refused_clearly(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "claim"}
    no_button = await control.post("/click", json=click | {"action_id": "nope"})
    assert no_button.status_code == 400 and "nope" in no_button.json()["error"]
    unknown_channel = await control.post("/click", json=click | {"channel": "C0NOPE"})
    assert unknown_channel.status_code == 404 and "C0NOPE" in unknown_channel.json()["error"]
    assert (await control.get("/messages", params={"channel": "C0NOPE"})).status_code == 404
    assert (await control.post("/click", json={"user": RINA})).status_code == 400
    assert (await control.post("/click", content=b"[1]")).status_code == 400
    assert (await control.post("/config", json={"bridge_url": "ftp://x"})).status_code == 400
    bad_sign = await control.post("/click", json=click | {"signature": "forged"})
    assert bad_sign.status_code == 400
    assert len(await messages(control)) == 1


async def test_reset_forgets_messages_but_keeps_the_workspace(
    client: AsyncWebClient, control: httpx.AsyncClient
) -> None:
    await post_buttons(client)
    assert (await control.post("/reset")).status_code == 200
    assert await messages(control) == []
    await post_buttons(client)
    assert len(await messages(control)) == 1


async def test_modal_input_the_client_would_refuse_is_refused(
    client: AsyncWebClient, control: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "reply_institution"}
    trigger = (await control.post("/click", json=click)).json()["trigger_id"]
    view = (await client.views_open(trigger_id=trigger, view=MODAL))["view"]
    sent_before = len(receiver[0].got)
    for values in ({"reply": {"text": ""}}, {"reply": {"nope": "x"}}):
        submit = {"user": RINA, "view_id": view["id"], "values": values}
        refused = await control.post("/submit", json=submit)
        assert refused.status_code == 400, values
    assert len(receiver[0].got) == sent_before

    stale = await slack_error(client.views_update(view_id=view["id"], hash="1.stale", view=MODAL))
    assert stale.response["error"] == "hash_conflict"
    updated = await client.views_update(view_id=view["id"], hash=view["hash"], view=MODAL)
    assert updated["view"]["id"] == view["id"] and updated["view"]["hash"] != view["hash"]


async def test_a_bolt_app_handles_what_the_emulator_sends(
    emulator: tuple[SlackEmulator, str], control: httpx.AsyncClient
) -> None:
    """The real consumer: slack_bolt verifies, parses and answers every kind of request."""
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp

    url = emulator[1]
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=f"{url}/api/"), signing_secret=SECRET
    )
    seen: list[tuple[str, Any]] = []

    @bolt.action("claim")
    async def claim(ack: Any, body: dict[str, Any], client: Any, respond: Any) -> None:
        await ack()
        seen.append(("action", body["actions"][0]["value"]))
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)
        await respond(replace_original=True, text="Claimed by rina")

    @bolt.view("reply_modal")
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        seen.append(("view", view["state"]["values"]["reply"]["text"]["value"]))
        await ack()

    @bolt.command("/reachable")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"status of {command['text']}")

    @bolt.event("message")
    async def message(event: dict[str, Any]) -> None:
        seen.append(("event", event["text"]))

    handler = AsyncSlackRequestHandler(bolt)

    async def endpoint(request: Request) -> Response:
        return await handler.handle(request)

    bridge = ThreadedServer(Starlette(routes=[Route("/slack/events", endpoint, methods=["POST"])]))
    bridge.start()
    try:
        await control.post("/config", json={"bridge_url": f"{bridge.url}/slack/events"})
        web = AsyncWebClient(token=TOKEN, base_url=f"{url}/api/")
        ts = (await web.chat_postMessage(channel=MENTIONS, text="m", blocks=BUTTONS))["ts"]
        click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "claim"}
        assert (await control.post("/click", json=click)).json()["status"] == 200
        assert [m["text"] for m in await messages(control)] == ["Claimed by rina"]
        [view] = (await control.get("/views", params={"user": RINA})).json()["views"]
        submit = {"user": RINA, "view_id": view["id"], "text": "Thank you"}
        assert (await control.post("/submit", json=submit)).json()["view"] == "closed"
        slash = {"user": RINA, "channel": MENTIONS, "command": "/reachable", "text": "all"}
        assert (await control.post("/command", json=slash)).json()["body"] == "status of all"
        typed = {"user": RINA, "channel": MENTIONS, "text": "on it"}
        assert (await control.post("/message", json=typed)).json()["status"] == 200
        forged = (await control.post("/message", json=typed | {"replay": True})).json()
        assert forged["status"] == 401
    finally:
        bridge.stop()
    assert seen == [("action", "thread-1"), ("view", "Thank you"), ("event", "on it")]


async def test_a_click_replayed_is_the_same_signed_request_again(
    client: AsyncWebClient, control: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    ts = await post_buttons(client)
    click = {"user": RINA, "channel": MENTIONS, "ts": ts, "action_id": "claim"}
    trigger = (await control.post("/click", json=click)).json()["trigger_id"]
    first = receiver[0].last
    replayed = await control.post("/replay", json={"trigger_id": trigger, "times": 3})
    assert replayed.json() == {"trigger_id": trigger, "statuses": {"200": 3}}
    again = receiver[0].got[-3:]
    assert all(r.valid and r.body == first.body for r in again)
    assert {r.headers["x-slack-request-timestamp"] for r in again} == {
        first.headers["x-slack-request-timestamp"]
    }
    assert (await control.post("/replay", json={"trigger_id": "nope"})).status_code == 404
    too_many = await control.post("/replay", json={"trigger_id": trigger, "times": 10_001})
    assert too_many.status_code == 400
