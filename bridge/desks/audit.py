"""The audit log: every attempt to speak or act, allowed or refused, kept in a Redis stream."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bridge.store import audit_log
from bridge.store.store import Store, utcnow
from bridge.text.i18n import _, current_zone


async def record(store: Store, **fields: str) -> None:
    """Append one entry; the stream id is its time, so entries can be read back by period."""
    entry: dict[Any, Any] = {"at": utcnow().isoformat(), **fields}
    await audit_log.append(store.redis, store.keys, entry)


async def entries(store: Store, *, since: timedelta) -> list[dict[str, str]]:
    start = int((utcnow() - since).timestamp() * 1000)
    items: Any = await store.redis.xrange(store.keys.audit_stream, min=f"{start}-0", max="+")
    return [dict(fields) for _entry_id, fields in items or []]


def format_entry(entry: dict[str, str]) -> str:
    """One line: when (in the reader's time zone), outcome, who via which chat, then whatever
    the entry has of identity, thread, detail and text (a link entry has no thread). The
    recorded words (outcome, identity, detail) are kept as recorded."""
    at = datetime.fromisoformat(entry["at"]).astimezone(ZoneInfo(current_zone()))
    parts = [
        at.strftime("%Y-%m-%d %H:%M:%S %Z"),
        entry.get("outcome", "?"),
        _("{person} via {chat}", person=entry.get("person", "?"), chat=entry.get("chat", "?")),
    ]
    if entry.get("identity"):
        parts.append(_("as {identity}", identity=entry["identity"]))
    if entry.get("thread"):
        parts.append(_("thread {thread}", thread=entry["thread"]))
    if entry.get("detail"):
        parts.append(entry["detail"])
    if entry.get("text"):
        parts.append(repr(entry["text"]))
    return " | ".join(parts)
