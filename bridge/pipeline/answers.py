"""The bot's answers in chat: queued per channel in Redis, sent in order, in the channel's pace.

A command's answer, a reply preview, the "why dismiss" question and the edits that follow a
button spend the same limit as the mentions the mirror stage posts to that chat (Telegram: 20
messages a minute in a group, one a second in a private chat). Sent the moment they were
decided, a busy group's answers met the platform's flood control and were lost. Here each
answer waits in a list in Redis for its turn in the channel's shared pace, the one the mirror
stage reserves from (:meth:`Store.reserve_send_slot`), and a rate limit is waited out and the
answer sent, however long the platform asks.

Nobody who listens waits for that: a handler queues its answers and returns, and each channel's
answers are sent by a task of their own. One process at a time sends a channel's answers (a
lease in Redis), so they go out in the order they were queued, whichever process queued them;
the channels of a process that died are taken over once its lease runs out (``LEASE_MS``).
Nothing queued is lost to a crash; an answer that a crash cut off between its sending and its
record is sent once more (Telegram offers no way to find it).

Bounded: at most ``ANSWERS_LIMIT`` answers wait per channel (one so far behind has a problem no
answer fixes: more are refused, and logged), and a list is gone a day after its last answer was
queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bridge.domain.platform_time import REAL_TIME, PlatformTime
from bridge.errors import PermanentError, RateLimited, TransientError
from bridge.store.progress import record_once_posted
from bridge.store.redis_outage import Outage, is_outage
from bridge.store.store import Store

log = logging.getLogger(__name__)

ANSWERS_LIMIT = 1000
ANSWERS_KEEP_S = 86400
LEASE_MS = 10_000
# How often each sending process looks for channels with answers it did not queue itself.
SCAN_S = 2.0
TRANSIENT_BACKOFF_MAX_S = 30.0
CLOSE_GRACE_S = 5.0

_PUT = """
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""

# The first answer (ARGV[1], as queued) is out: off the list.
_SENT = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
return 1
"""

# Nothing left to send: the channel leaves the waiting set, and its lease is let go.
_DRAINED = """
if redis.call('LLEN', KEYS[1]) > 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
return 1
"""


@dataclass(frozen=True)
class Pace:
    """Where an answer takes its turn: the channel of the shared pace (a destination's address,
    as the mirror stage paces it), and the seconds between two messages there and between any
    two of the bot."""

    channel: str
    interval_s: float
    overall_interval_s: float


@dataclass(frozen=True)
class Sent:
    """The message an answer became (an edit becomes none)."""

    channel: str
    message_id: str


SendAnswer = Callable[[dict[str, Any]], Awaitable[Sent | None]]
PaceOf = Callable[[str], Awaitable[Pace]]


class LeaseLost(Exception):
    """Another process took this channel's answers over while this one waited its turn."""


