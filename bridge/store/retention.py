"""How long Reachable keeps each kind of data, and how a thread's keys follow its state.

Every key either expires (a TTL) or is kept small by the upkeep (:mod:`bridge.ops.maintenance`).
A thread's keys share its hash slot and one fate: no expiry while it is open, however old;
from the moment it is answered or dismissed, the config's ``retention.threads``, set in the
very step that closes it; and none again when a new mention reopens it. The index of its chat
messages (other slots) is listed in its ``shown`` set and follows the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio.client import Pipeline

from bridge.config import RetentionConfig
from bridge.domain.models import Thread, ThreadStatus

CLOSED = frozenset({ThreadStatus.ANSWERED, ThreadStatus.DISMISSED})

# Give the keys of one thread (KEYS[1..5], see Keys.thread_keys) and of its chat messages'
# index (KEYS[6..]) the lifetime decided for the thread as it was read: expiring at ARGV[2]
# (epoch ms), or never (0). Unless the thread changed since (its version is no longer ARGV[1])
# or its index did (KEYS[6..] are not exactly its ``shown`` set): then nothing is changed and
# 0 comes back, for the caller to read the thread again.
APPLY_LIFETIME = """
if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[1] then return 0 end
if redis.call('SCARD', KEYS[5]) ~= #KEYS - 5 then return 0 end
for i = 6, #KEYS do
  if redis.call('SISMEMBER', KEYS[5], KEYS[i]) == 0 then return 0 end
end
local at = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  if at == 0 then redis.call('PERSIST', key) else redis.call('PEXPIREAT', key, at) end
end
return 1
"""

# A key written next to a thread (a chat message's index entry, the thread's first mirror)
# lives as the thread does: expiring with it once it is closed, and after ``orphan_ms`` when
# the thread is gone already (nothing would ever expire it otherwise).
FOLLOW_THREAD = """
local function follow_thread(thread, key, orphan_ms)
  local left = redis.call('PTTL', thread)
  if left > 0 then
    redis.call('PEXPIRE', key, left)
  elseif left == -2 then
    redis.call('PEXPIRE', key, orphan_ms)
  end
end
"""

# Index a chat message under its thread: KEYS[1] the index entry, KEYS[2] the thread,
# KEYS[3] the thread's shown set; ARGV: thread id, mention id, orphan ms.
INDEX_MESSAGE = (
    FOLLOW_THREAD
    + """
redis.call('HSET', KEYS[1], 'thread', ARGV[1], 'mention', ARGV[2])
redis.call('SADD', KEYS[3], KEYS[1])
follow_thread(KEYS[2], KEYS[1], ARGV[3])
follow_thread(KEYS[2], KEYS[3], ARGV[3])
return 1
"""
)


@dataclass(frozen=True)
class Lifetimes:
    """The retention periods in force, in milliseconds: the config's, times the retention
    scale (1 outside benchmarks and tests)."""

    threads_ms: int
    effects_ms: int
    streams_ms: int
    audit_ms: int
    dropped_ms: int
    scale: float = 1.0

    @classmethod
    def of(cls, retention: RetentionConfig, *, scale: float = 1.0) -> Lifetimes:
        def ms(period: timedelta) -> int:
            return max(int(period.total_seconds() * 1000 * scale), 1)

        return cls(
            threads_ms=ms(retention.threads),
            effects_ms=ms(retention.effects),
            streams_ms=ms(retention.streams),
            audit_ms=ms(retention.audit),
            dropped_ms=ms(retention.dropped),
            scale=scale,
        )

    @property
    def unfinished_effects_ms(self) -> int:
        """An effect not finished yet (its entry still pending, or parked as a dead letter) is
        kept as long as a closed thread, renewed at every attempt: as long as its entry can be
        tried again, a post it may have made is looked for before posting again."""
        return self.threads_ms

    @property
    def dead_letters_ms(self) -> int:
        """Entries parked after failing too often are kept as long as a closed thread."""
        return self.threads_ms


DEFAULT_LIFETIMES = Lifetimes.of(RetentionConfig())


@functools.lru_cache(maxsize=8)
def lifetimes_for(retention: RetentionConfig, scale: float = 1.0) -> Lifetimes:
    """The lifetimes of a config's retention (asked for at every write: kept)."""
    return Lifetimes.of(retention, scale=scale)


def thread_expiry_ms(thread: Thread, lifetimes: Lifetimes) -> int | None:
    """When the keys of ``thread`` expire (epoch ms): none while it is open."""
    closed = thread.status_at or thread.created_at
    return expiry_ms(thread.status.value, closed.isoformat(), lifetimes)


def expiry_ms(status: str, closed_at: str | None, lifetimes: Lifetimes) -> int | None:
    """The same from a thread's stored fields: its status, and when it got it (ISO 8601; a
    thread written before ``status_at`` existed gives its creation time)."""
    if status not in CLOSED or closed_at is None:
        return None
    return int(datetime.fromisoformat(closed_at).timestamp() * 1000) + lifetimes.threads_ms


def effects_outlived(thread: Thread, lifetimes: Lifetimes, *, now: datetime) -> bool:
    """The records of what was done when the thread came in (its first message in each chat,
    posted or folded) may have expired: it is older than effect records are kept."""
    return now - thread.created_at > timedelta(milliseconds=lifetimes.effects_ms)


def set_lifetime(pipe: Pipeline, keys: Sequence[str], expire_at_ms: int | None) -> None:
    """Queue on ``pipe``: ``keys`` expire at ``expire_at_ms``, or never (None)."""
    for key in keys:
        if expire_at_ms is None:
            pipe.persist(key)
        else:
            pipe.pexpireat(key, expire_at_ms)
