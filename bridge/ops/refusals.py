"""Requests the bridge's web app refused (bad signature, stale timestamp, oversized body): one
log line each and a count for /metrics, never the body."""

from __future__ import annotations

import contextlib
import logging

from redis.exceptions import RedisError

from bridge.store.store import Store

log = logging.getLogger(__name__)


async def note_refused(store: Store, *, door: str, origin: str | None, reason: str) -> None:
    """One log line per refused request, with who sent it and why, never its body (anyone can
    send one: a body in the log would let them fill the disk, and a legitimate request refused
    for clock skew would leave its secrets there); counted for /metrics."""
    log.warning("refused a request at %s from %s: %s", door, origin or "an unknown address", reason)
    with contextlib.suppress(RedisError, OSError):
        await store.count(f"refused:{door}")
