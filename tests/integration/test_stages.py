"""The router and the stage runner on a real Redis: threads, roots, effects, take-over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from app.config import parse_config
from bridge.domain.models import Mention, thread_id_for
from bridge.errors import Deferred
from bridge.pipeline.route import RouterStage
from bridge.pipeline.runner import Entry, StageRunner
from bridge.store.store import Store

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations:
  desk: {chat: slack, channel: C0DESK}
  all: {chat: slack, channel: C0ALL}
routes:
  - {name: vip, match: {any_words: [menteri]}, to: [desk], sla: 10m, tags: [vip], continue: true}
  - {name: spam, match: {any_words: [promo]}, drop: true}
  - {name: complaints, match: {any_words: [rusak]}, to: [desk, all], sla: 30m, priority: high}
  - {name: rest, to: [all]}
""")


def mention(mention_id: str, text: str, conversation: str) -> Mention:
    return Mention(
        network="x", id=mention_id, account="humas", text=text, conversation_id=conversation
    )


async def outbox(store: Store) -> list[dict[str, str]]:
    return [fields for _, fields in await store.redis.xrange(store.keys.outbox_stream)]


async def route_all(store: Store) -> None:
    router = RouterStage(store, config=lambda: CONFIG)
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


async def test_mentions_of_one_conversation_share_a_thread_and_its_roots(store: Store) -> None:
    await store.append_mentions(
        [
            mention("10", "jalan rusak", "10"),
            mention("11", "iya", "10"),
            mention("12", "halo", "12"),
        ],
        network="x",
        account="humas",
        cursor="12",
    )
    await route_all(store)
    entries = await outbox(store)
    thread_a = thread_id_for(network="x", account="humas", conversation_id="10")
    assert [(e["mention_id"], e["destination"], e["root"]) for e in entries] == [
        ("10", "desk", "10"),
        ("10", "all", "10"),
        ("11", "all", "10"),
        ("12", "all", "12"),
    ]
    thread = await store.thread(thread_a)
    assert thread is not None and thread.route == "complaints" and thread.priority == "high"
    assert thread.mention_count == 2
    assert await store.cursor("x", "humas") == "12"
    pending = await store.redis.xpending(store.keys.mentions_stream, "router")
    assert pending["pending"] == 0


async def test_a_dropped_mention_is_not_mirrored_but_counted_kept_and_audited(
    store: Store,
) -> None:
    await store.append_mentions(
        [mention("20", "PROMO hadiah", "20"), mention("21", "menteri: jalan rusak", "21")],
        network="x",
        account="humas",
        cursor="21",
    )
    await route_all(store)
    assert [e["mention_id"] for e in await outbox(store)] == ["21", "21"]
    dropped = await store.redis.xrange(store.keys.dropped_stream)
    assert [(f["rule"], Mention.model_validate_json(f["mention"]).id) for _, f in dropped] == [
        ("spam", "20")
    ]
    assert await store.redis.get(store.keys.counter("dropped:spam")) == "1"
    audit = [f for _, f in await store.redis.xrange(store.keys.audit_stream)]
    assert audit[0]["outcome"] == "dropped" and "rule spam" in audit[0]["detail"]
    assert (
        await store.thread(thread_id_for(network="x", account="humas", conversation_id="20"))
        is None
    )
    vip = await store.thread(thread_id_for(network="x", account="humas", conversation_id="21"))
    assert vip is not None
    assert (vip.route, vip.priority, vip.tags) == ("complaints", "high", ("vip",))
    assert vip.sla_deadline is not None
    assert vip.sla_deadline - vip.created_at == timedelta(minutes=10)


async def test_a_mention_polled_twice_is_routed_once(store: Store) -> None:
    for _ in range(2):
        await store.append_mentions(
            [mention("10", "halo", "10")], network="x", account="humas", cursor="10"
        )
    await route_all(store)
    assert len(await outbox(store)) == 1
    thread = await store.thread(thread_id_for(network="x", account="humas", conversation_id="10"))
    assert thread is not None and thread.mention_count == 1


