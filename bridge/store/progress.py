"""A mirrored mention posted step by step: one send slot and one record per chat message.

A chat may show one mention as several messages (one that limits a message's length cuts a long
post into parts); the core does not need to know which or why. Sent back to back in one slot,
those messages broke the destination's pace (a group's limit answered the third with 429), and a
retry posted them all again. Here each message waits for its own slot of the destination's
shared pace, and each one's id is recorded under the mirror's effect before the next goes out,
so a retry continues with the first message not yet posted. A message whose send a crash cut
off (sent, not yet recorded) may go out once more where the chat offers no way to find it.

Recording costs no round trip of its own: a message's id travels with the next slot's
reservation, or with the mirror's own record after the last one. A mention shown in one message
therefore takes the same round trips as before: the read that reserves its slot, and the record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from bridge.errors import Deferred
from bridge.store.redis_outage import through_outages
from bridge.store.store import Store

# How long a posted message's record is retried through a Redis outage (Sentinel fails over in
# well under this).
RECORD_PATIENCE_S = 120.0

Result = TypeVar("Result")


async def record_once_posted(
    record: Callable[[], Awaitable[Result]], *, role: str = "mirror record"
) -> Result:
    """A message is out: keep trying to record it through a Redis outage (a restart, a
    failover) rather than leave the entry to be posted again; a chat with no way to find a
    message again would show it twice. Giving up early never helps: while Redis is down no
    other worker can take the entry over either, and once it is back this worker records
    within a fraction of a second, before the others look again. A record written again after
    its answer was lost (the connection dropped after the write) changes nothing but, at most,
    a metric."""
    return await through_outages(record, role=role, patience_s=RECORD_PATIENCE_S)


async def wait_for_reserved(channel: str, wait: float, deadline: float) -> None:
    """Wait ``wait`` s for a reserved slot; Deferred when none was reserved (negative) or
    it comes after ``deadline``."""
    if wait < 0 or asyncio.get_running_loop().time() + wait > deadline:
        raise Deferred(f"{channel} cannot take a message for {abs(wait):.0f} s")
    if wait > 0:
        await asyncio.sleep(wait)


class MirrorProgress:
    """One handling's way through the messages of a mirror (the sink's ``PostProgress``).

    ``posted``: the steps earlier attempts recorded. ``reserved_wait_s``: a slot already
    reserved with the mirror's first read, used by the first turn. ``deadline`` (event loop
    time): a slot later than this defers the entry rather than hold it.
    """

    def __init__(
        self,
        store: Store,
        *,
        effect_key: str,
        chat: str,
        channel: str,
        interval_s: float,
        overall_interval_s: float,
        deadline: float,
        posted: Mapping[int, str],
        reserved_wait_s: float | None = None,
    ) -> None:
        self._store = store
        self._effect_key = effect_key
        self._chat = chat
        self._channel = channel
        self._interval_s = interval_s
        self._overall_interval_s = overall_interval_s
        self.deadline = deadline
        self._posted = dict(posted)
        self._unsaved: dict[int, str] = {}
        self._reserved = reserved_wait_s

    def posted(self, step: int) -> str | None:
        return self._posted.get(step)

    def record(self, step: int, message_id: str) -> None:
        self._posted[step] = message_id
        self._unsaved[step] = message_id

    def take_unsaved(self) -> dict[int, str]:
        """The steps recorded here but not yet in Redis, for the mirror's own record."""
        unsaved, self._unsaved = self._unsaved, {}
        return unsaved

    async def turn(self) -> None:
        reserved, self._reserved = self._reserved, None
        wait = reserved if reserved is not None and not self._unsaved else await self._reserve()
        await wait_for_reserved(self._channel, wait, self.deadline)

    async def _reserve(self) -> float:
        """The next slot, marking the effect doing; the steps posted since the last one are
        recorded in the same round trip, and kept trying through a Redis outage."""
        unsaved = self.take_unsaved()
        loop = asyncio.get_running_loop()

        def reserve() -> Awaitable[float]:
            return self._store.reserve_send_slot(
                self._chat,
                self._channel,
                self._interval_s,
                overall_interval_s=self._overall_interval_s,
                max_wait_s=self.deadline - loop.time(),
                doing=self._effect_key,
                parts=unsaved,
            )

        return await (record_once_posted(reserve) if unsaved else reserve())
