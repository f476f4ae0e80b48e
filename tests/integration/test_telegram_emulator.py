"""The Telegram emulator against the real python-telegram-bot client, over real HTTP.

The emulator is only worth having if it fails where Telegram fails and in Telegram's words,
so every check goes through ``telegram.Bot`` (or an ``Application`` polling) and looks at the
exceptions python-telegram-bot raises from the emulator's answers. Shapes are compared with the
recorded payloads in ``tests/fixtures/telegram``.
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import asyncio
import html
import json
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.helpers import escape_markdown

from app.httpserver import ThreadedServer
from emulators.telegram import TelegramEmulator

TOKEN = "123456:ABC-demo"
BOT_USERNAME = "reachable_demo_bot"
GROUP = -1001000000001  # a supergroup: below -2**32, like every real one
FORUM = -1001000000002
BASIC = -4001234567
RINA, BUDI = 1001, 1002
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
HOSTILE = "<b>not bold</b> & <!channel> \u202eevil\u202c 👨\u200d👩\u200d👧 x<y>z &amp; @humas_demo"


def said(words: str) -> str:
    """python-telegram-bot drops "Bad Request: " and capitalises the rest; match either way."""
    return "(?i)" + re.escape(words)


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


class Control:
    """The emulator's control API: what people do in a Telegram client."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, trust_env=False, timeout=10)

    def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.http.post(f"/_emulator/{path}", json=body)
        assert response.status_code == status, response.text
        return dict(response.json())

    def messages(self, chat_id: int) -> list[dict[str, Any]]:
        response = self.http.get("/_emulator/messages", params={"chat_id": chat_id})
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def send(self, chat_id: int, text: str, user_id: int = RINA, **extra: Any) -> dict[str, Any]:
        return self.post("send", {"user_id": user_id, "chat_id": chat_id, "text": text, **extra})


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[TelegramEmulator, str]]:
    tg = TelegramEmulator(
        token=TOKEN,
        bot_username=BOT_USERNAME,
        chats={
            GROUP: {"title": "Humas", "type": "supergroup", "is_forum": False, "admins": [RINA]},
            FORUM: {"title": "Humas topics", "type": "supergroup", "is_forum": True},
            BASIC: {"title": "Old group", "type": "group", "is_forum": False},
            RINA: {"title": "Rina", "type": "private", "is_forum": False},
        },
        users={
            RINA: {"first_name": "Rina", "last_name": "Sari", "username": "rina_pr"},
            BUDI: {"first_name": "Budi"},
        },
        webhook_retry_s=0.2,
    )
    server = ThreadedServer(tg.app).start()
    yield tg, server.url
    server.stop()


@pytest.fixture
def tg(emulator: tuple[TelegramEmulator, str]) -> TelegramEmulator:
    emulator[0].core.reset()
    # Off: these tests check shapes with many messages in a row to one chat; the limits have
    # tests of their own (here, and in test_emulator_limits.py).
    emulator[0].rate_limits = False
    return emulator[0]


@pytest.fixture
def url(emulator: tuple[TelegramEmulator, str], tg: TelegramEmulator) -> str:
    return emulator[1]


@pytest.fixture
def control(url: str) -> Iterator[Control]:
    control = Control(url)
    yield control
    control.http.close()


def make_bot(url: str, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


@pytest.fixture
async def bot(url: str) -> AsyncIterator[Bot]:
    async with make_bot(url) as bot:
        yield bot


# -- identity and text ---------------------------------------------------------------------------


async def test_get_me_and_tokens(bot: Bot, url: str) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, BOT_USERNAME, True)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        async with make_bot(url, "123456:WRONG-token"):
            pass
    response = httpx.post(f"{url}/bot{TOKEN}/noSuchMethod", trust_env=False)
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_hostile_text_escaped_as_html_arrives_as_plain_text(
    bot: Bot, control: Control
) -> None:
    sent = await bot.send_message(
        GROUP, f"<b>Mention</b>\n{html.escape(HOSTILE)}", parse_mode=ParseMode.HTML
    )
    assert sent.text == f"Mention\n{HOSTILE}"
    bold, *rest = sent.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 0, 7)
    # Only Telegram's own detection remains: the @mention, at its UTF-16 offset.
    (mention,) = rest
    start = len(f"Mention\n{HOSTILE}".encode("utf-16-le")) // 2 - len("@humas_demo")
    assert (mention.type, mention.offset, mention.length) == ("mention", start, 11)
    stored = control.messages(GROUP)[-1]
    assert stored["text"] == sent.text
    assert stored["html"] == f"<b>Mention</b>\n{html.escape(HOSTILE, quote=False)}"


