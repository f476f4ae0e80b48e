"""The Telegram emulator answers like the Bot API (10.1), and Reachable sends what it accepts.

Answers come through python-telegram-bot's ``Bot`` with its own HTTP layer (``HTTPXRequest``)
keeping each raw answer, and are checked against the method's result type, field by field
(the spec lists fields with their types and whether they are required); the envelope and the
error shape follow the Bot API's "Making requests". Requests are read from the emulator's call
log, the product's ``TelegramChat`` making most of them. Rate limits stay on; the 429 is an
injected fault, since the emulator's own limits take a burst of 20 to reach.
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from adapters.telegram.chat import ALLOWED_UPDATES, TelegramChat
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.store.store import Store
from emulators.telegram import TelegramEmulator
from tests.contract.contracts import (
    OneGo,
    contract,
    telegram_request_errors,
    telegram_response_errors,
)
from tests.contract.test_slack import paced
from tests.unit.cards import mention_card

TOKEN = "123456:ABC-contract"
GROUP, FORUM, OLD_GROUP, RINA = -1001000000001, -1001000000002, -4001234567, 1001
CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations:
  humas-telegram: {chat: telegram, chat_id: -1001000000001}
routes:
  - {name: all, to: [humas-telegram]}
""")
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Klaim", callback_data="claim:x")]])


