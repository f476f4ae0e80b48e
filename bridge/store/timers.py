"""The timers stream's only writer: the timekeeper moves due timers onto it (``POP_DUE``, one
Lua step, so a timer leaves the sorted set once); the supervision stage reads them
(:func:`parse`)."""

from __future__ import annotations

from bridge.store.keys import Keys

# KEYS: the timers sorted set, the timers stream; ARGV: now (epoch ms), how many at most.
POP_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, timer in ipairs(due) do
  redis.call('ZREM', KEYS[1], timer)
  redis.call('XADD', KEYS[2], '*', 'timer', timer)
end
return #due
"""


def parse(fields: dict[str, str]) -> str:
    """The timer's name (``kind|subject|round.step``)."""
    return fields["timer"]


def pop_due_keys(keys: Keys) -> list[str]:
    """The KEYS of ``POP_DUE``: the timers sorted set, then the timers stream."""
    return [keys.timers, keys.timers_stream]
