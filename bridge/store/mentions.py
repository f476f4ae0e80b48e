"""The mentions stream's only writer (the poller's ``Store.append_mentions``), and its reader's
view of an entry (the router's)."""

from __future__ import annotations

from typing import Any

from redis.asyncio.client import Pipeline

from bridge.domain.models import Mention
from bridge.store.keys import Keys


def queue(pipe: Pipeline, keys: Keys, mention: Mention) -> None:
    """Append one polled mention: one field, ``mention``, its JSON."""
    fields: dict[Any, Any] = {"mention": mention.model_dump_json()}
    pipe.xadd(keys.mentions_stream, fields)


def parse(fields: dict[str, str]) -> Mention:
    return Mention.model_validate_json(fields["mention"])
