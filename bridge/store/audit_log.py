"""The audit stream's only writer: every attempt to act, allowed or refused (read by
:mod:`bridge.desks.audit`), and the mentions a rule dropped (the dropped stream, read by
:mod:`bridge.ops.replay`)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from bridge.domain.models import Mention
from bridge.store.keys import Keys

DROPPED_KEPT = 100_000


def queue(pipe: Pipeline, keys: Keys, fields: dict[Any, Any]) -> None:
    """One audit entry (``at`` first), in a transaction; the stream id is its time."""
    pipe.xadd(keys.audit_stream, fields)


async def append(redis: aioredis.Redis, keys: Keys, fields: dict[Any, Any]) -> None:
    """One audit entry on its own."""
    await redis.xadd(keys.audit_stream, fields)


def queue_dropped(pipe: Pipeline, keys: Keys, *, rule: str, mention: Mention) -> None:
    """A mention a rule dropped, with the rule; the stream keeps about the last 100,000."""
    fields: dict[Any, Any] = {"rule": rule, "mention": mention.model_dump_json()}
    pipe.xadd(keys.dropped_stream, fields, maxlen=DROPPED_KEPT, approximate=True)


def parse_dropped(fields: dict[str, str]) -> tuple[str, Mention]:
    """(rule, mention) of a dropped stream's entry."""
    return fields["rule"], Mention.model_validate_json(fields["mention"])
