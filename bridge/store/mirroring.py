"""The Lua steps of posting a mention: a channel's send slots (its pace and the bot's), what
the mirror reads before posting, and the record of a posted message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge.domain.models import Mention, MirrorRef, Thread
from bridge.store.effects import Effect
from bridge.store.outbox import LUA_QUEUE_REFRESH
from bridge.store.retention import FOLLOW_THREAD

# The next free send slot of a channel, reserved only if it comes within max_wait: a sender
# that will not wait that long must not hold a slot nobody uses (under a backlog, senders that
# give up would otherwise push the channel's next slot ever later, and nothing would be sent).
# Returns the ms to wait before sending, or minus the wait when nothing was reserved. The
# keys: the channel's pace, the bot's overall pace (used when overall > 0), and the effect to
# mark "doing" with the reservation (when mark is '1'): a crash from then on may have posted;
# kept ``keep`` ms (Lifetimes.unfinished_effects_ms).
RESERVE_FUNCTION = """
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
RESERVE_SLOT = (
    RESERVE_FUNCTION
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
BEGIN_MIRROR = (
    RESERVE_FUNCTION
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
RECORD_MIRROR = (
    FOLLOW_THREAD
    + LUA_QUEUE_REFRESH
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
    outbox_refresh(outbox, thread_id, destination, version)
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

PUSH_BACK = """
local until_ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then redis.call('SET', KEYS[1], until_ms, 'PX', ARGV[2]) end
return 1
"""


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


def pairs(flat: list[str]) -> dict[str, str]:
    """A hash as a script returns it (HGETALL's flat list) as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def flat(parts: Mapping[int, str] | None) -> list[str | int]:
    """Steps and their message ids as a script's arguments: step, id, step, id..."""
    return [item for step, message_id in (parts or {}).items() for item in (step, message_id)]