class Recording(HTTPXRequest):
    """python-telegram-bot's own HTTP layer, keeping (method, status, body) of every answer."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[str, int, Any]] = []

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        status, payload = await super().do_request(url, method, *args, **kwargs)
        self.answers.append((url.rsplit("/", 1)[1], status, json.loads(payload)))
        return status, payload


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[TelegramEmulator, str]]:
    emulator = TelegramEmulator(
        token=TOKEN,
        bot_username="reachable_demo_bot",
        chats={
            GROUP: {"title": "Humas", "type": "supergroup", "admins": [RINA]},
            FORUM: {"title": "Humas topics", "type": "supergroup", "is_forum": True},
            OLD_GROUP: {"title": "Old group", "type": "group"},
            RINA: {"title": "Rina", "type": "private"},
        },
        users={RINA: {"first_name": "Rina", "username": "rina_pr", "language_code": "id"}},
        webhook_retry_s=60,
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@pytest.fixture
def telegram(served: tuple[TelegramEmulator, str]) -> Iterator[httpx.Client]:
    served[0].core.reset()
    with httpx.Client(base_url=served[1], trust_env=False, timeout=10) as http:
        yield http


@pytest.fixture
async def bot(telegram: httpx.Client) -> AsyncIterator[tuple[Bot, Recording]]:
    recording = Recording()
    url = str(telegram.base_url)
    instance = Bot(TOKEN, base_url=f"{url}/bot", request=recording, get_updates_request=recording)
    async with instance:
        yield instance, recording


async def attempt(call: Awaitable[Any]) -> None:
    """Make a call whose failure is the point: the answer is what is checked."""
    with contextlib.suppress(TelegramError):
        await call


def control(telegram: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = telegram.post(f"/_emulator/{path}", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def assert_answers_keep_the_contract(recording: Recording, expected: list[tuple[str, int]]) -> None:
    problems = [
        f"{method} {status}: {problem}"
        for method, status, body in recording.answers
        for problem in telegram_response_errors(method, status=status, body=body)
    ]
    assert [(m, s) for m, s, _ in recording.answers] == expected
    assert not problems, "\n".join(problems)


def methods_called(telegram: httpx.Client) -> set[str]:
    calls = telegram.get("/_emulator/calls").json()["calls"]
    return {c["path"].rsplit("/", 1)[1] for c in calls if "/bot" in c["path"]}


def assert_requests_keep_the_contract(telegram: httpx.Client) -> None:
    calls = [c for c in telegram.get("/_emulator/calls").json()["calls"] if "/bot" in c["path"]]
    problems = [
        f"{call['path'].rsplit('/', 1)[1]}: {problem}"
        for call in calls
        for problem in telegram_request_errors(call["path"].rsplit("/", 1)[1], call)
    ]
    assert calls
    assert not problems, "\n".join(problems)


@contract("telegram", "getMe", "sendMessage", "editMessageText", "deleteMessage")
async def test_posting_and_editing_answer_like_telegram(
    telegram: httpx.Client, bot: tuple[Bot, Recording], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after without a warning
    client, recording = bot
    html = "<b>@warga</b>: jalan <i>rusak</i> <a href='https://x.com/a/status/1'>link</a>"

    await client.get_me()
    first = await client.send_message(
        GROUP,
        html,
        parse_mode=ParseMode.HTML,
        reply_markup=KEYBOARD,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    reply = await client.send_message(
        GROUP,
        "balasan",
        reply_parameters=ReplyParameters(first.message_id, allow_sending_without_reply=True),
    )
    topic = control(telegram, "topics", {"chat_id": FORUM, "name": "Keluhan"})
    await client.send_message(FORUM, "di topik", message_thread_id=topic["message_thread_id"])
    await client.edit_message_text("diklaim", chat_id=GROUP, message_id=first.message_id)
    await attempt(client.edit_message_text("diklaim", chat_id=GROUP, message_id=first.message_id))
    await attempt(client.edit_message_text("x", chat_id=GROUP, message_id=999))
    await client.delete_message(GROUP, reply.message_id)
    await attempt(client.delete_message(GROUP, reply.message_id))
    await attempt(client.send_message(-1009999999999, "x"))
    await attempt(client.send_message(GROUP, "<b>unclosed", parse_mode=ParseMode.HTML))
    control(telegram, "migrate", {"chat_id": OLD_GROUP})
    await attempt(client.send_message(OLD_GROUP, "x"))
    control(telegram, "faults", {"path": "/bot*/sendMessage", "status": 429, "retry_after": 7})
    await attempt(client.send_message(GROUP, "x"))
    control(telegram, "kick", {"chat_id": FORUM})
    await attempt(client.send_message(FORUM, "x"))

    assert_answers_keep_the_contract(
        recording,
        [
            ("getMe", 200),  # Bot.initialize
            ("getMe", 200),
            ("sendMessage", 200),
            ("sendMessage", 200),
            ("sendMessage", 200),
            ("editMessageText", 200),
            ("editMessageText", 400),
            ("editMessageText", 400),
            ("deleteMessage", 200),
            ("deleteMessage", 400),
            ("sendMessage", 400),
            ("sendMessage", 400),
            ("sendMessage", 400),
            ("sendMessage", 429),
            ("sendMessage", 403),
        ],
    )
    assert_requests_keep_the_contract(telegram)


@contract(
    "telegram",
    "answerCallbackQuery",
    "setMyCommands",
    "getChat",
    "getChatMember",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
)
async def test_updates_commands_and_chats_answer_like_telegram(
    telegram: httpx.Client, bot: tuple[Bot, Recording]
) -> None:
    client, recording = bot
    mirror = await client.send_message(GROUP, "jalan rusak", reply_markup=KEYBOARD)
    control(telegram, "send", {"user_id": RINA, "chat_id": GROUP, "text": "halo"})
    pressed = control(
        telegram,
        "press",
        {"user_id": RINA, "chat_id": GROUP, "message_id": mirror.message_id, "action": "claim"},
    )
    recording.answers.clear()

    await client.get_updates(timeout=0, allowed_updates=ALLOWED_UPDATES)
    await client.answer_callback_query(pressed["callback_query_id"], text="Diklaim")
    await attempt(client.answer_callback_query(pressed["callback_query_id"]))
    await client.set_my_commands([BotCommand("unanswered", "Yang belum dijawab")])
    await client.set_my_commands([BotCommand("help", "Bantuan")], language_code="id")
    await attempt(client.set_my_commands([BotCommand("Bad Command", "x")]))
    await client.get_chat(GROUP)
    await client.get_chat_member(GROUP, client.id)
    await client.get_chat_member(GROUP, RINA)
    await attempt(client.get_chat(-1009999999999))
    await client.set_webhook(
        "http://127.0.0.1:9/telegram/webhook",
        secret_token="webhook-secret",
        allowed_updates=ALLOWED_UPDATES,
    )
    await client.get_webhook_info()
    await attempt(client.get_updates(timeout=0))
    await client.delete_webhook()
    await client.delete_webhook()
    await client.get_webhook_info()

    assert_answers_keep_the_contract(
        recording,
        [
            ("getUpdates", 200),
            ("answerCallbackQuery", 200),
            ("answerCallbackQuery", 400),
            ("setMyCommands", 200),
            ("setMyCommands", 200),
            ("setMyCommands", 400),
            ("getChat", 200),
            ("getChatMember", 200),
            ("getChatMember", 200),
            ("getChat", 400),
            ("setWebhook", 200),
            ("getWebhookInfo", 200),
            ("getUpdates", 409),
            ("deleteWebhook", 200),
            ("deleteWebhook", 200),
            ("getWebhookInfo", 200),
        ],
    )
    assert_requests_keep_the_contract(telegram)


async def test_a_wrong_token_is_answered_like_telegram(telegram: httpx.Client) -> None:
    recording = Recording()
    wrong = Bot("123456:ABC-wrong", base_url=f"{telegram.base_url}/bot", request=recording)

    try:
        await attempt(wrong.get_me())
    finally:
        await recording.shutdown()

    assert_answers_keep_the_contract(recording, [("getMe", 401)])


@pytest.fixture
async def chat(telegram: httpx.Client, store: Store) -> AsyncIterator[TelegramChat]:
    settings = AppSettings(
        telegram_api_url=str(telegram.base_url),
        telegram_bot_token=TOKEN,
        telegram_group_interval_s=0.0,
    )
    instance = TelegramChat(settings=settings, config=lambda: CONFIG, store=store)
    await instance.application.initialize()
    yield instance
    await instance.application.shutdown()


async def test_what_reachable_sends_to_telegram_is_what_telegram_accepts(
    telegram: httpx.Client, chat: TelegramChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product's own calls (mirrors, edits, notices, the command menu, updates), from the
    call log; the long poll is cut to an instant by the emulator having updates waiting."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after without a warning
    desk = CONFIG.destinations["humas-telegram"]
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
    await chat.edit_mention(destination=desk, ref=first, card=mention_card(text="diklaim"))
    await paced(lambda: chat.post_notice(destination=desk, text="Terlambat", reply_to=first))
    await paced(lambda: chat.post_notice(destination=desk, text="laporan", monospace=True))
    await chat.ping()
    await chat._set_commands()
    control(telegram, "send", {"user_id": RINA, "chat_id": GROUP, "text": "halo"})
    await chat.updates._next_updates(None, asyncio.Event())

    sent = methods_called(telegram)
    assert sent >= {"getMe", "sendMessage", "editMessageText", "setMyCommands", "getUpdates"}
    assert_requests_keep_the_contract(telegram)
