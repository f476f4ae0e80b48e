"""All reads and writes of Reachable's state in Redis go through :class:`Store`.

The client is created one way only (:func:`bridge.store.redisconn.connect`: RESP2, decoded strings),
so every stream reply has the same shape everywhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from bridge.domain.bursts import ARRIVAL_WINDOW_MS, TAKE_FOLDED, FoldedMention
from bridge.domain.models import Mention, MirrorRef, Thread, ThreadStatus
from bridge.errors import PlatformError, RateLimited
from bridge.store.keys import Keys
from bridge.store.redisconn import RoundTrips as RoundTrips
from bridge.store.redisconn import connect as connect
from bridge.store.retention import (
    APPLY_LIFETIME,
    DEFAULT_LIFETIMES,
    FOLLOW_THREAD,
    INDEX_MESSAGE,
    Lifetimes,
    thread_expiry_ms,
)

EffectState = Literal["pending", "doing", "done", "failed"]
DIGEST_KEEP_S = 7 * 86400
SETTLE_TRIES = 10

# Join a mention to its thread, creating or reopening the thread, in one step. Returns {created,
# joined (0 when the mention was already there), reopened (an answered or dismissed thread got a
# new mention), root mention id per destination}; or {-1} when the routing effect KEYS[6] is
# already done (the poller appended the mention twice) and nothing was changed. A reopened
# thread's keys (KEYS[1..3, 7, 8]: one slot) stop expiring; its chat messages' index follows
# (``Store.settle_lifetime``).
_JOIN_THREAD = """
local thread, mentions, roots, open_threads = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local by_time, routed = KEYS[5], KEYS[6]
if redis.call('HGET', routed, 'state') == 'done' then return {-1} end
local mention_id, mention_json = ARGV[1], ARGV[2]
local fields = cjson.decode(ARGV[3])
local destinations = cjson.decode(ARGV[4])
local created, joined, reopened = 0, 1, 0
if redis.call('HEXISTS', mentions, mention_id) == 1 then
  joined = 0
else
  redis.call('HSET', mentions, mention_id, mention_json)
  if redis.call('EXISTS', thread) == 0 then
    local flat = {'status', 'open', 'mention_count', 1}
    for k, v in pairs(fields) do table.insert(flat, k); table.insert(flat, v) end
    redis.call('HSET', thread, unpack(flat))
    redis.call('ZADD', open_threads, ARGV[5], fields['id'])
    redis.call('ZADD', by_time, ARGV[6], fields['id'])
    created = 1
  else
    redis.call('HINCRBY', thread, 'mention_count', 1)
    local status = redis.call('HGET', thread, 'status')
    if status == 'answered' or status == 'dismissed' then
      redis.call('HSET', thread, 'status', 'open', 'status_by', '', 'status_note', '')
      redis.call('HINCRBY', thread, 'version', 1)
      redis.call('ZADD', open_threads, ARGV[5], fields['id'])
      for _, key in ipairs({thread, mentions, roots, KEYS[7], KEYS[8]}) do
        redis.call('PERSIST', key)
      end
      reopened = 1
    end
  end
end
local queued = 0
local result = {created, joined, reopened, queued}
for _, destination in ipairs(destinations) do
  redis.call('HSETNX', roots, destination, mention_id)
  table.insert(result, redis.call('HGET', roots, destination))
end
-- Routed in the same step (ARGV[7] is '1'): its outbox entries, its new thread's escalation
-- timer, the destinations' arrivals, the routing effect and the mentions stream's ack. Not for
-- a reopened thread: its new SLA round needs the caller.
if ARGV[7] == '1' and reopened == 0 then
  local outbox, mentions_stream, timers, counter = KEYS[9], KEYS[10], KEYS[11], KEYS[12]
  local queued_at, window = tonumber(ARGV[8]), tonumber(ARGV[9])
  if created == 1 and ARGV[10] ~= '' then redis.call('ZADD', timers, ARGV[11], ARGV[10]) end
  for i, destination in ipairs(destinations) do
    local arrivals = KEYS[12 + i]
    redis.call('ZADD', arrivals, queued_at, fields['id'] .. ':' .. mention_id)
    redis.call('ZREMRANGEBYSCORE', arrivals, '-inf', queued_at - window)
    redis.call('PEXPIRE', arrivals, 2 * window)
    redis.call('XADD', outbox, '*', 'thread_id', fields['id'], 'mention_id', mention_id,
      'destination', destination, 'root', result[4 + i])
  end
  redis.call('HSET', routed, 'state', 'done', 'at', queued_at,
    'result', table.concat(destinations, ','))
  redis.call('PEXPIRE', routed, ARGV[14])
  redis.call('XACK', mentions_stream, ARGV[12], ARGV[13])
  redis.call('INCRBY', counter, 1)
  result[4] = 1
