"""Telegram's long-poll listener: it waits out a Redis restart or demotion instead of ending its
process, and the bot's answers wait out Telegram's flood control instead of being lost."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.telegram.chat import TelegramChat
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.ports import AdapterContext
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from cli.redisproc import RedisProcess
from emulators.core import Fault
from emulators.telegram import TelegramEmulator

TOKEN = "424242:listener-test-token"
USER = 1001
CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: telegram, chat_id: 1001}}
people: [{key: rina, telegram: 1001}]
routes: [{name: all, to: [desk]}]
""")


async def telegram_chat(url: str, store: Store) -> TelegramChat:
    """The Telegram adapter against the emulator at ``url``, keeping its state in ``store``."""
    return await TelegramChat.from_context(
        AdapterContext(
            settings=AppSettings(telegram_api_url=url, telegram_bot_token=TOKEN),
            config=lambda: CONFIG,
            store=store,
        )
    )


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramEmulator, str]]:
    emulator = TelegramEmulator(
        token=TOKEN,
        bot_username="listener_bot",
        chats={USER: {"type": "private"}},
        users={USER: {"first_name": "Rina"}},
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


async def test_a_redis_restart_does_not_end_the_listener(
    telegram: tuple[TelegramEmulator, str], tmp_path: Path
) -> None:
    emulator, url = telegram
    redis_process = RedisProcess(directory=tmp_path).start()
    redis = connect(redis_process.url)
    chat = await telegram_chat(url, Store(redis, Keys("listener")))
    stop = asyncio.Event()
    try:
        redis_process.kill()
        listening = asyncio.create_task(chat.listen(stop))
        await asyncio.sleep(2.5)  # it tries the lease while Redis is down
        assert not listening.done(), listening.exception()
        redis_process.start()
        emulator.send({"user_id": USER, "chat_id": USER, "text": "/help"})
        for _ in range(100):
            if any("/link" in m.get("text", "") for m in emulator.messages(USER)):
                break
            await asyncio.sleep(0.1)
        assert any("/link" in m.get("text", "") for m in emulator.messages(USER)), (
            "the /help answer once Redis is back"
        )
    finally:
        stop.set()
        await asyncio.wait_for(listening, timeout=15)
        await chat.close()
        await redis.aclose()
        redis_process.cleanup()


async def test_a_redis_demoted_to_a_replica_does_not_end_the_listener(
    telegram: tuple[TelegramEmulator, str], tmp_path: Path
) -> None:
    """A failover demotes the primary: it answers READONLY to every write until it is promoted
    again, and the listener waits for that, then answers as before."""
    emulator, url = telegram
    (tmp_path / "primary").mkdir()
    (tmp_path / "other").mkdir()
    primary = RedisProcess(directory=tmp_path / "primary").start()
    other = RedisProcess(directory=tmp_path / "other").start()
    client = connect(primary.url)
    chat = await telegram_chat(url, Store(client, Keys("listener")))
    stop = asyncio.Event()
    listening = asyncio.create_task(chat.listen(stop))
    control = redis.Redis(port=primary.port, decode_responses=True)
    try:
        await _until(lambda: control.exists("listener:stream:inbound:telegram"), "the listener")
        control.replicaof("127.0.0.1", other.port)
        refused = lambda: control.info("errorstats").get("errorstat_READONLY", {}).get("count", 0)  # noqa: E731
        await _until(lambda: refused() >= 5, "the listener meeting READONLY a few times")
        assert not listening.done(), listening.exception()
        control.replicaof("NO", "ONE")
        emulator.send({"user_id": USER, "chat_id": USER, "text": "/help"})
        await _until(
            lambda: any("/link" in m.get("text", "") for m in emulator.messages(USER)),
            "the /help answer once Redis is a primary again",
        )
    finally:
        stop.set()
        await asyncio.wait_for(listening, timeout=15)
        await chat.close()
        await client.aclose()
        control.close()
        primary.cleanup()
        other.cleanup()


async def _until(check: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


@pytest.fixture
async def listening(
    telegram: tuple[TelegramEmulator, str], store: Store
) -> AsyncIterator[TelegramChat]:
    _, url = telegram
    chat = await telegram_chat(url, store)
    stop = asyncio.Event()
    task = asyncio.create_task(chat.listen(stop))
    yield chat
    stop.set()
    await asyncio.wait_for(task, timeout=15)
    await chat.close()


async def test_an_answer_that_meets_flood_control_is_sent_once_telegrams_wait_is_over(
    telegram: tuple[TelegramEmulator, str],
    listening: TelegramChat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # python-telegram-bot warns when it builds a 429's RetryAfter unless this is set, and the
    # tests turn warnings into errors.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emulator, _ = telegram
    emulator.core.add_fault(
        Fault(method="POST", path="*/sendMessage", status=429, times=1, retry_after=2)
    )
    emulator.send({"user_id": USER, "chat_id": USER, "text": "/help"})
    deadline = time.monotonic() + 20
    while not [m for m in emulator.messages(USER) if "/link" in m.get("text", "")]:
        assert time.monotonic() < deadline, "no answer to /help after Telegram's wait"
        await asyncio.sleep(0.1)
    sends = [c for c in emulator.core.calls_snapshot() if c["path"].endswith("/sendMessage")]
    assert [c["status"] for c in sends] == [429, 200]
    assert sends[1]["time"] - sends[0]["time"] >= 2.0, "sent again before Telegram's wait"


async def test_words_queued_by_a_process_that_does_not_send_are_sent_in_order_and_pace(
    telegram: tuple[TelegramEmulator, str], listening: TelegramChat, store: Store
) -> None:
    """Three words for Rina queued by a process with no listener (the web page where she
    linked her account, say) reach her private chat through the process that listens: in
    order, one a second (Telegram's pace in a private chat)."""
    emulator, url = telegram
    elsewhere = TelegramChat(
        settings=AppSettings(telegram_api_url=url, telegram_bot_token=TOKEN),
        config=lambda: CONFIG,
        store=store,
    )
    for word in ("satu", "dua", "tiga"):
        await elsewhere.tell_privately(user_id=str(USER), where=str(USER), text=word)
    deadline = time.monotonic() + 20
    while len(emulator.messages(USER)) < 3:
        assert time.monotonic() < deadline, emulator.messages(USER)
        await asyncio.sleep(0.1)
    assert [m["text"] for m in emulator.messages(USER)] == ["satu", "dua", "tiga"]
    sent = [c["time"] for c in emulator.core.calls_snapshot() if c["path"].endswith("/sendMessage")]
    assert min(b - a for a, b in itertools.pairwise(sent)) >= 0.9, "faster than 1/s"


async def test_a_command_cut_short_by_a_redis_outage_is_answered_once_redis_is_back(
    telegram: tuple[TelegramEmulator, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis fails while /help is handled, after the update and its action were noted as
    seen: both notes are forgotten, so the retry answers it (Telegram will not send it again)."""
    emulator, url = telegram
    redis_process = RedisProcess(directory=tmp_path).start()
    redis = connect(redis_process.url)
    chat = await telegram_chat(url, Store(redis, Keys("listener")))
    answer_help = chat._staff.on_help
    calls = 0

    async def cut_short_once(update: object, context: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RedisConnectionError("Connection closed by server.")
        await answer_help(update, context)  # type: ignore[arg-type]

    monkeypatch.setattr(chat._staff, "on_help", cut_short_once)
    chat.application.handlers.clear()
    chat._register_handlers()
    stop = asyncio.Event()
    listening = asyncio.create_task(chat.listen(stop))
    try:
        emulator.send({"user_id": USER, "chat_id": USER, "text": "/help"})
        for _ in range(150):
            if any("/link" in m.get("text", "") for m in emulator.messages(USER)):
                break
            await asyncio.sleep(0.1)
        assert calls == 2
        assert [m for m in emulator.messages(USER) if "/link" in m.get("text", "")], (
            "the /help answer after the outage"
        )
    finally:
        stop.set()
        await asyncio.wait_for(listening, timeout=15)
        await chat.close()
        await redis.aclose()
        redis_process.cleanup()
