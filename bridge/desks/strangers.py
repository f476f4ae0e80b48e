"""People not in the config: refused, counted, and told so at most once a minute per chat.

Anyone in a Slack workspace or a Telegram group can press a button or type a command. Someone
who is not in ``people`` may do nothing, and must not be able to fill the audit log or make the
bot talk either: in each channel or group, the first refusal of a minute is told and audited
(with the stranger's user id), and the rest of that minute is only counted. The count goes
into the next audit entry about that channel or group. Two keys per channel or group, whatever
the number of requests.
"""

from __future__ import annotations

import re
from typing import Any

from bridge.desks import audit
from bridge.store.store import Store

QUIET_S = 60
# A count kept this long without a later refusal to carry it is dropped.
COUNT_KEEP_S = 86400

# Returns -1 while the channel is quiet (the request is counted), otherwise how many were
# counted since the last answer (this request is to be answered and audited).
_GATE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  local earlier = tonumber(redis.call('GET', KEYS[2]) or '0')
  redis.call('SET', KEYS[2], '0', 'EX', ARGV[2])
  return earlier
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return -1
"""


async def refuse_stranger(store: Store, *, chat: str, where: str, user_id: str, what: str) -> bool:
    """Record that ``user_id``, not in ``people``, asked for ``what`` in channel or group
    ``where``; True when they are to be told (the first time this minute there)."""
    keys = [store.keys.stranger_quiet(chat, where), store.keys.stranger_count(chat, where)]
    gate: Any = store.redis.register_script(_GATE)
    earlier = int(await gate(keys=keys, args=[QUIET_S, COUNT_KEEP_S]))
    if earlier < 0:
        return False
    detail = f"not in people: {_inert(what)} in {_inert(where)}"
    if earlier:
        detail += f"; {earlier} more refused here since the last entry"
    await audit.record(
        store, outcome="refused", person=f"stranger:{_inert(user_id)}", chat=chat, detail=detail
    )
    return True


def _inert(text: str) -> str:
    """A short, plain form of what a stranger sent: it is kept, and read in a terminal."""
    return re.sub(r"[^\w /@:.-]", "?", text)[:40]