async def test_bad_markup_is_refused_in_telegrams_words(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=said("can't parse entities: unsupported start tag")):
        await bot.send_message(GROUP, "a <!channel> b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=said("Can't find end tag corresponding to start tag")):
        await bot.send_message(GROUP, "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=said("Unexpected end tag at byte offset 4")):
        await bot.send_message(GROUP, "fine</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=said("Character '.' is reserved")):
        await bot.send_message(GROUP, "Hello v1.2", parse_mode=ParseMode.MARKDOWN_V2)
    sent = await bot.send_message(
        GROUP, f"*Mention* {escape_markdown(HOSTILE, version=2)}", parse_mode=ParseMode.MARKDOWN_V2
    )
    assert sent.text == f"Mention {HOSTILE}"
    assert sent.entities[0].type == "bold"


async def test_lengths_count_utf16_units_after_parsing(bot: Bot) -> None:
    assert (await bot.send_message(GROUP, "😀" * 2048)).text == "😀" * 2048
    with pytest.raises(BadRequest, match=said("message is too long")):
        await bot.send_message(GROUP, "😀" * 2049)
    # Markup does not count: 4096 units of text inside <b> is still fine.
    await bot.send_message(GROUP, f"<b>{'a' * 4096}</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=said("message text is empty")):
        await bot.send_message(GROUP, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_invalid_utf8_is_refused(url: str) -> None:
    response = httpx.post(
        f"{url}/bot{TOKEN}/sendMessage",
        content=b"chat_id=1001&text=%FF%FEbad",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        trust_env=False,
    )
    assert response.status_code == 400
    assert "UTF-8" in response.json()["description"]


# -- replies, topics, buttons ----------------------------------------------------------------------


async def test_reply_chains(bot: Bot, control: Control) -> None:
    root = await bot.send_message(GROUP, "mention")
    reply = await bot.send_message(
        GROUP, "follow-up", reply_parameters=ReplyParameters(message_id=root.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == root.message_id
    assert reply.message_id == root.message_id + 1
    with pytest.raises(BadRequest, match=said("message to be replied not found")):
        await bot.send_message(GROUP, "x", reply_parameters=ReplyParameters(message_id=999))
    lenient = await bot.send_message(
        GROUP,
        "x",
        reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True),
    )
    assert lenient.reply_to_message is None
    sent = control.send(GROUP, "my answer", reply_to_message_id=reply.message_id)
    (update,) = await bot.get_updates()
    assert update.update_id == sent["update_id"]
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.reply_to_message.message_id == reply.message_id
    assert update.message.reply_to_message.reply_to_message is None  # nested once, like Telegram
    stored = control.messages(GROUP)
    assert [m["reply_to_message_id"] for m in stored] == [
        None,
        root.message_id,
        None,
        reply.message_id,
    ]


async def test_forum_topics(bot: Bot, control: Control) -> None:
    topic = await bot.create_forum_topic(FORUM, "Mention 123")
    sent = await bot.send_message(FORUM, "in the topic", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert sent.reply_to_message is not None  # the topic's first message, as Telegram shows it
    assert sent.reply_to_message.forum_topic_created is not None
    human = control.post("topics", {"chat_id": FORUM, "name": "Asked by a person"})
    control.send(FORUM, "hello", message_thread_id=human["message_thread_id"])
    updates = await bot.get_updates()
    created = [u.message for u in updates if u.message and u.message.forum_topic_created]
    assert [m.forum_topic_created.name for m in created if m.forum_topic_created] == [
        "Mention 123",
        "Asked by a person",
    ]
    last = updates[-1].message
    assert last is not None and last.message_thread_id == human["message_thread_id"]
    shape = fixture("update.message.topic_reply_to_topic_root.json")["message"]
    raw = control.http.get(f"/bot{TOKEN}/getUpdates").json()["result"][-1]["message"]
    assert set(raw) == set(shape) and set(raw["reply_to_message"]) == set(shape["reply_to_message"])
    with pytest.raises(BadRequest, match=said("message thread not found")):
        await bot.send_message(FORUM, "x", message_thread_id=4242)
    with pytest.raises(BadRequest, match=said("not a forum")):
        await bot.create_forum_topic(GROUP, "nope")


async def test_buttons_press_and_answer(bot: Bot, control: Control) -> None:
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Claim", callback_data="claim:thread-1")],
            [InlineKeyboardButton("Open", url="https://x.com/humas_demo/status/1")],
        ]
    )
    sent = await bot.send_message(GROUP, "mention", reply_markup=keyboard)
    assert sent.reply_markup == keyboard
    press = control.post(
        "press",
        {"user_id": RINA, "chat_id": GROUP, "message_id": sent.message_id, "action": "claim"},
    )
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == press["callback_query_id"]
    assert query.data == "claim:thread-1" and query.from_user.id == RINA
    assert query.message is not None and query.message.message_id == sent.message_id
    assert set(update.to_dict()["callback_query"]) == set(
        fixture("update.callback_query.json")["callback_query"]
    )
    await bot.answer_callback_query(query.id, text="Claimed by Rina")
    answer = control.http.get("/_emulator/answers", params={"callback_query_id": query.id}).json()
    assert (answer["answered"], answer["text"], answer["show_alert"]) == (
        True,
        "Claimed by Rina",
        False,
    )
    with pytest.raises(BadRequest, match=said("query is too old")):
        await bot.answer_callback_query(query.id)
    missing = {"user_id": RINA, "chat_id": GROUP, "message_id": sent.message_id, "action": "nope"}
    assert "no button" in control.post("press", missing, status=400)["error"]
    with pytest.raises(BadRequest, match=said("button_data_invalid")):
        await bot.send_message(
            GROUP,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("x", callback_data="x" * 65)]]
            ),
        )


async def test_edits(bot: Bot, control: Control) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="claim:t")]])
    sent = await bot.send_message(
        GROUP, "<b>New</b> mention", parse_mode="HTML", reply_markup=keyboard
    )
    with pytest.raises(BadRequest, match=said("message is not modified")):
        await bot.edit_message_text(
            "<b>New</b> mention", GROUP, sent.message_id, parse_mode="HTML", reply_markup=keyboard
        )
    with pytest.raises(BadRequest, match=said("message is not modified")):
        await bot.edit_message_reply_markup(GROUP, sent.message_id, reply_markup=keyboard)
    # An edit that leaves reply_markup out removes the keyboard, as in Telegram.
    edited = await bot.edit_message_text("Claimed by Rina", GROUP, sent.message_id)
    assert isinstance(edited, type(sent)) and edited.edit_date is not None
    (stored,) = control.messages(GROUP)
    assert (stored["text"], stored["reply_markup"]) == ("Claimed by Rina", None)
    with pytest.raises(BadRequest, match=said("message to edit not found")):
        await bot.edit_message_text("x", GROUP, 999)
    user_message = control.send(GROUP, "from a person")
    with pytest.raises(BadRequest, match=said("message can't be edited")):
        await bot.edit_message_text("x", GROUP, user_message["message_id"])
    assert await bot.delete_message(GROUP, sent.message_id)
    assert [m["message_id"] for m in control.messages(GROUP)] == [user_message["message_id"]]


