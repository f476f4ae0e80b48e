"""A Redis primary demoted to a replica (REPLICAOF, as in a failover) and promoted back: the
stages wait it out and carry on, and a message posted just before it is recorded, not posted
again. Each test demotes a private redis-server of its own."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from adapters.telegram.chat import TelegramChat
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.domain.models import Mention, thread_id_for
from bridge.pipeline.mirror import MirrorStage
from bridge.pipeline.route import RouterStage
from bridge.pipeline.runner import StageRunner
from bridge.ports import AdapterContext
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from cli.redisproc import RedisProcess
from emulators.core import Fault
from emulators.telegram import TelegramEmulator

TOKEN = "424242:role-change-token"
GROUP = -1001000000001
CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {humas-telegram: {chat: telegram, chat_id: -1001000000001}}
routes: [{name: all, to: [humas-telegram]}]
""")


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(directory=tmp_path).start()
    yield process
    process.cleanup()


@pytest.fixture
async def store(redis_process: RedisProcess) -> AsyncIterator[Store]:
    client = connect(redis_process.url)
    yield Store(client, Keys("failover"))
    await client.aclose()


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramEmulator, str]]:
    emulator = TelegramEmulator(
        token=TOKEN,
        bot_username="failover_bot",
        chats={GROUP: {"title": "Humas", "type": "supergroup", "is_forum": False}},
        users={},
        rate_limits=True,
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@dataclass
class Running:
    """A stage runner at work until the test ends."""

    runner: StageRunner
    task: asyncio.Task[None]
    stop: asyncio.Event


@pytest.fixture
async def running() -> AsyncIterator[Callable[[StageRunner], Running]]:
    started: list[Running] = []

    def start(runner: StageRunner) -> Running:
        stop = asyncio.Event()
        started.append(Running(runner, asyncio.create_task(runner.run(stop)), stop))
        return started[-1]

    yield start
    for stage in started:
        stage.stop.set()
    await asyncio.wait_for(
        asyncio.gather(*(s.task for s in started), return_exceptions=True), timeout=15
    )


def running_router(
    start: Callable[[StageRunner], Running], store: Store, *, block_ms: int
) -> Running:
    """The router stage, started by ``start`` (the ``running`` fixture), reading mentions as
    ``worker-1`` (blocking ``block_ms`` per read)."""
    router = RouterStage(store, config=lambda: CONFIG)
    return start(
        StageRunner(
            store.redis,
            stream=router.stream,
            group=router.group,
            consumer="worker-1",
            handler=router.handle,
            block_ms=block_ms,
        )
    )


async def until(check: Callable[[], object], *, what: str, stage: Running, timeout: float = 20):
    """Wait for ``check()`` (sync or async) to be true, failing at once if the stage ended."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if stage.task.done():
            ended = stage.task.exception() if not stage.task.cancelled() else "cancelled"
            raise AssertionError(f"the {stage.runner.group} stage ended ({ended!r}) before {what}")
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def redis_info(process: RedisProcess, section: str) -> dict[str, object]:
    with redis.Redis(port=process.port) as client:
        return dict(client.info(section))


def refused(process: RedisProcess, command: str) -> int:
    """How many calls of ``command`` Redis refused (READONLY, UNBLOCKED...) so far: before
    running them or, for a script, at its first write."""
    stats = redis_info(process, "commandstats").get(f"cmdstat_{command}")
    if not isinstance(stats, dict):
        return 0
    return int(stats.get("rejected_calls", 0)) + int(stats.get("failed_calls", 0))


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "bridge.store.redis_outage" and r.levelno >= logging.WARNING
    ]


async def test_the_router_waits_out_a_demotion_and_routes_the_mentions_after_it(
    redis_process: RedisProcess,
    store: Store,
    running: Callable[[StageRunner], Running],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stage = running_router(running, store, block_ms=5000)
    await until(
        lambda: redis_info(redis_process, "clients")["blocked_clients"] == 1,
        what="the router waiting for mentions",
        stage=stage,
    )
    redis_process.demote()
    # Its read was cut short (UNBLOCKED); it keeps trying, and the replica keeps refusing.
    await until(
        lambda: refused(redis_process, "xreadgroup") >= 3,
        what="the router trying again on the demoted Redis",
        stage=stage,
    )
    redis_process.promote()
    mention = Mention(
        network="x", id="1001", account="humas", text="jalan rusak", conversation_id="1001"
    )
    await store.append_mentions([mention], network="x", account="humas", cursor="1001")

    async def routed() -> bool:
        return len(await store.redis.xrange(store.keys.outbox_stream)) == 1

    await until(routed, what="the mention routed after the promotion", stage=stage)
    thread = await store.thread(thread_id_for(network="x", account="humas", conversation_id="1001"))
    assert thread is not None and thread.mention_count == 1
    # The router says Redis answers again once its pass (the routing included) is through.
    await until(
        lambda: any("Redis answers again" in line for line in outage_lines(caplog)),
        what="the router saying the outage is over",
        stage=stage,
    )
    lines = outage_lines(caplog)
    assert len(lines) == 2, lines  # once when it began, once when it ended: not per retry
    assert "Redis unavailable" in lines[0] and "UNBLOCKED" in lines[0]
    assert "Redis answers again" in lines[1]


async def test_a_message_posted_as_redis_is_demoted_is_recorded_once_not_posted_again(
    redis_process: RedisProcess,
    store: Store,
    telegram: tuple[TelegramEmulator, str],
    running: Callable[[StageRunner], Running],
) -> None:
    """Telegram cannot find a message again: had the record been given up, the mention would
    be posted a second time once another worker took the entry over."""
    emulator, url = telegram
    sink = await TelegramChat.from_context(
        AdapterContext(
            settings=AppSettings(telegram_api_url=url, telegram_bot_token=TOKEN),
            config=lambda: CONFIG,
            store=store,
        )
    )
    mention = Mention(
        network="x", id="2002", account="humas", text="lampu jalan mati", conversation_id="2002"
    )
    await store.append_mentions([mention], network="x", account="humas", cursor="2002")
    router = RouterStage(store, config=lambda: CONFIG)
    mirror = MirrorStage(
        store, config=lambda: CONFIG, sinks={"telegram": sink}, channel_interval_s=lambda d: 0.0
    )
    # The message takes a while to go out: long enough to demote Redis meanwhile.
    emulator.core.add_fault(Fault(method="POST", path="/bot*/sendMessage", status=0, delay_s=1.5))
    stages = [
        running(
            StageRunner(
                store.redis,
                stream=stage.stream,
                group=stage.group,
                consumer=f"worker-{n}",
                handler=stage.handle,
                lane_of=lane_of,
                claim_idle_ms=2000,
                block_ms=200,
            )
        )
        for n, (stage, lane_of) in enumerate(((router, None), (mirror, mirror.lane_of)))
    ]
    try:
        await until(
            lambda: not emulator.core.faults, what="the message on its way", stage=stages[1]
        )
        redis_process.demote()
        await until(
            lambda: emulator.messages(GROUP) and refused(redis_process, "evalsha") >= 2,
            what="the message out and its record refused",
            stage=stages[1],
        )
        redis_process.promote()
        thread_id = thread_id_for(network="x", account="humas", conversation_id="2002")
        effect_key = f"mirror:humas-telegram:{thread_id}:2002"

        async def recorded() -> bool:
            effect = await store.effect(effect_key)
            return effect is not None and effect.state == "done"

        await until(recorded, what="the message recorded after the promotion", stage=stages[1])
        pending = await store.redis.xpending(store.keys.outbox_stream, mirror.group)
        assert pending["pending"] == 0
        # Long enough for another worker to take over an entry left pending (claim idle 2 s).
        for _ in range(50):
            assert len(emulator.messages(GROUP)) == 1, "posted again"
            await asyncio.sleep(0.1)
        assert all(not s.task.done() for s in stages)
    finally:
        await sink.close()


async def test_after_a_failover_to_a_redis_that_never_had_the_stream_the_router_starts_anew(
    redis_process: RedisProcess,
    store: Store,
    running: Callable[[StageRunner], Running],
) -> None:
    """A replica promoted before it had synced anything has no stream and no consumer group:
    the router makes them again and routes what comes next."""
    stage = running_router(running, store, block_ms=200)
    await until(
        lambda: redis_info(redis_process, "clients")["blocked_clients"] == 1,
        what="the router waiting for mentions",
        stage=stage,
    )
    with redis.Redis(port=redis_process.port) as client:
        client.flushall()  # everything gone, as on a fresh node
    mention = Mention(
        network="x", id="3003", account="humas", text="halte rusak", conversation_id="3003"
    )
    await store.append_mentions([mention], network="x", account="humas", cursor="3003")

    async def routed() -> bool:
        return len(await store.redis.xrange(store.keys.outbox_stream)) == 1

    await until(routed, what="the mention routed on the fresh Redis", stage=stage)
