"""The Slack emulator answers like Slack's Web API, and Reachable asks what Slack understands.

The reference is Slack's published spec (1.7.0, from 2021); where the live API is newer (the
``metadata`` of messages, ``apps.connections.open``, HTTP 429), ``specs/from_docs.json`` names
the documentation page or recorded payload that decides. Answers come through slack_sdk's
``AsyncWebClient`` (``SlackResponse`` keeps the status, headers and body as received); requests
are read from the emulator's call log, the product's ``SlackChat`` making most of them.
Rate limits stay on: the 429 is the emulator's own per-channel limit.
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.slack.chat import SlackChat
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.errors import RateLimited
from bridge.store.store import Store
from emulators.slack import SlackEmulator
from tests.contract.contracts import (
    OneGo,
    contract,
    slack_request_errors,
    slack_response_errors,
)
from tests.unit.cards import mention_card

T = TypeVar("T")
TOKEN, APP_TOKEN, SECRET = "xoxb-contract", "xapp-1-A0REACH-contract", "contract-secret"
# Ids shaped like Slack's (a letter and at least eight more), as its spec requires.
HUMAS, OTHER, RINA = "C0HUMAS001", "C0OTHER001", "U0RINA001"
CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations:
  humas-slack: {chat: slack, channel: C0HUMAS001}
routes:
  - {name: all, to: [humas-slack]}
""")
BLOCKS = [{"type": "section", "text": {"type": "plain_text", "text": "@warga: jalan rusak"}}]
MODAL = {
    "type": "modal",
    "callback_id": "reply_modal",
    "title": {"type": "plain_text", "text": "Reply"},
    "submit": {"type": "plain_text", "text": "Post reply"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reply",
            "label": {"type": "plain_text", "text": "Your reply"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


BUTTONS = [
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "text": {"type": "plain_text", "text": "Claim"},
            }
        ],
    }
]


