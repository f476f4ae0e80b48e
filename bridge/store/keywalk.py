"""A walk over every key of the installation (SCAN, a batch per step, going on where it
stopped), giving each the lifetime it should have where it has not got it:

- data written before retention existed (or by a process not upgraded yet): closed threads
  and finished effects without an expiry, chat messages' index entries not listed under their
  thread (a one-time pass, remembered under the ``mirror-index`` migration key);
- a changed ``retention.threads``: closed threads take the new period, counted from when they
  were closed;
- debris: a thread's key left without its thread, with nothing to expire it.

Each change is made by a script that checks, in the same step, what it was decided on, so a
thread reopened meanwhile is never given an expiry.
"""

from __future__ import annotations

from typing import Any

from bridge.store.retention import Lifetimes, expiry_ms
from bridge.store.store import DIGEST_KEEP_S, Store

WALK_BATCH = 250
# A thread whose keys expire within this of when they should is left as it is.
TOLERANCE_MS = 1000
THREAD_PARTS = ("mentions", "mirrors", "roots", "shown")

# A finished effect (done or failed) without expiry expires ARGV[1] ms after it finished, an
# unfinished one ARGV[2] ms after its last attempt (ARGV[3]: now, when it has no time).
_SETTLE_EFFECT = """
if redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
local state, at = unpack(redis.call('HMGET', KEYS[1], 'state', 'at'))
local keep = ARGV[2]
if state == 'done' or state == 'failed' then keep = ARGV[1] end
redis.call('PEXPIREAT', KEYS[1], (tonumber(at) or tonumber(ARGV[3])) + tonumber(keep))
return 1
"""