end
return result
"""

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

# The next free send slot of a channel, reserved only if it comes within max_wait: a sender
# that will not wait that long must not hold a slot nobody uses (under a backlog, senders that
# give up would otherwise push the channel's next slot ever later, and nothing would be sent).
# Returns the ms to wait before sending, or minus the wait when nothing was reserved. The
# keys: the channel's pace, the bot's overall pace (used when overall > 0), and the effect to
# mark "doing" with the reservation (when mark is '1'): a crash from then on may have posted;
# kept ``keep`` ms (Lifetimes.unfinished_effects_ms).
_RESERVE_FUNCTION = """
local function reserve(pace, overall_pace, effect, now, interval, max_wait, overall, mark, keep)
  now, interval, max_wait = tonumber(now), tonumber(interval), tonumber(max_wait)
  overall = tonumber(overall)
  local at = math.max(now, tonumber(redis.call('GET', pace) or '0'))
  if overall > 0 then at = math.max(at, tonumber(redis.call('GET', overall_pace) or '0')) end
  if max_wait >= 0 and at - now > max_wait then return -(at - now) end
  redis.call('SET', pace, at + interval, 'PX', interval + (at - now) + 60000)
  if overall > 0 then
    redis.call('SET', overall_pace, at + overall, 'PX', overall + (at - now) + 60000)
  end
  if mark == '1' then
    redis.call('HINCRBY', effect, 'attempt', 1)
    redis.call('HSET', effect, 'state', 'doing', 'at', now)
    redis.call('PEXPIRE', effect, keep)
  end
  return at - now
end
"""

# ARGV[7..] are (step, message id) pairs: messages of the effect posted since the last slot,
# recorded in the same step whether a new slot is reserved or not.
_RESERVE_SLOT = (
    _RESERVE_FUNCTION
    + """
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[3], 'part:' .. ARGV[i], ARGV[i + 1]) end
return reserve(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""
)

# What the mirror stage reads before posting a mention: the effect, thread, mention, the
# thread's first message in the destination, and how many mentions were queued there in the
# minute up to and including this one (by its arrival, ARGV[12]; by time when it has none).
# In the usual case (a new mention of a known thread, posted now rather than folded: at most
# fold_above arrivals, or fold_above < 0) the send slot is reserved in the same step, as in
# reserve() above; otherwise the slot comes back nil.
_BEGIN_MIRROR = (
    _RESERVE_FUNCTION
    + """
local effect = redis.call('HGETALL', KEYS[1])
local thread = redis.call('HGETALL', KEYS[2])
local mention = redis.call('HGET', KEYS[3], ARGV[1])
local mirror = redis.call('HGET', KEYS[4], ARGV[2])
local queued, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local arrivals
local rank = redis.call('ZRANK', KEYS[5], ARGV[12])
if rank then
  -- By its place, not its time: several are often queued in the same millisecond.
  local at = tonumber(redis.call('ZSCORE', KEYS[5], ARGV[12]))
  arrivals = rank + 1 - redis.call('ZCOUNT', KEYS[5], '-inf', string.format('(%d', at - window))
else
  arrivals = redis.call('ZCOUNT', KEYS[5], queued - window, queued)
end
local fold_above, slot = tonumber(ARGV[6]), false
if ARGV[5] == '1' and #effect == 0 and #thread > 0 and mention and (ARGV[7] == '1' or mirror)
    and (fold_above < 0 or arrivals <= fold_above) then
  slot = reserve(KEYS[6], KEYS[7], KEYS[1], ARGV[8], ARGV[9], ARGV[10], ARGV[11], '1', ARGV[13])
end
return {effect, thread, mention, mirror, arrivals, slot}
"""
)

