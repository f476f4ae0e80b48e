"""The upkeep, against a real Redis: it takes expired threads off the list reports read,
trims the streams without ever losing an entry a stage still needs, keeps the audit log 400
days, and gives what the previous version wrote its retention; one process at a time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from app.config import parse_config
from bridge.config import RetentionConfig
from bridge.domain.models import ThreadStatus
from bridge.ops.maintenance import Maintenance
from bridge.store.store import Store, now_ms, utcnow
from bridge.store.threads import change_state
from tests.integration.retention_desk import (
    DAY_S,
    Desk,
    Emulators,
    effect_keys,
    emulators,
    mention,
    retry_after_as_timedelta,
    route,
    scaled,
    thread_keys,
    thread_of,
    until,
)

__all__ = ["emulators", "retry_after_as_timedelta"]  # fixtures
DAY_MS = DAY_S * 1000


async def test_an_answered_thread_goes_after_its_retention_and_open_ones_stay(
    store: Store, emulators: Emulators
) -> None:
    quick = scaled(store, 4 / (180 * DAY_S))  # 180 days last 4 s
    desk = Desk(quick, emulators)
    async with desk.running():
        await desk.mention_arrives(mention(1), mention(2), mention(3))
        await change_state(quick, thread_of(3), status=ThreadStatus.CLAIMED, by="rina")
        await desk.answer(1)
    assert len(await thread_keys(quick, thread_of(1))) == 7

    await until(
        lambda: _gone(quick, thread_of(1)), what="the answered thread to expire", timeout=30
    )
    await Maintenance(quick, owner="test").full_pass()

    listed = await quick.redis.zrange(quick.keys.threads_by_time, 0, -1)
    assert sorted(listed) == sorted([thread_of(2), thread_of(3)])
    for number in (2, 3):  # open, claimed: older than the retention, never expiring
        kept = await thread_keys(quick, thread_of(number))
        assert len(kept) == 7 and set(kept.values()) == {-1}
    assert await quick.thread(thread_of(1)) is None


async def _gone(store: Store, thread_id: str) -> bool:
    keys = [*store.keys.thread_keys(thread_id)]
    return not await store.redis.exists(*keys)


async def test_one_process_does_the_upkeep_at_a_time(store: Store) -> None:
    first = Maintenance(store, owner="worker-1", tick_s=0.1)
    second = Maintenance(store, owner="worker-2", tick_s=0.1)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    lease = store.keys.maintenance_lease
    running = [asyncio.create_task(first.run(stop_first))]
    await until(lambda: store.redis.get(lease), what="the first worker to take the lease")
    running.append(asyncio.create_task(second.run(stop_second)))
    for _ in range(10):  # a second of ticks of both
        assert await store.redis.get(lease) == "worker-1"
        await asyncio.sleep(0.1)
    stop_first.set()
    await until(lambda: _equals(store.redis.get(lease), "worker-2"), what="the second to take over")
    stop_second.set()
    await asyncio.gather(*running)
    assert not await store.redis.exists(lease)


async def _equals(value: Any, wanted: str) -> bool:
    return bool(await value == wanted)


# -- the streams --------------------------------------------------------------------------------


async def test_the_streams_keep_every_entry_a_stage_still_needs(store: Store) -> None:
    stream, redis = store.keys.outbox_stream, store.redis
    upkeep = Maintenance(store, owner="test")
    two_days_ago = now_ms() - 2 * DAY_MS
    ids = [await redis.xadd(stream, {"n": str(n)}, id=f"{two_days_ago + n}-0") for n in range(300)]
    await redis.xgroup_create(stream, "mirror", id="0")
    await redis.xgroup_create(stream, "late-reader", id="0")
    await upkeep.full_pass()
    assert await redis.xlen(stream) == 300  # a group has read nothing yet: all are needed

    await redis.xgroup_destroy(stream, "late-reader")
    await redis.xreadgroup("mirror", "w", {stream: ">"}, count=300)
    await redis.xack(stream, "mirror", *ids[:250], *ids[251:])  # one is still being handled
    unread = [await redis.xadd(stream, {"n": str(n)}) for n in range(300, 310)]
    await upkeep.full_pass()
    kept = [entry_id for entry_id, _ in await redis.xrange(stream)]
    assert kept == ids[250:] + unread

    # The stage catches up, and new entries come and are handled: the two-day-old ones go,
    # today's stay (a day, by default).
    await redis.xack(stream, "mirror", ids[250])
    await redis.xreadgroup("mirror", "w", {stream: ">"})
    await redis.xack(stream, "mirror", *unread)
    await upkeep.full_pass()
    assert [entry_id for entry_id, _ in await redis.xrange(stream)] == unread
    claimed: Any = await redis.xautoclaim(stream, "mirror", "w", min_idle_time=0)
    assert claimed[1] == [] and claimed[2] == []


async def test_the_audit_log_keeps_400_days_and_the_other_logs_their_own(store: Store) -> None:
    redis, keys = store.redis, store.keys
    now = now_ms()

    async def logged(stream: str, *ages_days: float) -> None:
        for n, age in enumerate(sorted(ages_days, reverse=True)):
            await redis.xadd(stream, {"n": str(n)}, id=f"{int(now - age * DAY_MS)}-{n}")

    await logged(keys.audit_stream, *[401] * 150, 399, 30, 0)
    await logged(keys.dropped_stream, *[31] * 150, 29)
    dead = f"{keys.outbox_stream}:dead"
    await logged(dead, *[181] * 150, 179)
    parked_updates = f"{keys.inbound_stream('telegram')}:dead"
    await logged(parked_updates, *[181] * 20, 179)
    await Maintenance(store, owner="test").full_pass()

    async def ages(stream: str) -> list[int]:
        entries = await redis.xrange(stream)
        return [round((now - int(entry_id.split("-")[0])) / DAY_MS) for entry_id, _ in entries]

    assert await ages(keys.audit_stream) == [399, 30, 0]
    assert await ages(keys.dropped_stream) == [29]
    assert await ages(dead) == [179]
    assert await ages(parked_updates) == [179]


async def test_deferral_counts_of_entries_no_longer_pending_are_forgotten(store: Store) -> None:
    stream, redis = store.keys.outbox_stream, store.redis
    first = await redis.xadd(stream, {"n": "1"})
    second = await redis.xadd(stream, {"n": "2"})
    await redis.xgroup_create(stream, "mirror", id="0")
    await redis.xreadgroup("mirror", "w", {stream: ">"})
    counts = f"{stream}:deferrals:mirror"
    await redis.hset(counts, mapping={first: 3, second: 1})
    await redis.xack(stream, "mirror", first)
    await Maintenance(store, owner="test").full_pass()
    assert await redis.hgetall(counts) == {second: "1"}


# -- an upgrade ---------------------------------------------------------------------------------


async def as_the_previous_version_left_it(
    store: Store,
    thread_id: str,
    *,
    created_days_ago: float,
    closed_days_ago: float | None = None,
) -> list[str]:
    """The thread as a version without retention wrote it: no expiry on its keys, no list of
    its chat messages (their index entries expired 90 days after posting); returns them."""
    redis, keys = store.redis, store.keys
    shown = [str(key) for key in await redis.smembers(keys.thread_shown(thread_id))]
    for key in keys.thread_keys(thread_id):
        await redis.persist(key)
    await redis.delete(keys.thread_shown(thread_id))
    for key in shown:
        await redis.expire(key, 90 * DAY_S)
    created = utcnow() - timedelta(days=created_days_ago)
    await redis.hset(keys.thread(thread_id), "created_at", created.isoformat())
    await redis.zadd(keys.threads_by_time, {thread_id: created.timestamp()})
    if closed_days_ago is not None:
        closed = utcnow() - timedelta(days=closed_days_ago)
        await redis.hset(keys.thread(thread_id), "status_at", closed.isoformat())
    return shown


async def effect_as_left(store: Store, key: str, *, days_ago: float) -> None:
    await store.redis.persist(key)
    await store.redis.hset(key, "at", now_ms() - int(days_ago * DAY_MS))


async def test_data_of_the_previous_version_gets_its_retention_from_the_upkeep(
    store: Store, emulators: Emulators
) -> None:
    desk = Desk(store, emulators)
    async with desk.running():
        await desk.mention_arrives(mention(1), mention(2), mention(3))
        await desk.answer(1)
        await desk.answer(2)
    messages = {
        1: await as_the_previous_version_left_it(
            store, thread_of(1), created_days_ago=190, closed_days_ago=181
        ),
        2: await as_the_previous_version_left_it(
            store, thread_of(2), created_days_ago=12, closed_days_ago=10
        ),
        3: await as_the_previous_version_left_it(store, thread_of(3), created_days_ago=400),
    }
    records = {n: sorted(await effect_keys(store, thread_of(n))) for n in (1, 2, 3)}
    for key in records[1]:
        await effect_as_left(store, key, days_ago=181)
    for key in records[2]:
        await effect_as_left(store, key, days_ago=2)
    unfinished = store.keys.effect("reply:left-doing")
    await store.redis.hset(unfinished, mapping={"state": "doing", "at": now_ms() - DAY_MS})

    await Maintenance(store, owner="upgrade").full_pass()

    # Answered 181 days ago: gone, with its chat messages' index and its records.
    assert await thread_keys(store, thread_of(1)) == {}
    assert not await store.redis.exists(*messages[1], *records[1])
    assert thread_of(1) not in await store.redis.zrange(store.keys.threads_by_time, 0, -1)
    # Answered 10 days ago: kept 170 more days, its messages' index listed and kept with it.
    closed = await store.thread(thread_of(2))
    assert closed is not None and closed.status_at is not None
    kept = await thread_keys(store, thread_of(2))
    assert set(messages[2]) <= set(kept) and len(kept) == 7
    assert set(kept.values()) == {int(closed.status_at.timestamp() * 1000) + 180 * DAY_MS}
    for key in records[2]:
        done_at = int(await store.redis.hget(key, "at") or 0)
        assert await store.redis.pexpiretime(key) == done_at + 7 * DAY_MS
    # Open for 400 days: kept, and its messages' index no longer expires after 90 days.
    kept = await thread_keys(store, thread_of(3))
    assert set(messages[3]) <= set(kept) and set(kept.values()) == {-1}
    # A reply's record left unfinished: kept as long as its entry could come back.
    at = int(await store.redis.hget(unfinished, "at") or 0)
    assert await store.redis.pexpiretime(unfinished) == at + 180 * DAY_MS
    assert await store.redis.exists(store.keys.migration("mirror-index"))

    # Later the institution keeps closed threads 90 days instead (the config reloaded): the
    # next pass counts them from when each was closed.
    shorter = scaled(store, 1.0, RetentionConfig(threads=timedelta(days=90)))
    await Maintenance(shorter, owner="upgrade").full_pass()
    kept = await thread_keys(store, thread_of(2))
    assert len(kept) == 7
    assert set(kept.values()) == {int(closed.status_at.timestamp() * 1000) + 90 * DAY_MS}
    assert set((await thread_keys(store, thread_of(3))).values()) == {-1}


async def test_what_was_written_next_to_an_expired_thread_is_removed(store: Store) -> None:
    """A mention folded, or a thread escalated, just as its thread expired: the field written
    then would otherwise stay forever, without its thread."""
    keys = store.keys
    await store.redis.hincrby(keys.thread("x-humas-gone"), "folded", 1)
    await store.redis.hsetnx(keys.thread_roots("x-humas-gone-too"), "supervisors", "5001")
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="5001")
    await route(
        store,
        parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
routes: [{name: all, to: [desk]}]
"""),
    )
    await Maintenance(store, owner="test").full_pass()
    assert not await store.redis.exists(
        keys.thread("x-humas-gone"), keys.thread_roots("x-humas-gone-too")
    )
    assert len(await thread_keys(store, thread_of(1))) == 3  # a live thread keeps its keys
