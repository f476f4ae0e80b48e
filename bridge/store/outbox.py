"""The outbox stream's only writer, and its reader's view of an entry.

Every entry of ``stream:outbox`` is written here: by a pipeline (``queue_*``), directly
(``add_notice``, ``show_once``), or inside a Lua script that must queue it in its own atomic
step, which then takes its XADD from the Lua functions below (``LUA_QUEUE_MENTION``,
``LUA_QUEUE_REFRESH``). :func:`parse` reads an entry back for the mirror stage; the field
layout of each kind is written down once, here.

Kinds of entry (``kind`` field; none for a mention):

=========  ==========================================  ==========================================
kind       fields                                      queued by
=========  ==========================================  ==========================================
(mention)  thread_id, mention_id, destination, root    router, escalation (its first step)
show       the same                                    ``/show`` (a folded thread on request)
refresh    thread_id, destination, version             thread state changes, a stale first post
notice     destination, [thread_id], text, [format]    alerts, replies, reminders, reports
digest     destination, window                         digest timers
=========  ==========================================  ==========================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from bridge.store.keys import Keys

# Lua: queue a mention for a destination (the fields of :class:`MentionEntry`).
LUA_QUEUE_MENTION = """
local function outbox_mention(outbox, thread_id, mention_id, destination, root)
  redis.call('XADD', outbox, '*', 'thread_id', thread_id, 'mention_id', mention_id,
    'destination', destination, 'root', root)
end
"""

# Lua: queue a redraw of a thread's message in a destination (:class:`RefreshEntry`).
LUA_QUEUE_REFRESH = """
local function outbox_refresh(outbox, thread_id, destination, version)
  redis.call('XADD', outbox, '*', 'kind', 'refresh', 'thread_id', thread_id,
    'destination', destination, 'version', version)
end
"""

# Queue a ``show`` entry only if its once-key (KEYS[2]) was never set: both or neither, even
# across a crash. ARGV: keep (s), thread id, mention id, destination, root.
_SHOW_ONCE = """
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'kind', 'show', 'thread_id', ARGV[2], 'mention_id', ARGV[3],
  'destination', ARGV[4], 'root', ARGV[5])
return 1
"""


@dataclass(frozen=True)
class MentionEntry:
    """Post a mention in a destination; ``root`` is the mention that opens the thread there.
    ``shown``: asked for with ``/show`` after the thread was folded."""

    thread_id: str
    mention_id: str
    destination: str
    root: str
    shown: bool = False


@dataclass(frozen=True)
class RefreshEntry:
    thread_id: str
    destination: str
    version: str


@dataclass(frozen=True)
class NoticeEntry:
    destination: str
    text: str
    thread_id: str | None = None
    # "report": shown in a fixed-width font.
    format: str | None = None


@dataclass(frozen=True)
class DigestEntry:
    destination: str
    window: str


OutboxEntry = MentionEntry | RefreshEntry | NoticeEntry | DigestEntry


def parse(fields: dict[str, str]) -> OutboxEntry:
    """An outbox entry's fields, as any version of the writers above wrote them."""
    kind = fields.get("kind")
    if kind == "refresh":
        return RefreshEntry(
            thread_id=fields["thread_id"],
            destination=fields["destination"],
            version=fields["version"],
        )
    if kind == "notice":
        return NoticeEntry(
            destination=fields["destination"],
            text=fields["text"],
            thread_id=fields.get("thread_id") or None,
            format=fields.get("format") or None,
        )
    if kind == "digest":
        return DigestEntry(destination=fields["destination"], window=fields["window"])
    return MentionEntry(
        thread_id=fields["thread_id"],
        mention_id=fields["mention_id"],
        destination=fields["destination"],
        root=fields["root"],
        shown=kind == "show",
    )


def lane_of(fields: dict[str, str]) -> str:
    """Entries of one destination are handled in order (every kind names its destination)."""
    return fields.get("destination", "")


def _mention_fields(entry: MentionEntry) -> dict[Any, Any]:
    fields: dict[Any, Any] = {"kind": "show"} if entry.shown else {}
    fields.update(
        thread_id=entry.thread_id,
        mention_id=entry.mention_id,
        destination=entry.destination,
        root=entry.root,
    )
    return fields


def _notice_fields(entry: NoticeEntry) -> dict[Any, Any]:
    fields: dict[Any, Any] = {"kind": "notice", "destination": entry.destination}
    if entry.thread_id is not None:
        fields["thread_id"] = entry.thread_id
    fields["text"] = entry.text
    if entry.format is not None:
        fields["format"] = entry.format
    return fields


class Outbox:
    """Writes the outbox stream of ``keys``; Lua scripts registered once on ``redis``."""

    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._show_once = redis.register_script(_SHOW_ONCE)

    @property
    def stream(self) -> str:
        return self.keys.outbox_stream

    def queue_mention(
        self, pipe: Pipeline, *, thread_id: str, mention_id: str, destination: str, root: str
    ) -> None:
        entry = MentionEntry(
            thread_id=thread_id, mention_id=mention_id, destination=destination, root=root
        )
        pipe.xadd(self.stream, _mention_fields(entry))

    def queue_refresh(
        self, pipe: Pipeline, *, thread_id: str, destination: str, version: int | str
    ) -> None:
        fields: dict[Any, Any] = {
            "kind": "refresh",
            "thread_id": thread_id,
            "destination": destination,
            "version": str(version),
        }
        pipe.xadd(self.stream, fields)

    def queue_notice(
        self,
        pipe: Pipeline,
        *,
        destination: str,
        text: str,
        thread_id: str | None = None,
        format: str | None = None,
    ) -> None:
        entry = NoticeEntry(destination=destination, text=text, thread_id=thread_id, format=format)
        pipe.xadd(self.stream, _notice_fields(entry))

    async def add_notice(
        self, *, destination: str, text: str, thread_id: str | None = None
    ) -> None:
        """A notice queued on its own (not part of a transaction)."""
        entry = NoticeEntry(destination=destination, text=text, thread_id=thread_id)
        await self.redis.xadd(self.stream, _notice_fields(entry))

    def queue_digest(self, pipe: Pipeline, *, destination: str, window: str) -> None:
        fields: dict[Any, Any] = {"kind": "digest", "destination": destination, "window": window}
        pipe.xadd(self.stream, fields)

    async def show_once(
        self, *, thread_id: str, mention_id: str, destination: str, root: str, keep_s: int
    ) -> bool:
        """Queue a folded thread's post on request, unless the same (thread, destination) was
        asked for within ``keep_s``; True if this call queued it."""
        once = self.keys.seen_event("once", f"show:{destination}:{thread_id}")
        added = await self._show_once(
            keys=[self.stream, once], args=[keep_s, thread_id, mention_id, destination, root]
        )
        return bool(added)
