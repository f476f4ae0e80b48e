"""What /metrics says of the stages' streams, read from a real Redis."""

from __future__ import annotations

import re

from bridge.ops.metrics import render
from bridge.store.store import Store


def lag(text: str, stream: str, kind: str) -> float | None:
    pattern = rf'^reachable_stream_lag\{{kind="{kind}",stream="{re.escape(stream)}"\}} (\S+)$'
    found = re.search(pattern, text, flags=re.M)
    return float(found.group(1)) if found else None


async def test_the_lag_of_each_chats_inbound_stream_is_shown_by_chat(store: Store) -> None:
    keys = store.keys
    before = (await render(store)).decode()
    assert lag(before, "inbound:telegram", "unread") is None  # no stream yet, nothing to say

    inbound = keys.inbound_stream("telegram")
    await store.redis.xgroup_create(inbound, "listener", id="0", mkstream=True)
    for update_id in range(3):
        await store.redis.xadd(inbound, {"update": str(update_id)})
    await store.redis.xreadgroup("listener", "worker-1", {inbound: ">"}, count=1)
    # Its dead letters are a stream of the same name and more; they are not a chat's.
    await store.redis.xadd(f"{inbound}:dead", {"update": "9"})
    await store.redis.xgroup_create(f"{inbound}:dead", "people", id="0")

    text = (await render(store)).decode()
    assert lag(text, "inbound:telegram", "unread") == 2
    assert lag(text, "inbound:telegram", "pending") == 1
    assert "inbound:telegram:dead" not in text
