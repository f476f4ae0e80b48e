"""The stage pattern: read a stream with a consumer group, take over entries of dead workers.

A handler receives one entry and acknowledges it itself, in the same MULTI that records its
effect as done, so an entry is only ever acknowledged once its effect is safely recorded.
Anything a handler raises leaves the entry pending: after ``claim_idle_ms`` any worker of the
group takes it over (XAUTOCLAIM) and tries again (an entry that was only :class:`Deferred` is
tried again sooner, by the worker holding it); after ``max_deliveries`` it is parked in a
dead-letter stream for people to look at, never dropped silently. Deliveries that ended in
:class:`Deferred` (a paced channel, a rate limit, a platform that is down) do not count: a
backlog waits however long the outage lasts; only failures and crashes make an entry poison.
A Redis outage (a restart, a failover: see :mod:`bridge.store.redis_outage`) is no failure
either: the runner waits it out and tries the interrupted lane again first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bridge.errors import Deferred
from bridge.store.keys import dead_letters, deferrals
from bridge.store.redis_outage import Outage, is_outage, outages_ignored

log = logging.getLogger(__name__)

# Redis stamps a delivery a little before this worker notes receiving it. The claim-idle
# time must be well above it (it is seconds) for the XCLAIM check below to tell entries apart.
LANE_CLOCK_SLACK_MS = 200
RETRY_AFTER_MAX_S = 10.0


@dataclass(frozen=True)
class Entry:
    stream: str
    id: str
    fields: dict[str, str]
    # Taken over from another delivery, or tried again after a deferral: it may have
    # deferrals on record.
    claimed: bool = False
    # When this worker got it (event loop time): how long it has waited in its lane since.
    received_at: float = 0.0


Handler = Callable[[Entry], Awaitable[None]]
LaneOf = Callable[[Entry], str]


def consumer_name(role: str) -> str:
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class StageRunner:
    """Feeds the entries of one stream to a handler; lanes run concurrently, entries in order."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        lane_of: LaneOf | None = None,
        claim_idle_ms: int = 60_000,
        batch: int = 50,
        block_ms: int = 1000,
        max_deliveries: int = 20,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.handler = handler
        self.lane_of = lane_of
        self.claim_idle_ms = claim_idle_ms
        self.batch = batch
        self.block_ms = block_ms
        self.max_deliveries = max_deliveries
        # A deferred lane is tried again this soon by this worker, rather than after a whole
        # claim-idle time by whichever worker claims it (two minutes by default).
        self.retry_after_s = min(claim_idle_ms / 4000, RETRY_AFTER_MAX_S)
        self._deferred: list[tuple[float, list[Entry]]] = []
        # A Redis outage that cut a handler short: the runner waits it out before going on.
        self._interrupted: Exception | None = None

    @property
    def dead_letter_stream(self) -> str:
        return dead_letters(self.stream)

    @property
    def deferrals_key(self) -> str:
        """Per pending entry, how many of its deliveries ended in a deferral."""
        return deferrals(self.stream, self.group)

    async def ensure_group(self) -> None:
        """The group reads the stream from its start: after a failover to a Redis that never
        had it, entries still there are handled (their effect records say which are done)."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: Redis outages (a restart, a failover) are waited out, never an end."""
        loop = asyncio.get_running_loop()
        outage = Outage(self.group)
        next_claim = 0.0
        grouped = False
        try:
            while not stop.is_set():
                try:
                    if not grouped:
                        await self.ensure_group()
                        grouped = True
                    if due := self._due_again(loop.time()):
                        await asyncio.gather(*(self._handle_lane(lane) for lane in due))
                    entries: list[Entry] = []
                    if loop.time() >= next_claim:
                        entries += await self._claim_stale()
                        next_claim = loop.time() + max(self.claim_idle_ms / 4000, 0.5)
                    if not entries:
                        entries = await self._read_new()
                    if entries:
                        await self._handle_all(entries)
                    if self._interrupted is not None:
                        raise self._interrupted
                    outage.over()
                except Exception as exc:
                    if isinstance(exc, ResponseError) and "NOGROUP" in str(exc):
                        log.warning("%s: the group is gone (a fresh Redis?); made anew", self.group)
                        grouped = False
                        continue
                    if not is_outage(exc):
                        raise
                    await outage.wait(exc, stop)
                finally:
                    self._interrupted = None
        finally:
            outage.over(got_through=False)

    def _due_again(self, now: float) -> list[list[Entry]]:
        """The deferred lanes whose retry time has come."""
        due = [lane for at, lane in self._deferred if at <= now]
        self._deferred = [(at, lane) for at, lane in self._deferred if at > now]
        return due

    async def _read_new(self) -> list[Entry]:
        reply: Any = await self.redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self.batch, block=self.block_ms
        )
        now = asyncio.get_running_loop().time()
        entries = []
        for stream, items in reply or []:
            entries += [
                Entry(stream, entry_id, fields, received_at=now) for entry_id, fields in items
            ]
        return entries

    async def _claim_stale(self) -> list[Entry]:
        reply: Any = await self.redis.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=self.claim_idle_ms,
            start_id="0-0",
            count=self.batch,
        )
        now = asyncio.get_running_loop().time()
        claimed = [
            Entry(self.stream, entry_id, fields, claimed=True, received_at=now)
            for entry_id, fields in reply[1]
            if fields is not None
        ]
        if claimed:
            log.info(
                "%s: took over %d stale entr%s of %s",
                self.group,
                len(claimed),
                "y" if len(claimed) == 1 else "ies",
                self.stream,
            )
        return [entry for entry in claimed if not await self._park_if_poisoned(entry)]

    async def _park_if_poisoned(self, entry: Entry) -> bool:
        pending = await self.redis.xpending_range(
            self.stream, self.group, min=entry.id, max=entry.id, count=1
        )
        deliveries = int(pending[0]["times_delivered"]) if pending else 0
        if deliveries <= self.max_deliveries:
            return False
        deferrals = int(await self.redis.hget(self.deferrals_key, entry.id) or 0)
        if deliveries - deferrals <= self.max_deliveries:
            return False
        log.error(
            "%s: entry %s failed %d times; parked in %s",
            self.group,
            entry.id,
            deliveries,
            self.dead_letter_stream,
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            parked: dict[Any, Any] = {**entry.fields, "original_id": entry.id, "group": self.group}
            pipe.xadd(self.dead_letter_stream, parked)
            pipe.xack(self.stream, self.group, entry.id)
            pipe.hdel(self.deferrals_key, entry.id)
            await pipe.execute()
        return True

    async def _handle_all(self, entries: list[Entry]) -> None:
        lanes: dict[str, list[Entry]] = {}
        for entry in entries:
            lane = self.lane_of(entry) if self.lane_of is not None else ""
            lanes.setdefault(lane, []).append(entry)
        await asyncio.gather(*(self._handle_lane(lane) for lane in lanes.values()))

    async def _note_deferred(self, entries: list[Entry]) -> None:
        with outages_ignored():
            async with self.redis.pipeline(transaction=False) as pipe:
                for entry in entries:
                    pipe.hincrby(self.deferrals_key, entry.id, 1)
                await pipe.execute()

    async def _still_ours(self, entry: Entry) -> Entry | None:
        """Entries wait their turn in a lane. One that waited long enough for another worker
        to take it over (its idle time reached ``claim_idle_ms``) must not be handled by both:
        XCLAIM it again with a minimum idle time only our own delivery can have, which both
        proves no one took it and restarts its idle time for the handling ahead."""
        now = asyncio.get_running_loop().time()
        waited_ms = int((now - entry.received_at) * 1000)
        if waited_ms < self.claim_idle_ms // 10:
            return entry
        kept = await self.redis.xclaim(
            self.stream,
            self.group,
            self.consumer,
            min_idle_time=max(waited_ms - LANE_CLOCK_SLACK_MS, 0),
            message_ids=[entry.id],
            justid=True,
        )
        return dataclasses.replace(entry, received_at=now) if kept else None

    async def _handle_lane(self, entries: list[Entry]) -> None:
        for index, entry in enumerate(entries):
            try:
                kept = await self._still_ours(entry)
                if kept is None:
                    log.info("%s: entry %s was taken over while it waited", self.group, entry.id)
                    continue
                entries[index] = entry = kept
                await self.handler(entry)
            except Deferred as exc:
                log.info("%s: entry %s deferred: %s", self.group, entry.id, exc)
                # What follows in this lane may depend on it; they will be retried with it.
                waiting = [dataclasses.replace(e, claimed=True) for e in entries[index:]]
                log.debug("%s: %d later entries wait too", self.group, len(waiting) - 1)
                await self._note_deferred(waiting)
                retry_at = asyncio.get_running_loop().time() + self.retry_after_s
                self._deferred.append((retry_at, waiting))
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_outage(exc):
                    # Not the entry's fault: it and the lane behind it are tried again first
                    # thing once Redis answers, not counted as failures.
                    self._interrupted = exc
                    waiting = [dataclasses.replace(e, claimed=True) for e in entries[index:]]
                    self._deferred.append((0.0, waiting))
                    return
                log.exception(
                    "%s: entry %s failed; it stays pending and will be retried",
                    self.group,
                    entry.id,
                )
            else:
                if entry.claimed:
                    with outages_ignored():
                        await self.redis.hdel(self.deferrals_key, entry.id)
