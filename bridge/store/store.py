"""All reads and writes of Reachable's state in Redis go through :class:`Store`.

The client is created one way only (:func:`bridge.store.redisconn.connect`: RESP2, decoded strings),
so every stream reply has the same shape everywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from bridge.domain.models import Mention, MirrorRef, Thread
from bridge.errors import PlatformError, RateLimited
from bridge.store import mentions as mentions_stream
from bridge.store.actions import Actions
from bridge.store.bursts import ARRIVAL_WINDOW_MS, TAKE_FOLDED, FoldedMention
from bridge.store.effects import Effect, effect_from
from bridge.store.joining import JOIN_THREAD, JoinResult, RouteQueue
from bridge.store.keys import Keys
from bridge.store.mirroring import (
    BEGIN_MIRROR,
    PUSH_BACK,
    RECORD_MIRROR,
    RESERVE_SLOT,
    MirrorInputs,
    SlotRequest,
    flat,
    pairs,
)
from bridge.store.outbox import Outbox
from bridge.store.redisconn import RoundTrips as RoundTrips
from bridge.store.redisconn import connect as connect
from bridge.store.retention import (
    APPLY_LIFETIME,
    DEFAULT_LIFETIMES,
    INDEX_MESSAGE,
    Lifetimes,
    thread_expiry_ms,
)
from bridge.store.thread_hash import thread_fields, thread_from

DIGEST_KEEP_S = 7 * 86400
SETTLE_TRIES = 10

_RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def now_ms() -> int:
    return int(time.time() * 1000)


class Store:
    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        *,
        lifetimes: Callable[[], Lifetimes] = lambda: DEFAULT_LIFETIMES,
    ) -> None:
        """``lifetimes``: the retention periods in force (they follow config reloads)."""
        self.redis = redis
        self.keys = keys
        self.lifetimes = lifetimes
        # The streams' writers (see each module): every entry is added through them.
        self.outbox = Outbox(redis, keys)
        self.actions = Actions(redis, keys)
        self._join_thread = redis.register_script(JOIN_THREAD)
        self._renew_lease = redis.register_script(_RENEW_LEASE)
        self._release_lease = redis.register_script(_RELEASE_LEASE)
        self._reserve_slot = redis.register_script(RESERVE_SLOT)
        self._begin_mirror = redis.register_script(BEGIN_MIRROR)
        self._push_back = redis.register_script(PUSH_BACK)
        self._record_mirror = redis.register_script(RECORD_MIRROR)
        self._take_folded = redis.register_script(TAKE_FOLDED)
        self._apply_lifetime = redis.register_script(APPLY_LIFETIME)
        self._index_message = redis.register_script(INDEX_MESSAGE)

    async def _hgetall(self, key: str) -> dict[str, str]:
        """The client decodes responses, so the hash is all str (redis-py types it wider)."""
        return cast(dict[str, str], await self.redis.hgetall(key))

    # -- polling ---------------------------------------------------------------------------------

    async def acquire_lease(self, key: str, owner: str, ttl_ms: int) -> bool:
        if await self.redis.set(key, owner, nx=True, px=ttl_ms):
            return True
        return bool(await self._renew_lease(keys=[key], args=[owner, ttl_ms]))

    async def release_lease(self, key: str, owner: str) -> None:
        await self._release_lease(keys=[key], args=[owner])

    async def cursor(self, network: str, account: str) -> str | None:
        value = await self.redis.get(self.keys.cursor(network, account))
        return str(value) if value is not None else None

    async def append_mentions(
        self, mentions: list[Mention], *, network: str, account: str, cursor: str | None
    ) -> None:
        """Put mentions (oldest first) on the mentions stream, then move the cursor.

        Two steps on purpose: if the process dies between them, the next poll adds the same
        mentions again and the router skips them, whereas a cursor moved first would lose them.
        """
        if mentions:
            async with self.redis.pipeline(transaction=False) as pipe:
                for mention in mentions:
                    mentions_stream.queue(pipe, self.keys, mention)
                await pipe.execute()
        if cursor is not None:
            await self.redis.set(self.keys.cursor(network, account), cursor)

    async def platform_user_id(self, network: str, account: str) -> str | None:
        value = await self.redis.get(self.keys.platform_user_id(network, account))
        return str(value) if value is not None else None

    async def remember_platform_user_id(self, network: str, account: str, user_id: str) -> None:
        await self.redis.set(self.keys.platform_user_id(network, account), user_id)

    # -- threads ---------------------------------------------------------------------------------

    async def join_thread(
        self,
        mention: Mention,
        *,
        thread: Thread,
        destinations: list[str],
        routing_effect: str | None = None,
        queue: RouteQueue | None = None,
    ) -> JoinResult:
        fields = thread_fields(thread)
        keys = [
            self.keys.thread(thread.id),
            self.keys.thread_mentions(thread.id),
            self.keys.thread_roots(thread.id),
            self.keys.open_threads,
            self.keys.threads_by_time,
            self.keys.effect(routing_effect or ""),
            self.keys.thread_mirrors(thread.id),
            self.keys.thread_shown(thread.id),
        ]
        args: list[str | int] = [
            mention.id,
            mention.model_dump_json(),
            json.dumps(fields),
            json.dumps(destinations),
            int(thread.created_at.timestamp() * 1000),
            repr(thread.created_at.timestamp()),
        ]
        if queue is not None:
            keys += [
                self.keys.outbox_stream,
                self.keys.mentions_stream,
                self.keys.timers,
                self.keys.counter("routed"),
                *(self.keys.arrivals(destination) for destination in destinations),
            ]
            before_round, after_round, due_ms = queue.escalate or ("", "", 0)
            args += [
                "1",
                queue.queued_at_ms,
                ARRIVAL_WINDOW_MS,
                before_round,
                due_ms,
                queue.group,
                queue.entry_id,
                self.lifetimes().effects_ms,
                after_round,
            ]
        raw = await self._join_thread(keys=keys, args=args)
        if int(raw[0]) == -1:
            return JoinResult(
                created=False, joined=False, reopened=False, roots={}, routed_before=True
            )
        return JoinResult(
            created=bool(int(raw[0])),
            joined=bool(int(raw[1])),
            reopened=bool(int(raw[2])),
            queued=bool(int(raw[3])),
            roots=dict(zip(destinations, (str(r) for r in raw[4:]), strict=True)),
        )

    async def thread(self, thread_id: str) -> Thread | None:
        return thread_from(await self._hgetall(self.keys.thread(thread_id)))

    async def begin_mirror(
        self,
        *,
        effect_key: str,
        thread_id: str,
        mention_id: str,
        destination: str,
        queued_ms: int,
        slot: SlotRequest | None = None,
    ) -> MirrorInputs:
        """What the mirror stage reads before posting a mention, and in the usual case its
        send slot (see ``_BEGIN_MIRROR``), in one round trip. ``queued_ms``: when the mention
        was queued for the destination; arrivals are counted in the minute up to then."""
        request = slot or SlotRequest(chat="", channel="", interval_s=0, max_wait_s=0)
        raw = await self._begin_mirror(
            keys=[
                self.keys.effect(effect_key),
                self.keys.thread(thread_id),
                self.keys.thread_mentions(thread_id),
                self.keys.thread_mirrors(thread_id),
                self.keys.arrivals(destination),
                self.keys.send_pace(request.chat, request.channel),
                self.keys.send_pace(request.chat, "*"),
            ],
            args=[
                mention_id,
                destination,
                queued_ms,
                ARRIVAL_WINDOW_MS,
                1 if slot is not None else 0,
                request.fold_above if request.fold_above is not None else -1,
                1 if request.is_root else 0,
                now_ms(),
                int(request.interval_s * 1000),
                int(max(request.max_wait_s, 0) * 1000),
                int(request.overall_interval_s * 1000),
                f"{thread_id}:{mention_id}",
                self.lifetimes().unfinished_effects_ms,
            ],
        )
        effect, thread, mention, mirror, arrivals, wait_ms = raw
        return MirrorInputs(
            effect=effect_from(pairs(effect)),
            thread=thread_from(pairs(thread)),
            mention=Mention.model_validate_json(mention) if mention else None,
            mirror=MirrorRef.model_validate_json(mirror) if mirror else None,
            recent_arrivals=int(arrivals or 0),
            slot_wait_s=int(wait_ms) / 1000 if wait_ms is not None else None,
        )

    async def mirror_destinations(self, thread_id: str) -> list[str]:
        return [str(d) for d in await self.redis.hkeys(self.keys.thread_mirrors(thread_id))]

    async def root_mention(self, thread_id: str, destination: str) -> str | None:
        value = await self.redis.hget(self.keys.thread_roots(thread_id), destination)
        return str(value) if value is not None else None

    async def shown_in(self, chat: str, channel: str, message_id: str) -> tuple[str, str] | None:
        """(thread id, mention id) a chat message mirrors, if it mirrors one."""
        found = await self._hgetall(self.keys.mirror_message(chat, channel, message_id))
        return (found["thread"], found["mention"]) if found else None

    async def remember_shown_in(
        self, chat: str, channel: str, message_id: str, *, thread_id: str, mention_id: str
    ) -> None:
        """A chat message (a question, a prompt) leads back to the thread's mention for as
        long as the thread is kept."""
        await self._index_message(
            keys=[
                self.keys.mirror_message(chat, channel, message_id),
                self.keys.thread(thread_id),
                self.keys.thread_shown(thread_id),
            ],
            args=[thread_id, mention_id, self.lifetimes().effects_ms],
        )

    async def settle_lifetime(self, thread_id: str) -> None:
        """Give every key of the thread, its chat messages' index included, the lifetime its
        state calls for (see :mod:`bridge.store.retention`); read again if it changes meanwhile (a
        thread that keeps changing is left to the upkeep's next pass)."""
        keys = self.keys.thread_keys(thread_id)
        for _ in range(SETTLE_TRIES):
            thread = await self.thread(thread_id)
            if thread is None:
                return
            shown = sorted(
                str(k) for k in await self.redis.smembers(self.keys.thread_shown(thread_id))
            )
            expire_at = thread_expiry_ms(thread, self.lifetimes()) or 0
            applied = await self._apply_lifetime(
                keys=[*keys, *shown], args=[str(thread.version), expire_at]
            )
            if applied:
                return

    async def save_draft(self, draft_id: str, fields: dict[str, str], *, ttl_s: int) -> None:
        key = self.keys.draft(draft_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            mapping: dict[Any, Any] = dict(fields)
            pipe.hset(key, mapping=mapping)
            pipe.expire(key, ttl_s)
            await pipe.execute()

    async def draft(self, draft_id: str) -> dict[str, str]:
        return await self._hgetall(self.keys.draft(draft_id))

    async def take_draft(self, draft_id: str) -> bool:
        """Remove the draft; True only for the one caller that removed it."""
        return bool(await self.redis.delete(self.keys.draft(draft_id)))

    async def thread_mention(self, thread_id: str, mention_id: str) -> Mention | None:
        raw = await self.redis.hget(self.keys.thread_mentions(thread_id), mention_id)
        return Mention.model_validate_json(raw) if raw else None

    async def thread_mentions(self, thread_id: str) -> list[Mention]:
        raw = await self.redis.hgetall(self.keys.thread_mentions(thread_id))
        return sorted(
            (Mention.model_validate_json(v) for v in raw.values()), key=lambda m: (len(m.id), m.id)
        )

    async def mirror(self, thread_id: str, destination: str) -> MirrorRef | None:
        raw = await self.redis.hget(self.keys.thread_mirrors(thread_id), destination)
        return MirrorRef.model_validate_json(raw) if raw else None

    async def thread_ids(self, *, since: datetime | None = None) -> list[str]:
        low = since.timestamp() if since else "-inf"
        return [
            str(t) for t in await self.redis.zrangebyscore(self.keys.threads_by_time, low, "+inf")
        ]

    # -- effects ---------------------------------------------------------------------------------

    async def effect(self, effect_key: str) -> Effect | None:
        return effect_from(await self._hgetall(self.keys.effect(effect_key)))

    async def record_mirror(
        self,
        *,
        effect_key: str,
        ref: MirrorRef,
        thread_id: str,
        mention_id: str,
        destination: str,
        shown_version: int,
        is_root: bool,
        group: str,
        entry_id: str,
        parts: Mapping[int, str] | None = None,
    ) -> None:
        """The mention is posted as ``ref``: its effect is done (with ``parts``, the message
        ids of its later steps not recorded yet), the message leads back to the thread, the outbox
        entry is acknowledged; and a first message that shows an older version of the thread
        than the current one is queued for a redraw."""
        keys = self.keys
        await self._record_mirror(
            keys=[
                keys.thread(thread_id),
                keys.effect(effect_key),
                keys.thread_mirrors(thread_id),
                keys.mirror_message(ref.chat, ref.channel, ref.message_id),
                keys.outbox_stream,
                keys.counter("mirrored"),
                keys.thread_shown(thread_id),
            ],
            args=[
                1 if is_root else 0,
                shown_version,
                destination,
                ref.model_dump_json(),
                thread_id,
                mention_id,
                now_ms(),
                self.lifetimes().effects_ms,
                group,
                entry_id,
                *flat(parts),
            ],
        )

    async def mark_doing(self, effect_key: str) -> int:
        key = self.keys.effect(effect_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "attempt", 1)
            pipe.hset(key, mapping={"state": "doing", "at": now_ms()})
            pipe.pexpire(key, self.lifetimes().unfinished_effects_ms)
            attempt, _, _ = await pipe.execute()
        return int(attempt)

    def finish_effect(
        self, pipe: Pipeline, effect_key: str, mapping: Mapping[str, str | int]
    ) -> None:
        """Queue on ``pipe`` the record of a finished effect (``state`` done or failed), kept
        for the effects' retention from now: longer than any entry could come back to it."""
        key = self.keys.effect(effect_key)
        fields: dict[Any, Any] = dict(mapping)
        pipe.hset(key, mapping=fields)
        pipe.pexpire(key, self.lifetimes().effects_ms)

    # -- pacing ----------------------------------------------------------------------------------

    async def reserve_send_slot(
        self,
        chat: str,
        channel: str,
        interval_s: float,
        *,
        overall_interval_s: float = 0.0,
        max_wait_s: float | None = None,
        doing: str | None = None,
        parts: Mapping[int, str] | None = None,
    ) -> float:
        """Seconds to wait before this process may send to the channel, under its pace and the
        bot's overall pace (slots now reserved), marking the effect ``doing`` as it goes. Past
        ``max_wait_s`` nothing is reserved or marked and the wait comes back negative.
        ``parts``: messages of the effect ``doing`` posted since its last slot (step -> message
        id), recorded in the same round trip either way."""
        if parts and not doing:
            raise ValueError("parts are recorded under the effect named by doing")
        max_wait_ms = -1 if max_wait_s is None else int(max(max_wait_s, 0) * 1000)
        wait_ms = await self._reserve_slot(
            keys=[
                self.keys.send_pace(chat, channel),
                self.keys.send_pace(chat, "*"),
                self.keys.effect(doing or ""),
            ],
            args=[
                now_ms(),
                int(interval_s * 1000),
                max_wait_ms,
                int(overall_interval_s * 1000),
                1 if doing else 0,
                self.lifetimes().unfinished_effects_ms,
                *flat(parts),
            ],
        )
        return int(wait_ms) / 1000

    async def push_back_channel(self, chat: str, channel: str, seconds: float) -> None:
        """The platform said "retry after": no process sends to this channel before then."""
        until = now_ms() + int(seconds * 1000)
        await self._push_back(
            keys=[self.keys.send_pace(chat, channel)], args=[until, int(seconds * 1000) + 60000]
        )

    # -- chat events -----------------------------------------------------------------------------

    async def first_sighting(self, chat: str, event_id: str, *, keep_s: int = 86400 * 2) -> bool:
        """True the first time an event id is seen; platforms redeliver, we act once."""
        return bool(
            await self.redis.set(self.keys.seen_event(chat, event_id), "1", nx=True, ex=keep_s)
        )

    async def first_interaction(self, chat: str, identity: str, *, keep_s: int) -> bool:
        """True the first time a person's action (a button press, a form, a command) is seen
        under ``identity``; a replay or a retry of it within ``keep_s`` is False."""
        key = self.keys.seen_interaction(chat, identity)
        return bool(await self.redis.set(key, "1", nx=True, ex=keep_s))

    async def forget_interaction(self, chat: str, identity: str) -> None:
        """The action was seen but its handling was cut short: the next sighting acts on it."""
        await self.redis.delete(self.keys.seen_interaction(chat, identity))

    async def forget_sighting(self, chat: str, event_id: str) -> None:
        """The event was seen but its handling was cut short: the next sighting acts on it."""
        await self.redis.delete(self.keys.seen_event(chat, event_id))

    # -- bursts ----------------------------------------------------------------------------------

    async def take_folded(
        self, destination: str, window: str, *, limit: int
    ) -> list[FoldedMention]:
        """The folded mentions the digest of ``window`` shows: taken off the folded list once,
        so a retried digest shows the same ones and no other digest shows them again."""
        raw = await self._take_folded(
            keys=[self.keys.folded(destination), self.keys.digest(destination, window)],
            args=[limit, DIGEST_KEEP_S],
        )
        return [FoldedMention.from_json(item) for item in raw]

    async def fold(
        self,
        folded: FoldedMention,
        *,
        destination: str,
        timer: tuple[str, int],
        effect_key: str,
        handled: tuple[str, str, str],
    ) -> None:
        """Put a mention on the destination's folded list, time its digest (``timer``: name and
        window; every fold in a window names the same one), finish its mirror effect as folded
        and acknowledge the outbox entry (``handled``: stream, group, entry id), together."""
        keys = self.keys
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(keys.folded(destination), folded.to_json())
            # Digests empty the list; should they stop (the destination left the config), it
            # goes in time.
            pipe.expire(keys.folded(destination), DIGEST_KEEP_S)
            pipe.zadd(keys.timers, {timer[0]: timer[1]}, nx=True)
            self.finish_effect(
                pipe, effect_key, {"state": "done", "at": now_ms(), "result": "folded"}
            )
            pipe.hincrby(keys.thread(folded.thread), "folded", 1)
            pipe.xack(*handled)
            pipe.incrby(keys.counter("folded"), 1)
            await pipe.execute()

    async def count(self, name: str, amount: int = 1) -> None:
        await self.redis.incrby(self.keys.counter(name), amount)

    async def count_failure(self, exc: PlatformError) -> None:
        """A failed platform call, for the metrics: rate limited or an error, by platform."""
        kind = "ratelimited" if isinstance(exc, RateLimited) else "errors"
        await self.count(f"{kind}:{exc.platform}")


def utcnow() -> datetime:
    return datetime.now(UTC)