class Bridge:
    """Where the emulator sends button presses: accepts them, as the bridge would."""

    def __init__(self) -> None:
        async def receive(request: Request) -> Response:
            return Response("")

        self.server = ThreadedServer(Starlette(routes=[Route("/", receive, methods=["POST"])]))


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[SlackEmulator, str, Bridge]]:
    bridge = Bridge()
    bridge.server.start()
    emulator = SlackEmulator(
        bot_token=TOKEN,
        signing_secret=SECRET,
        app_token=APP_TOKEN,
        team_id="T0REACH01",
        app_id="A0REACH01",
        bot_id="B0REACH01",
        bot_user_id="U0REACHBOT",
        bridge_url=bridge.server.url + "/",
        channels={HUMAS: "humas"},
        non_member_channels={OTHER: "other"},
        users={RINA: "rina"},
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url, bridge
    server.stop()
    bridge.server.stop()


@pytest.fixture
def slack(served: tuple[SlackEmulator, str, Bridge]) -> Iterator[httpx.Client]:
    served[0].core.reset()
    with httpx.Client(base_url=served[1], trust_env=False, timeout=10) as http:
        yield http


class Answers:
    """slack_sdk's answers, successes and SlackApiErrors alike, kept per method."""

    def __init__(self, url: str) -> None:
        self.client = AsyncWebClient(token=TOKEN, base_url=f"{url}/api/")
        self.kept: list[tuple[str, AsyncSlackResponse]] = []

    async def call(self, method: str, **arguments: Any) -> AsyncSlackResponse:
        try:
            call = getattr(self.client, method.replace(".", "_"))
            response = await call(**arguments)
        except SlackApiError as exc:
            response = exc.response
        self.kept.append((method, response))
        return response

    def assert_kept_the_contract(self, expected: list[tuple[str, int, str]]) -> None:
        seen = [(m, r.status_code, r.data.get("error", "ok")) for m, r in self.kept]
        problems = [
            f"{method} {response.status_code} {response.data.get('error', 'ok')}: {p}"
            for method, response in self.kept
            for p in slack_response_errors(method, status=response.status_code, body=response.data)
        ]
        problems += [
            f"{method} 429 without a whole-number Retry-After"
            for method, response in self.kept
            if response.status_code == 429
            and not str(response.headers.get("retry-after", "")).isdigit()
        ]
        assert seen == expected
        assert not problems, "\n".join(problems)


def click(slack: httpx.Client, ts: str) -> str:
    """Rina presses a button of a message; the trigger_id Slack hands the app with it."""
    answer = slack.post(
        "/_emulator/click", json={"user": RINA, "channel": HUMAS, "ts": ts, "action_id": "claim"}
    )
    assert answer.status_code == 200 and answer.json()["status"] == 200, answer.text
    return str(answer.json()["trigger_id"])


@contract("slack", "chat.postMessage", "chat.update", "chat.getPermalink", "auth.test")
async def test_posting_and_editing_answer_like_slack(slack: httpx.Client) -> None:
    answers = Answers(str(slack.base_url))
    metadata = {"event_type": "reachable_mirror", "event_payload": {"effect_key": "k"}}

    posted = await answers.call(
        "chat.postMessage", channel=HUMAS, text="jalan rusak", blocks=BLOCKS, metadata=metadata
    )
    await answers.call("chat.postMessage", channel=HUMAS, text="balasan", thread_ts=posted["ts"])
    await answers.call("chat.postMessage", channel=OTHER, text="x")
    await answers.call("chat.postMessage", channel="C0NOWHERE", text="x")
    empty = [{"type": "section", "text": {"type": "plain_text", "text": ""}}]
    await answers.call("chat.postMessage", channel=HUMAS, text="x", blocks=empty)
    await answers.call("chat.postMessage", channel=HUMAS, text="terlalu cepat")
    await answers.call("chat.update", channel=HUMAS, ts=posted["ts"], text="diklaim", blocks=[])
    await answers.call("chat.update", channel=HUMAS, ts="1.000001", text="x")
    await answers.call("chat.getPermalink", channel=HUMAS, message_ts=posted["ts"])
    await answers.call("chat.getPermalink", channel=HUMAS, message_ts="1.000001")
    await answers.call("auth.test")
    await answers.call("auth.test", token="xoxb-wrong")

    answers.assert_kept_the_contract(
        [
            ("chat.postMessage", 200, "ok"),
            ("chat.postMessage", 200, "ok"),
            ("chat.postMessage", 200, "not_in_channel"),
            ("chat.postMessage", 200, "channel_not_found"),
            ("chat.postMessage", 200, "invalid_blocks"),
            ("chat.postMessage", 429, "ratelimited"),
            ("chat.update", 200, "ok"),
            ("chat.update", 200, "message_not_found"),
            ("chat.getPermalink", 200, "ok"),
            ("chat.getPermalink", 200, "message_not_found"),
            ("auth.test", 200, "ok"),
            ("auth.test", 200, "invalid_auth"),
        ]
    )
    assert_requests_keep_the_contract(slack)


@contract("slack", "conversations.history", "conversations.replies", "conversations.info")
async def test_reading_a_channel_answers_like_slack(slack: httpx.Client) -> None:
    answers = Answers(str(slack.base_url))
    metadata = {"event_type": "reachable_mirror", "event_payload": {"effect_key": "k"}}
    root = await answers.client.chat_postMessage(channel=HUMAS, text="akar", metadata=metadata)
    await answers.client.chat_postMessage(channel=HUMAS, text="balasan", thread_ts=root["ts"])

    await answers.call("conversations.history", channel=HUMAS, include_all_metadata=True, limit=1)
    await answers.call("conversations.history", channel=OTHER)
    await answers.call(
        "conversations.replies", channel=HUMAS, ts=root["ts"], include_all_metadata=True
    )
    await answers.call("conversations.replies", channel=HUMAS, ts="1.000001")
    await answers.call("conversations.info", channel=HUMAS)
    await answers.call("conversations.info", channel=OTHER)
    await answers.call("conversations.info", channel="C0NOWHERE")

    answers.assert_kept_the_contract(
        [
            ("conversations.history", 200, "ok"),
            ("conversations.history", 200, "not_in_channel"),
            ("conversations.replies", 200, "ok"),
            ("conversations.replies", 200, "thread_not_found"),
            ("conversations.info", 200, "ok"),
            ("conversations.info", 200, "ok"),
            ("conversations.info", 200, "channel_not_found"),
        ]
    )
    assert_requests_keep_the_contract(slack)


@contract("slack", "views.open", "chat.postEphemeral", "apps.connections.open")
async def test_answering_a_person_answers_like_slack(slack: httpx.Client) -> None:
    answers = Answers(str(slack.base_url))
    mirror = await answers.client.chat_postMessage(
        channel=HUMAS, text="jalan rusak", blocks=BUTTONS
    )
    trigger = click(slack, mirror["ts"])

    await answers.call("views.open", trigger_id=trigger, view=MODAL)
    await answers.call("views.open", trigger_id=trigger, view=MODAL)
    await answers.call("chat.postEphemeral", channel=HUMAS, user=RINA, text="Sudah diklaim")
    await answers.call("chat.postEphemeral", channel=HUMAS, user="U0NOBODY", text="x")
    await answers.call("apps.connections.open", app_token=APP_TOKEN)
    await answers.call("apps.connections.open", app_token=TOKEN)
    await answers.call("apps.connections.open", app_token="xapp-1-wrong")

    answers.assert_kept_the_contract(
        [
            ("views.open", 200, "ok"),
            ("views.open", 200, "exchanged_trigger_id"),
            ("chat.postEphemeral", 200, "ok"),
            ("chat.postEphemeral", 200, "user_not_in_channel"),
            ("apps.connections.open", 200, "ok"),
            ("apps.connections.open", 200, "not_allowed_token_type"),
            ("apps.connections.open", 200, "invalid_auth"),
        ]
    )
    assert_requests_keep_the_contract(slack)


@pytest.fixture
async def chat(slack: httpx.Client, store: Store) -> AsyncIterator[SlackChat]:
    settings = AppSettings(
        slack_api_url=f"{slack.base_url}/api/", slack_bot_token=TOKEN, slack_signing_secret=SECRET
    )
    instance = SlackChat(settings=settings, config=lambda: CONFIG, store=store)
    yield instance
    await instance.close()


async def test_what_reachable_sends_to_slack_is_what_slack_documents(
    slack: httpx.Client, chat: SlackChat
) -> None:
    """The product's own calls (mirrors, edits, notices, lookups), then the ones it makes from
    handlers and the doctor, with the arguments written there; all from the call log."""
    desk = CONFIG.destinations["humas-slack"]
    first = await paced(
        lambda: chat.post_mention(
            destination=desk,
            card=mention_card(),
            reply_to=None,
            effect_key="e1",
            progress=OneGo(),
        )
    )
    escalated = mention_card(post_id="1900000000000000124", origin=first)
    await paced(
        lambda: chat.post_mention(
            destination=desk, card=escalated, reply_to=first, effect_key="e2", progress=OneGo()
        )
    )
    await chat.edit_mention(destination=desk, ref=first, card=mention_card(text="diklaim"))
    await paced(
        lambda: chat.post_notice(
            destination=desk, text="Terlambat", reply_to=first, effect_key="n1"
        )
    )
    await paced(lambda: chat.post_notice(destination=desk, text="laporan", monospace=True))
    await chat.find_posted(destination=desk, reply_to=first, effect_key="e2")
    await chat.find_posted(destination=desk, reply_to=None, effect_key="e1")
    await chat.ping()
    client = chat.client
    await client.chat_postEphemeral(channel=HUMAS, user=RINA, text="Sudah diklaim")
    await client.conversations_info(channel=HUMAS)
    await client.apps_connections_open(app_token=APP_TOKEN)

    assert_requests_keep_the_contract(slack)


def assert_requests_keep_the_contract(slack: httpx.Client) -> None:
    calls = [c for c in slack.get("/_emulator/calls").json()["calls"] if c["path"] != "/"]
    problems = [
        f"{call['path']}: {problem}"
        for call in calls
        for problem in slack_request_errors(call["path"].removeprefix("/api/"), call)
    ]
    assert calls
    assert not problems, "\n".join(problems)


async def paced(post: Callable[[], Awaitable[T]]) -> T:
    """Post as the mirror does: a channel's rate limit is waited out, never dropped."""
    for _ in range(10):
        try:
            return await post()
        except RateLimited as exc:
            await asyncio.sleep(exc.retry_after)
    raise AssertionError("still rate limited after 10 tries")
