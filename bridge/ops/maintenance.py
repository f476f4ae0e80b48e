"""The upkeep that keeps Redis from growing without bound, by one process at a time.

Most keys expire by themselves (see :mod:`bridge.store.retention`); this does what a TTL cannot, a
small batch at each tick so that Redis is never held up, under a lease like the pollers' (any
number of workers may run it; one does at a time, and another takes over within the lease):

- the streams between stages lose the entries every reader has acknowledged once they are
  older than ``retention.streams``: the oldest entry still pending (read, not acknowledged) in
  any group, or not yet read by one, is the floor, so nothing is trimmed that a stage still
  needs. Their dead letters go after ``retention.threads``, the audit log after
  ``retention.audit``, dropped mentions after ``retention.dropped``;
- the list of threads by time loses the threads that have expired;
- a walk over every key (:mod:`bridge.store.keywalk`) gives each the lifetime it should have;
- Redis's memory is read once an hour, for ``reachable doctor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.exceptions import ResponseError

from bridge.ops.memory import sample_memory
from bridge.store.keys import dead_letters, deferrals
from bridge.store.keywalk import KeyWalk
from bridge.store.redis_outage import Outage, is_outage, outages_ignored
from bridge.store.retention import Lifetimes
from bridge.store.store import Store

log = logging.getLogger(__name__)

TICK_S = 1.0
LEASE_MS = 30_000
LISTING_BATCH = 200
TRIM_LIMIT = 1000
TRIMS_PER_STREAM = 10

# Take the threads (KEYS[2..]) that no longer exist out of the list by time (KEYS[1]; ARGV:
# their ids), checked in the same step: a conversation that comes back gets a new thread
# under the same id, which stays listed.
_UNLIST_EXPIRED = """
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[i - 1])
    removed = removed + 1
  end