# -- updates ---------------------------------------------------------------------------------------


async def test_offset_confirms_and_redelivery(bot: Bot, control: Control) -> None:
    first = control.send(GROUP, "one")["update_id"]
    second = control.send(GROUP, "two")["update_id"]
    assert second == first + 1
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates()] == [first, second]  # not confirmed
    assert await bot.get_updates(offset=second + 1) == ()
    control.post("redeliver", {"update_id": first})
    (again,) = await bot.get_updates(offset=second + 1)
    assert again.update_id == first and again.message is not None
    assert again.message.text == "one"
    assert await bot.get_updates(offset=second + 1) == ()
    assert control.post("redeliver", {"update_id": 1}, status=404)["error"]
    # allowed_updates sticks until changed: messages are no longer even queued.
    assert await bot.get_updates(offset=second + 1, allowed_updates=["callback_query"]) == ()
    assert control.send(GROUP, "unseen")["update_id"] is None
    assert await bot.get_updates(allowed_updates=[]) == ()


async def test_an_issued_update_can_be_read_back_as_it_was_sent(bot: Bot, control: Control) -> None:
    update_id = control.send(GROUP, "/rules")["update_id"]
    (delivered,) = await bot.get_updates(offset=-1)
    issued = control.http.get("/_emulator/updates", params={"update_id": update_id}).json()
    assert delivered.update_id == issued["update"]["update_id"] == update_id
    assert delivered.message is not None
    message = issued["update"]["message"]
    assert (message["message_id"], message["chat"]["id"], message["text"]) == (
        delivered.message.message_id,
        GROUP,
        "/rules",
    )
    unknown = control.http.get("/_emulator/updates", params={"update_id": 1})
    assert unknown.status_code == 404
    assert control.http.get("/_emulator/updates", params={"update_id": "x"}).status_code == 400


