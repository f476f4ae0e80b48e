"""Finding a message Reachable posted, by the effect key in its metadata, after a crash.

A worker can die between Slack's answer and the record of it; the next attempt must find that
message rather than post it again. A thread can hold any number of replies and a channel any
number of messages, so the search pages with Slack's cursor to the end, and starts shortly
before the interrupted attempt began (``oldest``), which keeps it to a page or two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

# Slack's advice for conversations.history and .replies: "no more than 200 results at a time".
PAGE_SIZE = 200
# Message timestamps are Slack's clock and the attempt's time is ours: read from this much
# earlier, so that a clock running ahead of Slack's cannot hide the message.
CLOCK_MARGIN_S = 600


async def find_tagged(
    client: AsyncWebClient,
    *,
    channel: str,
    thread_ts: str | None,
    effect_key: str,
    since: datetime | None,
    part: int = 0,
) -> str | None:
    """The ts of the message in ``channel`` (in the thread of ``thread_ts``, if given) whose
    metadata carries ``effect_key`` (and ``part``, for a long post's further messages); None
    when there is none."""
    window: dict[str, Any] = {}
    if since is not None:
        window["oldest"] = f"{since.timestamp() - CLOCK_MARGIN_S:.6f}"
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = {"include_all_metadata": True, "limit": PAGE_SIZE, "cursor": cursor, **window}
        if thread_ts is not None:
            response = await client.conversations_replies(channel=channel, ts=thread_ts, **page)
        else:
            response = await client.conversations_history(channel=channel, **page)
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            # A mirror's further messages (a long post's parts) carry the same key and a part.
            if payload.get("effect_key") == effect_key and (payload.get("part") or 0) == part:
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or cursor is None or cursor in seen:
            return None
        seen.add(cursor)