# Record a posted mirror and acknowledge its outbox entry, in one step. A thread's first message
# whose thread changed while it was posted (ARGV[2] is the version it shows) gets a redraw.
# ARGV[11..] are (step, message id) pairs of its messages not recorded yet. The effect is kept
# ARGV[8] ms; the message's index entry joins the thread's (KEYS[7]) and lives as it does.
# Written again after its answer was lost (a failover), it only acknowledges the entry again.
_RECORD_MIRROR = (
    FOLLOW_THREAD
    + """
local thread, effect, mirrors, shown_in = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local outbox, counter, shown = KEYS[5], KEYS[6], KEYS[7]
if redis.call('HGET', effect, 'state') == 'done' then
  redis.call('XACK', outbox, ARGV[9], ARGV[10])
  return 0
end
local is_root, shown_version, destination, ref = ARGV[1] == '1', ARGV[2], ARGV[3], ARGV[4]
local thread_id, mention_id = ARGV[5], ARGV[6]
if is_root and redis.call('EXISTS', thread) == 1 then
  local version = redis.call('HGET', thread, 'version') or '0'
  if version ~= shown_version then
    redis.call('XADD', outbox, '*', 'kind', 'refresh', 'thread_id', thread_id,
      'destination', destination, 'version', version)
  end
end
redis.call('HSET', effect, 'state', 'done', 'at', ARGV[7], 'result', ref)
for i = 11, #ARGV, 2 do redis.call('HSET', effect, 'part:' .. ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', effect, ARGV[8])
if is_root and redis.call('HSETNX', mirrors, destination, ref) == 1 then
  follow_thread(thread, mirrors, ARGV[8])
end
redis.call('HSET', shown_in, 'thread', thread_id, 'mention', mention_id)
redis.call('SADD', shown, shown_in)
follow_thread(thread, shown_in, ARGV[8])
follow_thread(thread, shown, ARGV[8])
redis.call('XACK', outbox, ARGV[9], ARGV[10])
redis.call('INCRBY', counter, 1)
return 1
"""
)

_PUSH_BACK = """
local until_ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', ARGV[2]) end
return 1
"""

# Queue an entry only if its once-key was never set: both or neither, even across a crash.
_ADD_ONCE = """
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
return 1
"""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class JoinResult:
    created: bool
    joined: bool
    reopened: bool
    roots: dict[str, str]
    # The mention was routed before: nothing was changed.
    routed_before: bool = False
    # Routed in the same step: queued for its destinations and acknowledged (see RouteQueue).
    queued: bool = False


@dataclass(frozen=True)
class RouteQueue:
    """What routing a joined mention writes, done in the join's own step (one round trip)
    unless the join reopened the thread: the entry of the mentions stream to acknowledge,
    the new thread's escalation timer, and when the mention is queued (epoch ms)."""

    group: str
    entry_id: str
    escalate: tuple[str, int] | None
    queued_at_ms: int


@dataclass(frozen=True)
class Effect:
    state: EffectState
    attempt: int
    result: str | None
    error: str | None
    # An effect posted as several messages (a chat that cuts a long post into parts): the
    # message id of each step posted so far, by step (0 is the first).
    parts: dict[int, str] = field(default_factory=dict)
    # When the state was last set: for "doing", when the latest attempt began (its message,
    # if it got out, is no older than that).
    at: datetime | None = None


@dataclass(frozen=True)
class MirrorInputs:
    effect: Effect | None
    thread: Thread | None
    mention: Mention | None
    # The thread's first message in the destination, once posted.
    mirror: MirrorRef | None
    # Mentions queued for the destination in the minute up to this one (a burst coming?).
    recent_arrivals: int
    # Seconds to wait for the send slot reserved with the reading; negative when it would
    # come too late (nothing reserved); None when none was reserved (not the usual case).
    slot_wait_s: float | None = None