end
return removed
"""


def entry_id(value: str) -> tuple[int, int]:
    millis, _, sequence = value.partition("-")
    return int(millis), int(sequence or 0)


class Maintenance:
    def __init__(self, store: Store, *, owner: str, tick_s: float = TICK_S) -> None:
        self.store = store
        self.owner = owner
        self.tick_s = tick_s
        self.walk = KeyWalk(store)
        self._unlist_expired = store.redis.register_script(_UNLIST_EXPIRED)
        # Where the sweep of the list by time goes on from (a score), None: from the start.
        self._listed_from: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Upkeep each tick until ``stop``; a Redis outage (a restart, a failover) is waited
        out like every role's, logged once for the process."""
        lease = self.store.keys.maintenance_lease
        holding = False
        outage = Outage("upkeep")
        try:
            while not stop.is_set():
                try:
                    holding = await self.store.acquire_lease(lease, self.owner, LEASE_MS)
                    if holding:
                        await self.step()
                    outage.over()
                except Exception as exc:
                    if is_outage(exc):
                        await outage.wait(exc, stop)
                        continue
                    # The upkeep can wait; the mentions cannot: the worker goes on.
                    log.exception("upkeep: a step failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.tick_s)
        finally:
            outage.over(got_through=False)
            if holding:
                with outages_ignored():
                    await self.store.release_lease(lease, self.owner)

    async def step(self) -> bool:
        """One round of upkeep; True when it finished a pass of both the walk over every key
        and the sweep of the list by time."""
        lifetimes = self.store.lifetimes()
        now_ms = await self.redis_now_ms()
        await sample_memory(self.store, now_ms=now_ms, scale=lifetimes.scale)
        await self.trim_streams(now_ms, lifetimes)
        walked = await self.walk.step(now_ms, lifetimes)
        listed = await self.unlist_expired(now_ms, lifetimes)
        return listed and walked

    async def full_pass(self) -> None:
        """Every part of the upkeep once through everything: the streams, the walk, then the
        list by time (which then finds what the walk let expire)."""
        lifetimes = self.store.lifetimes()
        await self.trim_streams(await self.redis_now_ms(), lifetimes)
        while not await self.walk.step(await self.redis_now_ms(), lifetimes):
            pass
        self._listed_from = None
        while not await self.unlist_expired(await self.redis_now_ms(), lifetimes):
            pass

    async def redis_now_ms(self) -> int:
        """Redis's clock: stream ids and key expiry follow it, not this machine's."""
        seconds, micros = await self.store.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    # -- streams ---------------------------------------------------------------------------------

    async def trim_streams(self, now_ms: int, lifetimes: Lifetimes) -> None:
        keys = self.store.keys
        for stream in (
            keys.mentions_stream,
            keys.outbox_stream,
            keys.actions_stream,
            keys.timers_stream,
        ):
            floors = await self.acknowledged_below(stream)
            if floors:
                floor = min(floors.values(), key=entry_id)
                aged = f"{now_ms - lifetimes.streams_ms}-0"
                await self._trim(stream, min(floor, aged, key=entry_id))
                await self._forget_deferrals(stream, floors)
            await self._trim(dead_letters(stream), f"{now_ms - lifetimes.dead_letters_ms}-0")
        # A chat's inbound stream deletes what it handled; its dead letters need trimming.
        async for parked in self.store.redis.scan_iter(
            match=dead_letters(keys.inbound_stream("*"))
        ):
            await self._trim(str(parked), f"{now_ms - lifetimes.dead_letters_ms}-0")
        await self._trim(keys.audit_stream, f"{now_ms - lifetimes.audit_ms}-0")
        await self._trim(keys.dropped_stream, f"{now_ms - lifetimes.dropped_ms}-0")

    async def acknowledged_below(self, stream: str) -> dict[str, str]:
        """Per group reading ``stream``, the id below which it has acknowledged every entry:
        its oldest pending entry, or when none is pending, the one after the last it read
        (what comes after that is unread). Empty when no group reads it (yet): then nothing
        may go."""
        redis = self.store.redis
        try:
            groups: Any = await redis.xinfo_groups(stream)
        except ResponseError:  # no such stream
            return {}
        floors = {}
        for group in groups or []:
            name = str(group["name"])
            oldest = None
            if int(group.get("pending") or 0):
                summary: Any = await redis.xpending(stream, name)
                oldest = summary.get("min")
            if oldest:
                floors[name] = str(oldest)
            else:
                # None pending (or all acknowledged since): whatever it read after what it had
                # read then would be pending too.
                millis, sequence = entry_id(str(group["last-delivered-id"]))
                floors[name] = f"{millis}-{sequence + 1}"
        return floors

    async def _trim(self, stream: str, below: str) -> None:
        """Entries older than ``below`` go: whole blocks of entries a thousand at a time
        (XTRIM ~ with a LIMIT, so that a long backlog never holds Redis up), then, once only
        the block holding ``below`` is left, the older entries in it."""
        if entry_id(below) <= (0, 0):
            return
        redis = self.store.redis
        for _ in range(TRIMS_PER_STREAM):
            if not await redis.xtrim(stream, minid=below, approximate=True, limit=TRIM_LIMIT):
                await redis.xtrim(stream, minid=below, approximate=False)
                return

    async def _forget_deferrals(self, stream: str, floors: dict[str, str]) -> None:
        """The deferral counts of entries no longer pending (acknowledged or parked)."""
        redis = self.store.redis
        for group, floor in floors.items():
            key = deferrals(stream, group)
            gone = [
                field
                async for field, _ in redis.hscan_iter(key, count=500)
                if entry_id(str(field)) < entry_id(floor)
            ]
            for start in range(0, len(gone), 500):
                await redis.hdel(key, *gone[start : start + 500])

    # -- the list of threads by time -------------------------------------------------------------

    async def unlist_expired(self, now_ms: int, lifetimes: Lifetimes) -> bool:
        """One batch of the threads created before the retention of closed threads began
        (only those can have expired); True when the sweep reached the end of them."""
        keys = self.store.keys
        until = (now_ms - lifetimes.threads_ms) / 1000
        batch: Any = await self.store.redis.zrangebyscore(
            keys.threads_by_time,
            self._listed_from or "-inf",
            until,
            start=0,
            num=LISTING_BATCH,
            withscores=True,
        )
        if batch:
            ids = [str(member) for member, _ in batch]
            await self._unlist_expired(
                keys=[keys.threads_by_time, *(keys.thread(i) for i in ids)], args=ids
            )
        if len(batch) < LISTING_BATCH:
            self._listed_from = None
            return True
        first, last = batch[0][1], batch[-1][1]
        # Go on from the last one's time; past it when a whole batch shares that time.
        self._listed_from = f"({last!r}" if first == last else repr(last)
        return False
