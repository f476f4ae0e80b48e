"""Telegram's long-poll listener waits out a Redis restart instead of ending its process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.base import AdapterContext
from adapters.telegram.chat import TelegramChat
from adapters.telegram.emulator import TelegramEmulator
from bridge.config import parse_config
from bridge.httpserver import ThreadedServer
from bridge.keys import Keys
from bridge.redisproc import RedisProcess
from bridge.settings import Settings
from bridge.store import Store, connect

TOKEN = "424242:listener-test-token"
USER = 1001
CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: telegram, chat_id: 1001}}
people: [{key: rina, telegram: 1001}]
routes: [{name: all, to: [desk]}]
""")


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
    chat = await TelegramChat.from_context(
        AdapterContext(
            settings=Settings(telegram_api_url=url, telegram_bot_token=TOKEN),
            config=lambda: CONFIG,
            store=Store(redis, Keys("listener")),
        )
    )
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


async def test_a_command_cut_short_by_a_redis_outage_is_answered_once_redis_is_back(
    telegram: tuple[TelegramEmulator, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redis fails while /help is handled, after the update and its action were noted as
    seen: both notes are forgotten, so the retry answers it (Telegram will not send it again)."""
    emulator, url = telegram
    redis_process = RedisProcess(directory=tmp_path).start()
    redis = connect(redis_process.url)
    chat = await TelegramChat.from_context(
        AdapterContext(
            settings=Settings(telegram_api_url=url, telegram_bot_token=TOKEN),
            config=lambda: CONFIG,
            store=Store(redis, Keys("listener")),
        )
    )
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