async def test_long_poll_answers_as_soon_as_an_update_arrives(
    bot: Bot, control: Control, url: str
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.3)
    await asyncio.to_thread(control.send, GROUP, "now")
    (update,) = await poll
    assert update.message is not None and update.message.text == "now"
    assert time.monotonic() - started < 2
    # Two pollers: the newer getUpdates ends the one still waiting, as on Telegram.
    first = asyncio.create_task(bot.get_updates(offset=update.update_id + 1, timeout=5))
    await asyncio.sleep(0.3)
    async with make_bot(url) as second:
        assert await second.get_updates(offset=update.update_id + 1) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_application_polling_handles_messages_and_commands(
    url: str, control: Control
) -> None:
    seen: list[str] = []
    done = asyncio.Event()

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(update.effective_message.text or "")
        if len(seen) == 2:
            done.set()

    app = ApplicationBuilder().token(TOKEN).base_url(f"{url}/bot").build()
    app.add_handler(CommandHandler("claim", on_text))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=2)
        await asyncio.to_thread(control.send, GROUP, f"/claim@{BOT_USERNAME} t-1")
        await asyncio.to_thread(control.send, GROUP, "just text")
        await asyncio.wait_for(done.wait(), 5)
        await app.updater.stop()
        await app.stop()
    assert seen == [f"/claim@{BOT_USERNAME} t-1", "just text"]


async def test_webhook_delivery_with_secret_and_retry(bot: Bot, control: Control) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    got_two = threading.Event()

    async def receiver(request: Request) -> Response:
        received.append(
            (request.headers.get("x-telegram-bot-api-secret-token"), await request.json())
        )
        if len(received) == 1:
            return JSONResponse({"error": "first try fails"}, status_code=500)
        got_two.set()
        return Response(status_code=200)

    server = ThreadedServer(Starlette(routes=[Route("/hook", receiver, methods=["POST"])])).start()
    try:
        assert await bot.set_webhook(f"{server.url}/hook", secret_token="s3cret-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        sent = control.send(GROUP, "via webhook")
        assert await asyncio.to_thread(got_two.wait, 5)
        assert [r[0] for r in received] == ["s3cret-token", "s3cret-token"]
        assert [r[1]["update_id"] for r in received] == [sent["update_id"]] * 2
        # The receiver answers 200 after it signalled; the emulator then drops the update.
        for _ in range(50):
            info = await bot.get_webhook_info()
            if info.pending_update_count == 0:
                break
            await asyncio.sleep(0.05)
        assert info.url == f"{server.url}/hook" and info.pending_update_count == 0
        assert info.last_error_message is not None and "500" in info.last_error_message
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()
    finally:
        server.stop()


# -- chat states, limits, faults ----------------------------------------------------------------


async def test_kicked_and_migrated_chats(bot: Bot, control: Control) -> None:
    control.post("kick", {"chat_id": GROUP})
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(GROUP, "anyone?")
    migrated = control.post("migrate", {"chat_id": BASIC})
    new_id = migrated["migrate_to_chat_id"]
    assert new_id < -(2**32) and str(new_id).startswith("-100")
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(BASIC, "hello")
    assert caught.value.new_chat_id == new_id
    sent = await bot.send_message(new_id, "hello again")
    assert sent.chat.id == new_id and sent.chat.type == "supergroup"
    updates = await bot.get_updates()
    kinds = [
        (u.my_chat_member.new_chat_member.status if u.my_chat_member else None)
        or (u.message.migrate_to_chat_id or u.message.migrate_from_chat_id if u.message else None)
        for u in updates
    ]
    assert kinds == ["kicked", new_id, BASIC]


async def test_rate_limits_and_injected_faults(
    bot: Bot, tg: TelegramEmulator, control: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after without a warning
    tg.rate_limits = True
    for n in range(3):
        await bot.send_message(GROUP, f"burst {n}")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "one too many")
    waited = caught.value.retry_after
    assert isinstance(waited, timedelta) and waited >= timedelta(seconds=1)
    tg.rate_limits = False
    control.post("faults", {"path": "*/sendMessage", "status": 429, "retry_after": 14})
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "x")
    assert caught.value.retry_after == timedelta(seconds=14)
    raw = control.http.post("/_emulator/faults", json={"path": "*/getMe", "status": 429})
    assert raw.status_code == 200
    response = control.http.get(f"/bot{TOKEN}/getMe")
    body = response.json()
    assert set(body) == set(fixture("error.too_many_requests.json"))
    control.post("faults", {"path": "*/sendMessage", "status": 502})
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(GROUP, "x")