@dataclass(frozen=True)
class SlotRequest:
    """A send slot to reserve with a mirror's reading, if the mention is posted now (see
    ``Store.begin_mirror``): the channel's and the bot's pace, and when it folds instead."""

    chat: str
    channel: str
    interval_s: float
    max_wait_s: float
    overall_interval_s: float = 0.0
    fold_above: int | None = None
    is_root: bool = True


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
        self._join_thread = redis.register_script(_JOIN_THREAD)
        self._renew_lease = redis.register_script(_RENEW_LEASE)
        self._release_lease = redis.register_script(_RELEASE_LEASE)
        self._reserve_slot = redis.register_script(_RESERVE_SLOT)
        self._begin_mirror = redis.register_script(_BEGIN_MIRROR)
        self._push_back = redis.register_script(_PUSH_BACK)
        self._add_once = redis.register_script(_ADD_ONCE)
        self._record_mirror = redis.register_script(_RECORD_MIRROR)
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
                    pipe.xadd(self.keys.mentions_stream, {"mention": mention.model_dump_json()})
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
        fields = {
            "id": thread.id,
            "network": thread.network,
            "account": thread.account,
            "conversation_id": thread.conversation_id,
            "route": thread.route,
            "priority": thread.priority,
            "tags": ",".join(thread.tags),
            "created_at": thread.created_at.isoformat(),
            "sla_deadline": thread.sla_deadline.isoformat() if thread.sla_deadline else "",
            "sla_s": int(thread.sla.total_seconds()) if thread.sla else "",
        }
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
            timer, due_ms = queue.escalate or ("", 0)
            args += [
                "1",
                queue.queued_at_ms,
                ARRIVAL_WINDOW_MS,
                timer,
                due_ms,
                queue.group,
                queue.entry_id,
                self.lifetimes().effects_ms,
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
        return _thread_from(await self._hgetall(self.keys.thread(thread_id)))

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
            effect=_effect_from(_pairs(effect)),
            thread=_thread_from(_pairs(thread)),
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
        return _effect_from(await self._hgetall(self.keys.effect(effect_key)))

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
                *_flat(parts),
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
                *_flat(parts),
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

    async def add_once(
        self, stream: str, fields: dict[str, str], *, once: str, keep_s: int = 86400 * 2
    ) -> bool:
        """Add an entry to a stream unless one with the same ``once`` key was added before
        (a form submitted again after its answer was lost); True if this call added it."""
        flat = [part for pair in fields.items() for part in pair]
        added = await self._add_once(
            keys=[stream, self.keys.seen_event("once", once)], args=[keep_s, *flat]
        )
        return bool(added)

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

    async def count(self, name: str, amount: int = 1) -> None:
        await self.redis.incrby(self.keys.counter(name), amount)

    async def count_failure(self, exc: PlatformError) -> None:
        """A failed platform call, for the metrics: rate limited or an error, by platform."""
        kind = "ratelimited" if isinstance(exc, RateLimited) else "errors"
        await self.count(f"{kind}:{exc.platform}")


def _thread_from(data: dict[str, str]) -> Thread | None:
    if not data:
        return None
    return Thread(
        id=data["id"],
        network=data["network"],
        account=data["account"],
        conversation_id=data["conversation_id"],
        status=ThreadStatus(data["status"]),
        route=data["route"],
        priority=data["priority"],
        tags=tuple(t for t in data.get("tags", "").split(",") if t),
        sla_round=int(data.get("sla_round") or 0),
        sla=timedelta(seconds=int(data["sla_s"])) if data.get("sla_s") else None,
        sla_deadline=datetime.fromisoformat(data["sla_deadline"])
        if data.get("sla_deadline")
        else None,
        created_at=datetime.fromisoformat(data["created_at"]),
        mention_count=int(data.get("mention_count", 1)),
        status_by=data.get("status_by") or None,
        status_at=datetime.fromisoformat(data["status_at"]) if data.get("status_at") else None,
        status_note=data.get("status_note") or None,
        version=int(data.get("version", 0)),
        answered_as=data.get("answered_as") or None,
        answered_url=data.get("answered_url") or None,
        first_response_at=datetime.fromisoformat(data["first_response_at"])
        if data.get("first_response_at")
        else None,
        first_response_by=data.get("first_response_by") or None,
        first_response_as=data.get("first_response_as") or None,
        folded=int(data.get("folded") or 0),
    )


def _pairs(flat: list[str]) -> dict[str, str]:
    """A hash as a script returns it (HGETALL's flat list) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _flat(parts: Mapping[int, str] | None) -> list[str | int]:
    """Steps and their message ids as a script's arguments: step, id, step, id..."""
    return [item for step, message_id in (parts or {}).items() for item in (step, message_id)]


def _effect_from(data: dict[str, str]) -> Effect | None:
    if not data:
        return None
    at = data.get("at", "")
    return Effect(
        state=cast(EffectState, data["state"]),
        attempt=int(data.get("attempt", 0)),
        result=data.get("result"),
        error=data.get("error"),
        parts={int(k[5:]): v for k, v in data.items() if k.startswith("part:")},
        at=datetime.fromtimestamp(int(at) / 1000, UTC) if at.isdigit() else None,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
