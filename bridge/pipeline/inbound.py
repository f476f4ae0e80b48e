"""What a chat delivers is stored before the chat is told it arrived, then handled from there.

Telegram sends an update until the bridge acknowledges it (the webhook's 2xx, or a later
``getUpdates`` whose offset passes it) and never again after. Acknowledged first and handled
after, an update was lost to any Redis failure or crash in between. So an update goes onto the
chat's inbound stream first, and only then is acknowledged: a webhook that cannot store it
answers 503 and Telegram sends it again; long polling moves its offset only past stored updates.

Listeners read the stream as a stage does (:mod:`bridge.pipeline.runner`: a consumer group, lanes by
chat so that each chat's updates are handled in order, a crashed listener's entries taken over
after the claim-idle time). Repeats are dropped where they are consumed: an update counts as
seen once it was handled, not before, so a crash in between has it handled again, and the
platform's redelivery of one already handled is dropped by its id.

Bounded: a handled entry is acknowledged and deleted in one step, so the stream holds only what
waits; at ``INBOUND_LIMIT`` entries it takes no more until it drains, and the chat keeps what it
could not deliver (Telegram keeps an update 24 hours) rather than anything being dropped here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.pipeline.runner import Entry, Handler, StageRunner
from bridge.store.keys import INBOUND_GROUP
from bridge.store.redis_outage import Outage, is_outage
from bridge.store.store import Store

log = logging.getLogger(__name__)

INBOUND_LIMIT = 10_000
# Telegram keeps an unconfirmed update 24 hours: a handled one is remembered for two days.
SEEN_KEEP_S = 2 * 86400

# Append the events in order while the stream has room; returns how many were added (the first
# ones), so that the caller acknowledges only those.
_ADD = """
local added = 0
for i = 2, #ARGV, 3 do
  if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then break end
  redis.call('XADD', KEYS[1], '*', 'event', ARGV[i], 'lane', ARGV[i + 1], 'body', ARGV[i + 2])
  added = added + 1
end
return added
"""


@dataclass(frozen=True)
class InboundEvent:
    """One delivery: ``id`` is the chat's own (Telegram's update_id), by which repeats are
    dropped; events of one ``lane`` (a chat or group) are handled in order; ``body`` is what
    the chat sent (JSON)."""

    id: str
    lane: str
    body: str


class Inbound:
    """The inbound stream of one chat: the one place that appends to it and finishes entries."""

    def __init__(self, store: Store, *, chat: str, limit: int = INBOUND_LIMIT) -> None:
        self.store = store
        self.chat = chat
        self.limit = limit

    @property
    def stream(self) -> str:
        return self.store.keys.inbound_stream(self.chat)

    @functools.cached_property
    def _add(self) -> Any:
        return self.store.redis.register_script(_ADD)

    async def add(self, events: Sequence[InboundEvent]) -> int:
        """Store ``events`` in order, in one step; how many were stored: all of them, or the
        first ones until the stream was full. Raises on a Redis failure (nothing stored)."""
        if not events:
            return 0
        flat = [part for event in events for part in (event.id, event.lane, event.body)]
        return int(await self._add(keys=[self.stream], args=[self.limit, *flat]))

    async def handled_before(self, event_id: str) -> bool:
        return bool(await self.store.redis.exists(self.store.keys.seen_event(self.chat, event_id)))

    async def finish(self, entry: Entry, *, seen: str | None = None) -> None:
        """The entry is handled: ``seen`` (its event id) is remembered, when given, so that a
        redelivery is dropped; the entry is acknowledged and deleted, all in one step."""
        async with self.store.redis.pipeline(transaction=True) as pipe:
            if seen is not None:
                pipe.set(self.store.keys.seen_event(self.chat, seen), "1", ex=SEEN_KEEP_S)
            pipe.xack(self.stream, INBOUND_GROUP, entry.id)
            pipe.xdel(self.stream, entry.id)
            await pipe.execute()

    def runner(self, *, consumer: str, handler: Handler, claim_idle_ms: int) -> StageRunner:
        return StageRunner(
            self.store.redis,
            stream=self.stream,
            group=INBOUND_GROUP,
            consumer=consumer,
            handler=handler,
            lane_of=lambda entry: entry.fields.get("lane", ""),
            claim_idle_ms=claim_idle_ms,
        )

    async def consume(self, runner: StageRunner, stop: asyncio.Event) -> None:
        """Run ``runner`` until ``stop``; Redis unreachable when it starts is waited out, like
        every role waits out a Redis restart."""
        outage = Outage(f"{self.chat} updates")
        try:
            while not stop.is_set():
                try:
                    await runner.run(stop)
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    await outage.wait(exc, stop)
                    continue
                outage.over()
        finally:
            outage.over(got_through=False)