# A key of a thread (KEYS[1]) with no expiry, whose thread (KEYS[2]) is gone or is debris
# itself (a hash without a status: a field written after the thread expired): removed. With
# KEYS[1] the thread itself, that debris is removed.
_DROP_ORPHAN = """
if redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
if redis.call('HEXISTS', KEYS[2], 'status') == 1 then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


class KeyWalk:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._settle_effect = store.redis.register_script(_SETTLE_EFFECT)
        self._drop_orphan = store.redis.register_script(_DROP_ORPHAN)

    async def restart(self) -> None:
        await self.store.redis.delete(self.store.keys.maintenance_walk)

    async def step(self, now_ms: int, lifetimes: Lifetimes) -> bool:
        """One batch; True when it finished a pass over every key."""
        redis, keys = self.store.redis, self.store.keys
        cursor = int(await redis.get(keys.maintenance_walk) or 0)
        migrating = not await redis.exists(keys.migration("mirror-index"))
        cursor, names = await redis.scan(cursor, match=f"{keys.prefix}:*", count=WALK_BATCH)
        kinds: dict[str, list[tuple[str, str]]] = {}
        for name in map(str, names):
            kind, subject = classify(name.removeprefix(f"{keys.prefix}:"))
            if kind:
                kinds.setdefault(kind, []).append((name, subject))
        await self._threads([s for _, s in kinds.get("thread", [])], now_ms, lifetimes)
        await self._orphans(kinds.get("part", []))
        await self._effects([n for n, _ in kinds.get("effect", [])], now_ms, lifetimes)
        await self._folded([n for n, _ in kinds.get("folded", [])])
        if migrating:
            await self._index([n for n, _ in kinds.get("index", [])])
        await redis.set(keys.maintenance_walk, cursor)
        if cursor == 0 and migrating:
            await redis.set(keys.migration("mirror-index"), str(now_ms))
        return cursor == 0

    async def _threads(self, ids: list[str], now_ms: int, lifetimes: Lifetimes) -> None:
        """Closed threads expire at their retention from closing; open ones never."""
        if not ids:
            return
        keys = self.store.keys
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for thread_id in ids:
                pipe.hmget(keys.thread(thread_id), "status", "status_at", "created_at")
                pipe.smembers(keys.thread_shown(thread_id))
            read: list[Any] = await pipe.execute()
        wanted: dict[str, tuple[int | None, list[str]]] = {}
        for index, thread_id in enumerate(ids):
            (status, closed_at, created_at), shown = read[2 * index], read[2 * index + 1]
            if status is None:  # debris, or gone meanwhile
                await self._drop_orphan(keys=[keys.thread(thread_id)] * 2)
                continue
            expiry = expiry_ms(status, closed_at or created_at, lifetimes)
            wanted[thread_id] = (expiry, [*keys.thread_keys(thread_id), *map(str, shown)])
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for _, thread_keys in wanted.values():
                for key in thread_keys:
                    pipe.pttl(key)
            left: list[int] = await pipe.execute()
        position = 0
        for thread_id, (expiry, thread_keys) in wanted.items():
            ttls = left[position : position + len(thread_keys)]
            position += len(thread_keys)
            if any(_misplaced(ttl, expiry, now_ms) for ttl in ttls):
                await self.store.settle_lifetime(thread_id)

    async def _orphans(self, parts: list[tuple[str, str]]) -> None:
        """(key, its thread's id) of threads' other keys."""
        if not parts:
            return
        keys = self.store.keys
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for name, thread_id in parts:
                await self._drop_orphan(keys=[name, keys.thread(thread_id)], client=pipe)
            await pipe.execute()

    async def _effects(self, names: list[str], now_ms: int, lifetimes: Lifetimes) -> None:
        if not names:
            return
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for name in names:
                await self._settle_effect(
                    keys=[name],
                    args=[lifetimes.effects_ms, lifetimes.unfinished_effects_ms, now_ms],
                    client=pipe,
                )
            await pipe.execute()

    async def _folded(self, names: list[str]) -> None:
        """Lists of folded mentions from before they expired on their own."""
        redis = self.store.redis
        for name in names:
            if await redis.ttl(name) == -1:
                await redis.expire(name, DIGEST_KEEP_S)

    async def _index(self, names: list[str]) -> None:
        """Chat messages' index entries written before threads listed them (they expired 90
        days after posting, even under an open thread): listed now, to live as theirs does."""
        if not names:
            return
        redis, keys = self.store.redis, self.store.keys
        async with redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hget(name, "thread")
            threads: list[Any] = await pipe.execute()
        listed: set[str] = set()
        for name, thread_id in zip(names, threads, strict=True):
            if thread_id and await redis.exists(keys.thread(str(thread_id))):
                await redis.sadd(keys.thread_shown(str(thread_id)), name)
                listed.add(str(thread_id))
            else:
                await redis.delete(name)  # its thread is gone: nothing to answer there
        for thread_id in listed:
            await self.store.settle_lifetime(thread_id)


def classify(name: str) -> tuple[str, str]:
    """The kind of a key (its name without the prefix) as the walk looks after it, and the
    thread it belongs to: ``thread`` (a thread's hash), ``part`` (its other keys), ``effect``,
    ``index`` (a chat message's index entry), ``folded``; ("", "") for the rest."""
    if name.startswith("thread:{"):
        rest = name.removeprefix("thread:")
        if rest.endswith("}"):
            return "thread", rest[1:-1]
        thread, _, part = rest.rpartition(":")
        if part in THREAD_PARTS and thread.startswith("{") and thread.endswith("}"):
            return "part", thread[1:-1]
        return "", ""
    for prefix, kind in (("effect:", "effect"), ("mirror-msg:", "index"), ("folded:", "folded")):
        if name.startswith(prefix):
            return kind, ""
    return "", ""


def _misplaced(ttl_ms: int, expiry_ms: int | None, now_ms: int) -> bool:
    """A key's time to live (PTTL: -1 none, -2 no such key) is not what it should be."""
    if ttl_ms == -2:
        return False
    if expiry_ms is None:
        return ttl_ms != -1
    return ttl_ms == -1 or abs(now_ms + ttl_ms - expiry_ms) > TOLERANCE_MS