class AnswerQueue:
    """The answers of one chat platform. ``send`` makes the one platform call of an answer
    (raising the core's :class:`PlatformError` kinds); ``pace_of`` says where a channel's
    answers take their turn."""

    def __init__(
        self,
        store: Store,
        *,
        chat: str,
        send: SendAnswer,
        pace_of: PaceOf,
        owner: str,
        limit: int = ANSWERS_LIMIT,
        platform_time: PlatformTime = REAL_TIME,
    ) -> None:
        self.store = store
        self.chat = chat
        self.owner = owner
        self.limit = limit
        # The platform's stated waits, on an emulator's faster clock where there is one.
        self.platform_time = platform_time
        self._send = send
        self._pace_of = pace_of
        self._drains: dict[str, asyncio.Task[None]] = {}
        # Channels given an answer while their sender was finishing: it looks once more.
        self._again: set[str] = set()
        self._running = False
        self._closing = False

    @functools.cached_property
    def _put(self) -> Any:
        return self.store.redis.register_script(_PUT)

    @functools.cached_property
    def _sent(self) -> Any:
        return self.store.redis.register_script(_SENT)

    @functools.cached_property
    def _drained(self) -> Any:
        return self.store.redis.register_script(_DRAINED)

    async def put(
        self, channel: str, answer: dict[str, Any], *, shows: tuple[str, str] | None = None
    ) -> bool:
        """Queue ``answer`` (what ``send`` needs, JSON-ready) for ``channel``. ``shows``: the
        thread and mention the message will show (a question staff answer by replying to it).
        False, and logged, when ``limit`` answers wait there already."""
        keys = self.store.keys
        queued = json.dumps(
            {"id": uuid.uuid4().hex, "answer": answer, "shows": list(shows) if shows else None}
        )
        added = await self._put(
            keys=[keys.answers(self.chat, channel), keys.answers_waiting(self.chat)],
            args=[self.limit, ANSWERS_KEEP_S, queued, channel],
        )
        if not added:
            log.error(
                "%s %s: %d answers wait already; refused one more", self.chat, channel, self.limit
            )
            return False
        if self._running:
            self._start(channel)
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Send answers until ``stop``: those queued by this process at once, the others (queued
        by a process that does not send, or whose sender died) within ``SCAN_S``."""
        self._running, self._closing = True, False
        outage = Outage(f"{self.chat} answers")
        try:
            while not stop.is_set():
                try:
                    waiting = await self.store.redis.smembers(
                        self.store.keys.answers_waiting(self.chat)
                    )
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    await outage.wait(exc, stop)
                    continue
                outage.over()
                for channel in waiting:
                    self._start(str(channel))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=SCAN_S)
        finally:
            outage.over(got_through=False)
            self._running = False
            await self.stop_sending()

    async def stop_sending(self) -> None:
        """Stop sending: an answer under way gets a few seconds to go out; the rest stay
        queued for whichever process sends next."""
        self._closing = True
        busy = [task for task in self._drains.values() if not task.done()]
        if busy:
            _, late = await asyncio.wait(busy, timeout=CLOSE_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*busy, return_exceptions=True)
        self._drains.clear()

    def _start(self, channel: str) -> None:
        task = self._drains.get(channel)
        if task is not None and not task.done():
            self._again.add(channel)
            return
        self._drains[channel] = asyncio.create_task(
            self._drain(channel), name=f"answers-{self.chat}-{channel}"
        )

    async def _drain(self, channel: str) -> None:
        """Send the channel's answers, first queued first, while holding its lease."""
        keys = self.store.keys
        lease = keys.answers_lease(self.chat, channel)
        listed = keys.answers(self.chat, channel)
        try:
            while not self._closing:
                if not await self.store.acquire_lease(lease, self.owner, LEASE_MS):
                    return  # another process sends them
                raw = await self.store.redis.lindex(listed, 0)
                if raw is not None:
                    await self._send_first(channel, lease, str(raw))
                    continue
                drained = await self._drained(
                    keys=[listed, keys.answers_waiting(self.chat), lease],
                    args=[channel, self.owner],
                )
                if drained and channel not in self._again:
                    return
                self._again.discard(channel)
        except LeaseLost:
            log.info("%s %s: answers taken over by another process", self.chat, channel)
        except Exception as exc:
            if not is_outage(exc):
                raise
            # The scan starts the channel again once Redis answers (and says so, once).
            log.debug("%s %s: answers wait, Redis unavailable (%s)", self.chat, channel, exc)

    async def _send_first(self, channel: str, lease: str, raw: str) -> None:
        try:
            queued = json.loads(raw)
            answer, shows = queued["answer"], queued.get("shows")
        except (ValueError, KeyError, TypeError):
            log.error("%s %s: dropped an unreadable answer", self.chat, channel)
            answer, shows = None, None
        sent = None if answer is None else await self._send_in_turn(channel, lease, answer)
        await record_once_posted(functools.partial(self._record, channel, raw, sent, shows))

    async def _record(
        self, channel: str, raw: str, sent: Sent | None, shows: list[str] | None
    ) -> None:
        if sent is not None and shows:
            # A reply to this answer (a prompt, a preview) leads back to the thread's mention.
            await self.store.remember_shown_in(
                self.chat,
                sent.channel,
                sent.message_id,
                thread_id=str(shows[0]),
                mention_id=str(shows[1]),
            )
        await self._sent(keys=[self.store.keys.answers(self.chat, channel)], args=[raw])

    async def _send_in_turn(self, channel: str, lease: str, answer: dict[str, Any]) -> Sent | None:
        """Send ``answer`` in its turn of the pace: a rate limit pushes the pace back for every
        sender and the answer waits its next turn; a passing failure is tried again (backing
        off, keeping the lease); a permanent one, or a bug, is logged and the answer dropped."""
        pace = await self._pace_of(channel)
        failures = 0
        while True:
            wait = await self.store.reserve_send_slot(
                self.chat,
                pace.channel,
                pace.interval_s,
                overall_interval_s=pace.overall_interval_s,
            )
            await self._hold(lease, wait)
            try:
                return await self._send(answer)
            except RateLimited as exc:
                await self.store.count_failure(exc)
                wait = self.platform_time.seconds(exc.retry_after)
                await self.store.push_back_channel(self.chat, pace.channel, wait)
                log.warning(
                    "%s asked us to wait %.1f s before answering in %s", self.chat, wait, channel
                )
            except TransientError as exc:
                await self.store.count_failure(exc)
                failures += 1
                log.warning("answering in %s failed (attempt %d): %s", channel, failures, exc)
                await self._hold(lease, min(2.0**failures, TRANSIENT_BACKOFF_MAX_S))
            except PermanentError as exc:
                await self.store.count_failure(exc)
                log.warning("could not answer in %s %s: %s", self.chat, channel, exc)
                return None
            except Exception as exc:
                if is_outage(exc):
                    raise
                # A bug, not the platform: the answer must not block its chat's others forever.
                log.exception(
                    "could not answer in %s %s; the answer is dropped", self.chat, channel
                )
                return None

    async def _hold(self, lease: str, seconds: float) -> None:
        """Wait ``seconds`` while keeping the channel's lease; LeaseLost if it was lost."""
        loop = asyncio.get_running_loop()
        until = loop.time() + max(seconds, 0.0)
        while True:
            if not await self.store.acquire_lease(lease, self.owner, LEASE_MS):
                raise LeaseLost(lease)
            left = until - loop.time()
            if left <= 0:
                return
            await asyncio.sleep(min(left, LEASE_MS / 3000))