async def test_entries_of_a_dead_consumer_are_taken_over(store: Store) -> None:
    stream = "test:stream:demo"
    handled: list[str] = []

    async def handler(entry: Entry) -> None:
        handled.append(entry.fields["n"])
        await store.redis.xack(stream, "g", entry.id)

    dead = StageRunner(
        store.redis, stream=stream, group="g", consumer="dead", handler=handler, block_ms=50
    )
    await dead.ensure_group()
    await store.redis.xadd(stream, {"n": "1"})
    assert len(await dead._read_new()) == 1  # read, then the process "dies" before handling
    alive = StageRunner(
        store.redis,
        stream=stream,
        group="g",
        consumer="alive",
        handler=handler,
        claim_idle_ms=100,
        block_ms=50,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(alive.run(stop))
    for _ in range(50):
        if handled:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    assert handled == ["1"]


async def run_impatient(
    store: Store,
    stream: str,
    handler: Callable[[Entry], Awaitable[None]],
    *,
    until: Callable[[StageRunner], Awaitable[Any]],
) -> StageRunner:
    """One entry on ``stream``, a runner that takes stale entries over at once and parks them
    after two deliveries; runs until ``until`` holds (10 s at most)."""
    runner = StageRunner(
        store.redis,
        stream=stream,
        group="g",
        consumer="c",
        handler=handler,
        claim_idle_ms=10,
        block_ms=10,
        max_deliveries=2,
    )
    await store.redis.xadd(stream, {"n": "1"})
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    for _ in range(200):
        if await until(runner):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    return runner


async def test_an_entry_that_always_fails_is_parked_not_lost(store: Store) -> None:
    stream = "test:stream:poison"

    async def handler(entry: Entry) -> None:
        raise RuntimeError("boom")

    runner = await run_impatient(
        store, stream, handler, until=lambda r: store.redis.xlen(r.dead_letter_stream)
    )
    parked = await store.redis.xrange(runner.dead_letter_stream)
    assert parked and parked[0][1]["n"] == "1"
    assert (await store.redis.xpending(stream, "g"))["pending"] == 0


async def test_a_long_wait_is_not_poison_the_entry_is_handled_when_the_way_opens(
    store: Store,
) -> None:
    """A platform down for longer than max_deliveries claim rounds: deferrals do not count."""
    stream = "test:stream:deferred"
    handled: list[str] = []
    attempts = 0

    async def handler(entry: Entry) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 8:
            raise Deferred("the platform is down")
        handled.append(entry.fields["n"])
        await store.redis.xack(stream, "g", entry.id)

    async def done(_: StageRunner) -> bool:
        return bool(handled)

    runner = await run_impatient(store, stream, handler, until=done)
    assert handled == ["1"] and attempts == 9
    assert await store.redis.xlen(runner.dead_letter_stream) == 0
    assert await store.redis.hlen(runner.deferrals_key) == 0, "its deferrals are forgotten"


async def test_send_pacing_is_per_channel_and_a_retry_after_holds_back_only_its_channel(
    store: Store,
) -> None:
    started = time.monotonic()
    waits = [await store.reserve_send_slot("telegram", "-1001", 3.0) for _ in range(3)]
    # A loaded machine takes a while between the calls; Redis sees whole milliseconds.
    late = time.monotonic() - started + 0.002
    assert waits[0] == 0 and 3 - late <= waits[1] <= 3 and 6 - late <= waits[2] <= 6
    assert await store.reserve_send_slot("telegram", "-1002", 3.0) == 0
    await store.push_back_channel("telegram", "-1003", 20)
    assert 19 <= await store.reserve_send_slot("telegram", "-1003", 3.0) <= 20
    assert await store.reserve_send_slot("telegram", "-1004", 3.0) == 0
    # The whole bot's slot ("*") spaces every message of the platform.
    started = time.monotonic()
    overall = [await store.reserve_send_slot("telegram", "*", 1 / 30) for _ in range(31)]
    assert overall[-1] + (time.monotonic() - started) >= 0.95 and overall[-1] <= 1.0


async def test_a_sender_that_will_not_wait_takes_no_slot(store: Store) -> None:
    """Senders giving up on a busy channel must not push its next slot later: once they held
    slots nobody used, and under a backlog nothing was ever sent."""
    assert await store.reserve_send_slot("telegram", "-1005", 3.0) == 0
    for _ in range(5):
        assert await store.reserve_send_slot("telegram", "-1005", 3.0, max_wait_s=1) < 0
    assert round(await store.reserve_send_slot("telegram", "-1005", 3.0, max_wait_s=10)) == 3


async def test_an_entry_taken_over_while_it_waited_in_its_lane_is_handled_once(
    store: Store,
) -> None:
    """A worker holding a long lane must not also handle an entry another worker took over
    while it waited there; and the one it is handling is not taken from it mid-way."""
    stream = "test:lane"
    for n in ("1", "2", "3", "4"):
        await store.redis.xadd(stream, {"n": n})
    handled: list[tuple[str, str]] = []

    def runner(consumer: str) -> StageRunner:
        async def handle(entry: Entry) -> None:
            handled.append((consumer, entry.fields["n"]))
            await asyncio.sleep(0.45)  # within its budget, half the claim-idle time
            await store.redis.xack(stream, "g", entry.id)

        return StageRunner(
            store.redis,
            stream=stream,
            group="g",
            consumer=consumer,
            handler=handle,
            claim_idle_ms=1000,
        )

    slow, other = runner("slow"), runner("other")
    await slow.ensure_group()
    lane = asyncio.create_task(slow._handle_all(await slow._read_new()))
    await asyncio.sleep(1.2)  # slow is on entry 3; entry 4 has waited past the claim-idle time
    await other._handle_all(await other._claim_stale())
    await lane
    assert sorted(n for _, n in handled) == ["1", "2", "3", "4"], handled  # each once
    assert ("other", "4") in handled and ("slow", "1") in handled
    assert (await store.redis.xpending(stream, "g"))["pending"] == 0


async def test_a_deferred_entry_is_tried_again_soon_not_after_the_claim_idle_time(
    store: Store,
) -> None:
    """A platform's passing error defers an entry; its worker tries again after a quarter of
    the claim-idle time, instead of waiting for a claim round."""
    stream = "test:stream:soon"
    await store.redis.xadd(stream, {"n": "1"})
    tried: list[float] = []

    async def handler(entry: Entry) -> None:
        tried.append(time.monotonic())
        if len(tried) == 1:
            raise Deferred("Slack answered 503")
        await store.redis.xack(stream, "g", entry.id)

    runner = StageRunner(
        store.redis, stream=stream, group="g", consumer="c", handler=handler, claim_idle_ms=8000
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        for _ in range(120):
            if len(tried) == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
    assert len(tried) == 2
    assert 1.9 <= tried[1] - tried[0] < 6, "again after about 2 s, well before the 8 s claim"
    assert (await store.redis.xpending(stream, "g"))["pending"] == 0
    assert await store.redis.hlen(runner.deferrals_key) == 0
