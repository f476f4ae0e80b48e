"""Joining a mention to its thread and queueing it for its destinations: one Lua step."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.store.outbox import LUA_QUEUE_MENTION, LUA_QUEUE_REFRESH

# Join a mention to its thread, creating or reopening the thread, in one step. Returns {created,
# joined (0 when the mention was already there), reopened (an answered or dismissed thread got a
# new mention), root mention id per destination}; or {-1} when the routing effect KEYS[6] is
# already done (the poller appended the mention twice) and nothing was changed. A reopened
# thread's keys (KEYS[1..3, 7, 8]: one slot) stop expiring; its chat messages' index follows
# (``Store.settle_lifetime``).
JOIN_THREAD = (
    LUA_QUEUE_MENTION
    + LUA_QUEUE_REFRESH
    + """
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
-- Routed in the same step (ARGV[7] is '1'): its outbox entries, the escalation timer of a new
-- thread or of a reopened thread's new SLA round (named ARGV[10] .. round .. ARGV[15], due at
-- ARGV[11]), the destinations' arrivals, the routing effect and the mentions stream's ack. A
-- reopened thread's SLA round is its new version, its SLA timed from now (the fields the
-- caller decided), and each of its mirrors is redrawn as open before the mention is queued.
if ARGV[7] == '1' then
  local outbox, mentions_stream, timers, counter = KEYS[9], KEYS[10], KEYS[11], KEYS[12]
  local queued_at, window = tonumber(ARGV[8]), tonumber(ARGV[9])
  local round = nil
  if created == 1 then round = '0' end
  if reopened == 1 then
    round = redis.call('HGET', thread, 'version')
    redis.call('HSET', thread, 'sla_deadline', fields['sla_deadline'], 'sla_round', round,
      'sla_s', fields['sla_s'])
  end
  if round and ARGV[10] ~= '' then
    redis.call('ZADD', timers, ARGV[11], ARGV[10] .. round .. ARGV[15])
  end
  if reopened == 1 then
    for _, mirrored in ipairs(redis.call('HKEYS', KEYS[7])) do
      outbox_refresh(outbox, fields['id'], mirrored, round)
    end
  end
  for i, destination in ipairs(destinations) do
    local arrivals = KEYS[12 + i]
    redis.call('ZADD', arrivals, queued_at, fields['id'] .. ':' .. mention_id)
    redis.call('ZREMRANGEBYSCORE', arrivals, '-inf', queued_at - window)
    redis.call('PEXPIRE', arrivals, 2 * window)
    outbox_mention(outbox, fields['id'], mention_id, destination, result[4 + i])
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
)


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
    """What routing a joined mention writes, done in the join's own step (one round trip), for
    a new, a joined or a reopened thread alike: the entry of the mentions stream to
    acknowledge, the escalation timer of the thread's SLA round (the name's text before and
    after the round, and when it is due, epoch ms), and when the mention is queued (epoch
    ms)."""

    group: str
    entry_id: str
    escalate: tuple[str, str, int] | None
    queued_at_ms: int
