"""Timers in Redis fire once however many timekeepers run, and only when due."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bridge.pipeline.supervise import Timekeeper, schedule, timer_name
from bridge.store.keys import Keys
from bridge.store.store import Store, connect, utcnow


async def test_many_timekeepers_move_each_due_timer_once(store: Store, redis_url: str) -> None:
    async with store.redis.pipeline(transaction=True) as pipe:
        for n in range(300):
            schedule(
                pipe, store, timer_name("escalate", f"t{n}", 0), utcnow() - timedelta(seconds=1)
            )
        schedule(pipe, store, timer_name("escalate", "later", 0), utcnow() + timedelta(hours=1))
        await pipe.execute()
    clients = [connect(redis_url) for _ in range(5)]
    try:
        keepers = [Timekeeper(Store(c, Keys("test"))) for c in clients]
        moved = await asyncio.gather(*(k.pop_due() for k in keepers for _ in range(4)))
    finally:
        for client in clients:
            await client.aclose()
    entries = await store.redis.xrange(store.keys.timers_stream)
    fired = [fields["timer"] for _, fields in entries]
    assert sum(moved) == len(fired) == len(set(fired)) == 300
    assert await store.redis.zrange(store.keys.timers, 0, -1) == ["escalate|later|0.0"]


async def test_a_reopened_thread_gets_a_new_sla_and_the_old_one_stops(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answered, then a new question in the conversation: a new deadline from now, a timer of
    the new round, and the old round's reminders do nothing."""
    from app.config import parse_config
    from bridge.domain.models import Mention, PostedReply, ThreadStatus, thread_id_for
    from bridge.pipeline.runner import Entry
    from bridge.pipeline.supervise import SupervisionStage
    from bridge.store.threads import change_state
    from tests.integration import test_stages

    config = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {all: {chat: slack, channel: C0ALL}, sup: {chat: slack, channel: C0SUP}}
routes: [{name: all, to: [all], sla: 30m}]
escalation: {to: sup, remind_every: 10m}
""")
    monkeypatch.setattr(test_stages, "CONFIG", config)  # route_all routes with it
    thread_id = thread_id_for(network="x", account="humas", conversation_id="50")

    def mention(mention_id: str) -> Mention:
        return Mention(network="x", id=mention_id, account="humas", text="?", conversation_id="50")

    await store.append_mentions([mention("50")], network="x", account="humas", cursor="50")
    await test_stages.route_all(store)
    first = await store.thread(thread_id)
    assert first is not None and first.sla_round == 0 and first.sla == timedelta(minutes=30)
    await change_state(
        store,
        thread_id,
        status=ThreadStatus.ANSWERED,
        by="rina",
        answered=PostedReply(id="9", url="https://x.com/humas_demo/status/9", as_handle="h"),
    )
    await store.append_mentions([mention("51")], network="x", account="humas", cursor="51")
    await test_stages.route_all(store)
    reopened = await store.thread(thread_id)
    assert reopened is not None and reopened.status is ThreadStatus.OPEN
    assert reopened.sla_round > 0 and reopened.sla_deadline is not None
    assert reopened.sla_deadline > first.sla_deadline  # type: ignore[operator]
    timers = await store.redis.zrange(store.keys.timers, 0, -1)
    assert timers == [
        f"escalate|{thread_id}|0.0",
        f"escalate|{thread_id}|{reopened.sla_round}.0",
    ]

    stage = SupervisionStage(store, config=lambda: config)
    await store.redis.xgroup_create(store.keys.timers_stream, stage.group, id="0", mkstream=True)
    queued = await store.redis.xlen(store.keys.outbox_stream)
    stale = {"timer": f"remind|{thread_id}|0.3"}
    entry_id = await store.redis.xadd(store.keys.timers_stream, stale)
    await stage.handle(Entry(store.keys.timers_stream, entry_id, stale))
    assert await store.redis.xlen(store.keys.outbox_stream) == queued, "the old round is over"
    assert await store.redis.zcard(store.keys.timers) == 2, "and schedules nothing more"


async def test_an_upgrade_lists_and_times_the_threads_that_are_still_open(store: Store) -> None:
    """Threads stored by a version without the open set: added once, answered ones left out."""
    from bridge.pipeline.supervise import backfill_open_threads

    now = utcnow()
    for thread_id, status in (("x-humas-aaaaaa", "open"), ("x-humas-bbbbbb", "answered")):
        await store.redis.hset(
            store.keys.thread(thread_id),
            mapping={
                "id": thread_id,
                "network": "x",
                "account": "humas",
                "conversation_id": thread_id,
                "route": "all",
                "priority": "normal",
                "status": status,
                "created_at": now.isoformat(),
                "sla_deadline": (now + timedelta(minutes=30)).isoformat(),
            },
        )
        await store.redis.zadd(store.keys.threads_by_time, {thread_id: now.timestamp()})
    assert await backfill_open_threads(store) == 1
    assert await store.redis.zrange(store.keys.open_threads, 0, -1) == ["x-humas-aaaaaa"]
    assert await store.redis.zrange(store.keys.timers, 0, -1) == ["escalate|x-humas-aaaaaa|0.0"]
    assert await backfill_open_threads(store) == 0, "once"
