"""Folded mentions against a real Redis: each is shown by exactly one digest, even when the
digest is retried after a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.config import parse_config
from bridge.desks.claims import short_reference
from bridge.desks.unanswered import answer_show, answer_unanswered
from bridge.domain.models import Author, Media, Mention, MirrorRef, Thread, thread_id_for
from bridge.store.bursts import FoldedMention
from bridge.store.store import Store

SHOW_CONFIG = """
accounts: [{key: humas, handle: humas_demo}]
destinations:
  desk: {chat: slack, channel: C0DESK}
routes:
  - {name: all, to: [desk]}
"""


def folded(n: int) -> FoldedMention:
    return FoldedMention(
        thread=f"x-humas-{n:016x}",
        mention=str(n),
        priority="normal",
        author=f"warga{n}",
        text=f"keluhan {n}",
        at=(datetime(2026, 11, 29, 7, tzinfo=UTC) + timedelta(seconds=n)).isoformat(),
    )


async def test_a_digest_takes_what_was_folded_once_and_a_retry_takes_the_same(
    store: Store,
) -> None:
    key = store.keys.folded("humas-slack")
    await store.redis.rpush(key, *(folded(n).to_json() for n in range(3)))

    first = await store.take_folded("humas-slack", "1000", limit=10)
    await store.redis.rpush(key, folded(3).to_json())  # folded while the digest was posted
    retried = await store.take_folded("humas-slack", "1000", limit=10)
    following = await store.take_folded("humas-slack", "2000", limit=10)
    nothing_left = await store.take_folded("humas-slack", "3000", limit=10)

    assert [f.mention for f in first] == ["0", "1", "2"]
    assert retried == first
    assert [f.mention for f in following] == ["3"]
    assert nothing_left == []
    assert await store.redis.llen(key) == 0


async def test_a_digest_takes_at_most_its_limit_and_leaves_the_rest_for_the_next(
    store: Store,
) -> None:
    key = store.keys.folded("humas-slack")
    await store.redis.rpush(key, *(folded(n).to_json() for n in range(5)))
    taken = await store.take_folded("humas-slack", "1000", limit=2)
    rest = await store.take_folded("humas-slack", "2000", limit=10)
    assert [f.mention for f in taken] == ["0", "1"]
    assert [f.mention for f in rest] == ["2", "3", "4"]


async def a_thread(store: Store, n: int, destinations: list[str]) -> str:
    mention = Mention(
        network="x",
        id=str(n),
        account="humas",
        text=f"@humas_demo keluhan {n}",
        author=Author(id="7", handle=f"warga{n}", name="Warga"),
        conversation_id=str(n),
    )
    thread_id = thread_id_for(network="x", account="humas", conversation_id=str(n))
    thread = Thread(
        id=thread_id,
        network="x",
        account="humas",
        conversation_id=str(n),
        route="all",
        created_at=datetime.now(UTC),
    )
    await store.join_thread(mention, thread=thread, destinations=destinations)
    return thread_id


async def no_link(ref: MirrorRef) -> str | None:
    return None


async def test_show_queues_a_folded_thread_once_and_refuses_what_it_cannot_show(
    store: Store,
) -> None:
    config = parse_config(SHOW_CONFIG)
    folded_id = await a_thread(store, 11, ["desk"])
    await store.redis.hset(
        store.keys.effect(f"mirror:desk:{folded_id}:11"),
        mapping={"state": "done", "result": "folded"},
    )
    queued_id = await a_thread(store, 12, ["desk"])  # routed here, its message still queued

    async def show(argument: str, address: str = "C0DESK") -> str:
        return await answer_show(
            store,
            config=config,
            chat="slack",
            address=address,
            argument=argument,
            link_of=no_link,
            command="/reachable show",
        )

    assert "on its way here" in await show(short_reference(folded_id))
    assert "on its way here" in await show(short_reference(folded_id))  # asked twice
    assert "already on its way" in await show(short_reference(queued_id))
    assert "No open thread" in await show("zzzzzz")
    assert "not one of Reachable's destinations" in await show(short_reference(folded_id), "C0ELSE")
    assert "Write the thread's reference" in await show(" ")
    entries = await store.redis.xrange(store.keys.outbox_stream)
    assert [fields for _, fields in entries] == [
        {
            "kind": "show",
            "thread_id": folded_id,
            "mention_id": "11",
            "destination": "desk",
            "root": "11",
        }
    ]


async def test_arrivals_are_counted_up_to_each_mention_even_in_one_millisecond(
    store: Store,
) -> None:
    """Routing is fast: several mentions are often queued in the same millisecond. Each is
    counted by its place among them, so a burst's first ones are still shown singly."""
    at = 1_795_000_000_000
    members = {f"x-humas-{n:016x}:{n}": at for n in range(3)}
    await store.redis.zadd(store.keys.arrivals("desk"), {"x-humas-old:9": at - 61_000})
    await store.redis.zadd(store.keys.arrivals("desk"), members)
    counted = []
    for member in sorted(members):
        thread_id, mention_id = member.split(":")
        seen = await store.begin_mirror(
            effect_key=f"mirror:desk:{member}",
            thread_id=thread_id,
            mention_id=mention_id,
            destination="desk",
            queued_ms=at,
        )
        counted.append(seen.recent_arrivals)
    assert counted == [1, 2, 3]


async def test_the_unanswered_list_says_what_a_post_of_only_photos_holds(store: Store) -> None:
    config = parse_config(SHOW_CONFIG)
    await a_thread(store, 21, ["desk"])
    photos = Mention(
        network="x",
        id="22",
        account="humas",
        text="",
        author=Author(id="8", handle="warga_foto", name="Warga"),
        conversation_id="22",
        media=(Media(kind="photo"), Media(kind="photo")),
    )
    thread_id = thread_id_for(network="x", account="humas", conversation_id="22")
    thread = Thread(
        id=thread_id,
        network="x",
        account="humas",
        conversation_id="22",
        route="all",
        created_at=datetime.now(UTC),
    )
    await store.join_thread(photos, thread=thread, destinations=["desk"])

    listed = await answer_unanswered(
        store,
        config=config,
        chat="slack",
        argument="",
        link_of=no_link,
        command="/reachable unanswered",
    )

    assert "@warga_foto: (no text, 2 photos)" in listed
    assert "@warga21: '@humas_demo keluhan 21'" in listed