async def test_a_fault_can_wait_for_the_calls_before_it(
    bot: Bot, control: Control, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second message of a series fails, and a later one too: each fault counts the
    matching calls it let pass, including those another fault took."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after without a warning
    control.post("faults", {"path": "*/sendMessage", "status": 429, "retry_after": 3, "after": 1})
    control.post("faults", {"path": "*/sendMessage", "status": 500, "after": 3})
    outcomes = []
    for n in range(6):
        try:
            await bot.send_message(GROUP, f"series {n}")
            outcomes.append("sent")
        except RetryAfter:
            outcomes.append("429")
        except NetworkError:
            outcomes.append("5xx")
    assert outcomes == ["sent", "429", "sent", "5xx", "sent", "sent"]
    for after in (-1, 1.5, "2", True):
        body = {"path": "*/sendMessage", "status": 500, "after": after}
        assert "after must be" in control.post("faults", body, status=400)["error"]
    assert control.http.get("/_emulator/faults").json()["faults"] == []


async def test_commands_and_chat_info(bot: Bot, control: Control) -> None:
    await bot.set_my_commands([BotCommand("claim", "Claim a mention"), BotCommand("open", "List")])
    registered = control.http.get("/_emulator/commands").json()["commands"]
    assert [c["command"] for c in registered] == ["claim", "open"]
    assert [c.command for c in await bot.get_my_commands()] == ["claim", "open"]
    with pytest.raises(BadRequest, match=said("bot_command_invalid")):
        await bot.set_my_commands([BotCommand("Claim-It", "bad")])
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.title, chat.type) == (GROUP, "Humas", "supergroup")
    member = await bot.get_chat_member(GROUP, RINA)
    assert member.status == "creator"
    admins = await bot.get_chat_administrators(GROUP)
    assert {a.user.id for a in admins} == {RINA, 123456}
    assert await bot.send_chat_action(GROUP, "typing")
    private = await bot.send_message(RINA, "hi", reply_markup=ForceReply())
    assert private.chat.type == "private" and private.chat.first_name == "Rina"
    assert control.messages(RINA)[0]["force_reply"]["force_reply"] is True
    with pytest.raises(BadRequest, match=said("chat not found")):
        await bot.send_message(-100999, "x")


async def test_control_api_refuses_bad_input_and_changes_nothing(control: Control) -> None:
    before = control.messages(GROUP)
    for body in (
        {"user_id": 777, "chat_id": GROUP, "text": "x"},
        {"user_id": RINA, "chat_id": 5, "text": "x"},
        {"user_id": RINA, "chat_id": GROUP, "text": ""},
        {"user_id": RINA, "chat_id": GROUP, "text": "x", "reply_to_message_id": 99},
        {"user_id": "1001", "chat_id": GROUP, "text": "x"},
    ):
        assert control.post("send", body, status=400)["error"]
    assert control.http.get("/_emulator/messages", params={"chat_id": "abc"}).status_code == 400
    assert control.post("migrate", {"chat_id": GROUP}, status=400)["error"]
    assert control.messages(GROUP) == before


def test_a_caller_that_hangs_up_mid_request_is_no_error_of_the_emulator(
    emulator: tuple[TelegramEmulator, str], tg: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A bridge process killed while sending leaves its request half read: the emulator notes
    the call and moves on, without an error trace in the output the chaos suite reports."""
    host, port = emulator[1].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(
            f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: {host}\r\n"
            'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"chat_id": '.encode()
        )
    deadline = time.monotonic() + 10
    while not (calls := tg.core.calls_snapshot()) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert calls[0]["path"] == f"/bot{TOKEN}/sendMessage"
    # The server may log an error just after the call is noted: watch a while for one.
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
        time.sleep(0.05)
    assert tg.messages(GROUP) == []
