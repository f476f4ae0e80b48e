"""A desk for the retention tests: the router and mirror stages running against a real Redis,
with the real Slack and Telegram clients posting to their emulators (rate limits on), so a
mention leaves in Redis exactly what it leaves in production."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from adapters.slack.chat import SlackChat
from adapters.telegram.chat import TelegramChat
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.config import Config, Destination, RetentionConfig
from bridge.domain.models import Author, Mention, PostedReply, ThreadStatus, thread_id_for
from bridge.pipeline.mirror import MirrorStage
from bridge.pipeline.route import RouterStage
from bridge.pipeline.runner import StageRunner
from bridge.store.retention import Lifetimes
from bridge.store.store import Store, utcnow
from bridge.store.threads import change_state
from emulators.slack import SlackEmulator
from emulators.telegram import TelegramEmulator

SLACK_TOKEN, SLACK_SECRET = "xoxb-retention", "retention-secret"
TELEGRAM_TOKEN = "616161:retention-token"
GROUP = -1001000000001
CONFIG = parse_config(f"""
accounts: [{{key: humas, handle: humas_demo}}]
destinations:
  desk: {{chat: slack, channel: C0DESK}}
  group: {{chat: telegram, chat_id: {GROUP}}}
people: [{{key: rina, slack: U0RINA, telegram: 1001, speaks_for: [humas]}}]
routes: [{{name: all, to: [desk, group]}}]
""")
DAY_S = 86400


def days_last(seconds: float, *, days: float = 180) -> float:
    """The retention scale that makes ``days`` days last ``seconds`` seconds."""
    return seconds / (days * DAY_S)


def scaled(store: Store, scale: float, retention: RetentionConfig | None = None) -> Store:
    """The same Redis, with retention periods that last ``scale`` as long."""
    lifetimes = Lifetimes.of(retention or RetentionConfig(), scale=scale)
    return Store(store.redis, store.keys, lifetimes=lambda: lifetimes)


def mention(number: int, *, conversation: int | None = None, text: str = "") -> Mention:
    post_id = str(5000 + number)
    return Mention(
        network="x",
        id=post_id,
        account="humas",
        text=text or f"@humas_demo jalan rusak nomor {number}",
        author=Author(id="7", handle="warga", name="Warga", followers=10),
        created_at=utcnow(),
        url=f"https://x.com/warga/status/{post_id}",
        conversation_id=str(5000 + (number if conversation is None else conversation)),
    )


def thread_of(number: int) -> str:
    return thread_id_for(network="x", account="humas", conversation_id=str(5000 + number))


async def until(check: Callable[[], Awaitable[Any]], *, what: str, timeout: float = 60) -> Any:
    """Poll ``check`` until it holds; the test fails after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)
    return value


@dataclass
class Emulators:
    slack: SlackEmulator
    telegram: TelegramEmulator
    servers: list[ThreadedServer] = field(default_factory=list)


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    slack = SlackEmulator(
        bot_token=SLACK_TOKEN,
        signing_secret=SLACK_SECRET,
        team_id="T0",
        app_id="A0",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
        bridge_url=None,
        channels={"C0DESK": "desk"},
        users={"U0RINA": "rina"},
    )
    telegram = TelegramEmulator(
        token=TELEGRAM_TOKEN,
        bot_username="retention_bot",
        chats={GROUP: {"title": "Humas", "type": "supergroup", "is_forum": False}},
        users={1001: {"first_name": "Rina"}},
    )
    found = Emulators(slack, telegram)
    found.servers = [ThreadedServer(app).start() for app in (slack.app, telegram.app)]
    yield found
    for server in found.servers:
        server.stop()


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot warns about a 429's RetryAfter unless this is set."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


