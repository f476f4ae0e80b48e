"""Timers in Redis fire once however many timekeepers run, and only when due."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.keys import Keys
from bridge.store import Store, connect, utcnow
from bridge.supervision import Timekeeper, schedule, timer_name


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
    assert await store.redis.zrange(store.keys.timers, 0, -1) == ["escalate|later|0"]
