"""Strangers' requests on a real Redis: told once a minute per chat, one audit entry a minute
with the count of the rest, two keys per chat however many requests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge.desks import audit
from bridge.desks.strangers import QUIET_S, refuse_stranger
from bridge.store.store import Store


async def test_a_flood_from_strangers_is_told_once_and_audited_once_per_chat(
    store: Store,
) -> None:
    async def flood(where: str, count: int) -> list[bool]:
        """``count`` requests, twenty at a time, as they come in from several processes."""
        told: list[bool] = []
        for start in range(0, count, 20):
            told += await asyncio.gather(
                *(
                    refuse_stranger(
                        store, chat="slack", where=where, user_id=f"U0EVE{n % 3}", what="/rules"
                    )
                    for n in range(start, min(start + 20, count))
                )
            )
        return told

    told = await flood("C0HUMAS", 500)
    assert told.count(True) == 1
    assert (await flood("C0OTHER", 5)).count(True) == 1, "each channel has its own minute"
    entries = await audit.entries(store, since=timedelta(hours=1))
    assert [(e["outcome"], e["chat"]) for e in entries] == [("refused", "slack")] * 2
    assert entries[0]["person"].startswith("stranger:U0EVE")
    assert entries[0]["detail"] == "not in people: /rules in C0HUMAS"
    keys = {str(k) async for k in store.redis.scan_iter(match="test:*")}
    assert keys == {
        "test:audit",
        store.keys.stranger_quiet("slack", "C0HUMAS"),
        store.keys.stranger_count("slack", "C0HUMAS"),
        store.keys.stranger_quiet("slack", "C0OTHER"),
        store.keys.stranger_count("slack", "C0OTHER"),
    }
    assert 0 < await store.redis.ttl(store.keys.stranger_quiet("slack", "C0HUMAS")) <= QUIET_S

    # A minute later (its quiet mark gone), the next one is told, and its entry counts the rest.
    await store.redis.delete(store.keys.stranger_quiet("slack", "C0HUMAS"))
    assert await refuse_stranger(
        store, chat="slack", where="C0HUMAS", user_id="U0EVE", what="button claim"
    )
    latest = (await audit.entries(store, since=timedelta(hours=1)))[-1]
    assert latest["detail"] == (
        "not in people: button claim in C0HUMAS; 499 more refused here since the last entry"
    )


async def test_what_a_stranger_sent_is_kept_short_and_plain(store: Store) -> None:
    assert await refuse_stranger(
        store, chat="telegram", where="-100", user_id="6666\n", what="/rules\x1b[31m" + "x" * 99
    )
    entry = (await audit.entries(store, since=timedelta(hours=1)))[0]
    assert entry["person"] == "stranger:6666?"
    assert entry["detail"].startswith("not in people: /rules??31mxxxx")
    assert len(entry["detail"]) < 80