class Desk:
    """Mentions go in at the poller's end; ``settle`` waits for every stage to be done."""

    def __init__(self, store: Store, emulators: Emulators, config: Config = CONFIG) -> None:
        self.store = store
        self.emulators = emulators
        self.config = config
        self.settings = AppSettings(
            slack_api_url=f"{emulators.servers[0].url}/api/",
            slack_bot_token=SLACK_TOKEN,
            slack_signing_secret=SLACK_SECRET,
            telegram_api_url=emulators.servers[1].url,
            telegram_bot_token=TELEGRAM_TOKEN,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Desk]:
        slack = SlackChat(settings=self.settings, config=lambda: self.config, store=self.store)
        telegram = TelegramChat(
            settings=self.settings, config=lambda: self.config, store=self.store
        )
        await telegram.application.initialize()
        router = RouterStage(self.store, config=lambda: self.config)
        mirror = MirrorStage(
            self.store,
            config=lambda: self.config,
            sinks={"slack": slack, "telegram": telegram},
            channel_interval_s=self._interval,
            platform_interval_s=lambda chat: 1 / 30 if chat == "telegram" else 0.0,
        )
        runners = [
            StageRunner(
                self.store.redis,
                stream=stage.stream,
                group=stage.group,
                consumer="desk",
                handler=stage.handle,
                lane_of=stage.lane_of if isinstance(stage, MirrorStage) else None,
                block_ms=50,
                claim_idle_ms=2000,
            )
            for stage in (router, mirror)
        ]
        stop = asyncio.Event()
        tasks = [asyncio.create_task(runner.run(stop)) for runner in runners]
        try:
            yield self
        finally:
            stop.set()
            await asyncio.gather(*tasks)
            await slack.close()
            await telegram.application.shutdown()

    def _interval(self, destination: Destination) -> float:
        """Paced as the runtime paces them: a Slack channel one a second, a Telegram group
        twenty a minute."""
        return 1.0 if destination.chat == "slack" else 3.0

    async def mention_arrives(self, *mentions: Mention) -> None:
        newest = max(m.id for m in mentions)
        await self.store.append_mentions(
            list(mentions), network="x", account="humas", cursor=newest
        )
        await self.settle()

    async def settle(self, timeout: float = 60) -> None:
        """Every entry of the stages' streams read and acknowledged by every group."""

        async def done() -> bool:
            for stream in (self.store.keys.mentions_stream, self.store.keys.outbox_stream):
                if not await self.store.redis.exists(stream):
                    return False
                groups: Any = await self.store.redis.xinfo_groups(stream)
                if not groups or any(g["pending"] or g.get("lag") for g in groups):
                    return False
            return True

        await until(done, what="the stages to finish", timeout=timeout)

    async def answer(self, number: int) -> None:
        """Rina's reply went out on X: the thread is answered, and its mirrors redrawn."""
        await change_state(
            self.store,
            thread_of(number),
            status=ThreadStatus.ANSWERED,
            by="rina",
            answered=PostedReply(
                id="9000", url="https://x.com/humas_demo/status/9000", as_handle="humas_demo"
            ),
        )
        await self.settle()

    def slack_texts(self) -> list[str]:
        return [str(m.get("blocks")) for m in self.emulators.slack.messages("C0DESK")]

    def telegram_texts(self) -> list[str]:
        return [str(m["text"]) for m in self.emulators.telegram.messages(GROUP)]


async def thread_keys(store: Store, thread_id: str) -> dict[str, int]:
    """Every key of a thread, its chat messages' index entries included, and when each
    expires (epoch ms; -1 never)."""
    shown = [str(k) for k in await store.redis.smembers(store.keys.thread_shown(thread_id))]
    found = {}
    for key in [*store.keys.thread_keys(thread_id), *shown]:
        expires = int(await store.redis.pexpiretime(key))
        if expires != -2:
            found[key] = expires
    return found


def close_to(value: int, wanted: int, *, within: timedelta = timedelta(minutes=1)) -> bool:
    return abs(value - wanted) <= within.total_seconds() * 1000


async def effect_keys(store: Store, thread_id: str) -> list[str]:
    return [
        str(key)
        async for key in store.redis.scan_iter(match=f"{store.keys.prefix}:effect:*{thread_id}*")
    ]


async def route(store: Store, config: Any) -> None:
    router = RouterStage(store, config=lambda: config)
    runner = StageRunner(
        store.redis,
        stream=router.stream,
        group=router.group,
        consumer="t",
        handler=router.handle,
        block_ms=50,
    )
    await runner.ensure_group()
    while entries := await runner._read_new():
        await runner._handle_all(entries)
