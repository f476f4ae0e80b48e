"""Each stream's owner writes entries that its parse function reads back, with the very fields
(and stream layout) earlier versions wrote, so entries queued before an upgrade are read after
it; and the effect keys stay the ones already in Redis."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.domain.models import Identity, Mention, ReplyRequest
from bridge.store import audit_log, effects, mentions, outbox, timers
from bridge.store.actions import parse as parse_action
from bridge.store.outbox import DigestEntry, MentionEntry, NoticeEntry, RefreshEntry
from bridge.store.store import Store


async def _entries(store: Store, stream: str) -> list[dict[str, str]]:
    items: Any = await store.redis.xrange(stream)
    return [fields for _, fields in items]


def _mention() -> Mention:
    return Mention(network="x", id="7", account="humas", text="halo", conversation_id="7")


async def test_outbox_entries_round_trip_with_the_fields_earlier_versions_wrote(
    store: Store,
) -> None:
    box = store.outbox
    async with store.redis.pipeline(transaction=True) as pipe:
        box.queue_mention(pipe, thread_id="t1", mention_id="m2", destination="desk", root="m1")
        box.queue_refresh(pipe, thread_id="t1", destination="desk", version=3)
        box.queue_notice(pipe, destination="desk", thread_id="t1", text="posted")
        box.queue_notice(pipe, destination="desk", text="report", format="report")
        box.queue_digest(pipe, destination="desk", window="1700000000000")
        await pipe.execute()
    await box.add_notice(destination="sup", text="alert")
    shown = dict(thread_id="t1", mention_id="m1", destination="sup", root="m1", keep_s=60)
    assert await box.show_once(**shown)
    assert not await box.show_once(**shown)
    entries = await _entries(store, store.keys.outbox_stream)
    assert entries == [
        {"thread_id": "t1", "mention_id": "m2", "destination": "desk", "root": "m1"},
        {"kind": "refresh", "thread_id": "t1", "destination": "desk", "version": "3"},
        {"kind": "notice", "destination": "desk", "thread_id": "t1", "text": "posted"},
        {"kind": "notice", "destination": "desk", "text": "report", "format": "report"},
        {"kind": "digest", "destination": "desk", "window": "1700000000000"},
        {"kind": "notice", "destination": "sup", "text": "alert"},
        {
            "kind": "show",
            "thread_id": "t1",
            "mention_id": "m1",
            "destination": "sup",
            "root": "m1",
        },
    ]
    assert [outbox.parse(fields) for fields in entries] == [
        MentionEntry(thread_id="t1", mention_id="m2", destination="desk", root="m1"),
        RefreshEntry(thread_id="t1", destination="desk", version="3"),
        NoticeEntry(destination="desk", text="posted", thread_id="t1"),
        NoticeEntry(destination="desk", text="report", format="report"),
        DigestEntry(destination="desk", window="1700000000000"),
        NoticeEntry(destination="sup", text="alert"),
        MentionEntry(thread_id="t1", mention_id="m1", destination="sup", root="m1", shown=True),
    ]
    assert {outbox.lane_of(fields) for fields in entries} == {"desk", "sup"}


async def test_the_lua_fragments_write_what_the_pipeline_writes(store: Store) -> None:
    script = store.redis.register_script(
        outbox.LUA_QUEUE_MENTION
        + outbox.LUA_QUEUE_REFRESH
        + """
outbox_mention(KEYS[1], 't1', 'm2', 'desk', 'm1')
outbox_refresh(KEYS[1], 't1', 'desk', '4')
return 1
"""
    )
    await script(keys=[store.keys.outbox_stream])
    async with store.redis.pipeline(transaction=True) as pipe:
        store.outbox.queue_mention(
            pipe, thread_id="t1", mention_id="m2", destination="desk", root="m1"
        )
        store.outbox.queue_refresh(pipe, thread_id="t1", destination="desk", version=4)
        await pipe.execute()
    by_lua, by_pipeline = (
        (await _entries(store, store.keys.outbox_stream))[:2],
        (await _entries(store, store.keys.outbox_stream))[2:],
    )
    assert by_lua == by_pipeline
    assert [outbox.parse(fields) for fields in by_lua] == [
        MentionEntry(thread_id="t1", mention_id="m2", destination="desk", root="m1"),
        RefreshEntry(thread_id="t1", destination="desk", version="4"),
    ]


async def test_mentions_round_trip(store: Store) -> None:
    await store.append_mentions([_mention()], network="x", account="humas", cursor="7")
    entries = await _entries(store, store.keys.mentions_stream)
    assert entries == [{"mention": _mention().model_dump_json()}]
    assert mentions.parse(entries[0]) == _mention()


async def test_replies_round_trip_and_are_queued_once_by_their_form(store: Store) -> None:
    request = ReplyRequest(
        id="r1",
        thread_id="t1",
        mention_id="m1",
        network="x",
        account="humas",
        text="Terima kasih",
        identity=Identity.INSTITUTION,
        person="ana",
        chat="slack",
        requested_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    await store.actions.add_reply(request)
    assert await store.actions.reply_once(request, once="form-1")
    assert not await store.actions.reply_once(request, once="form-1")
    entries = await _entries(store, store.keys.actions_stream)
    assert entries == [{"kind": "reply", "request": request.model_dump_json()}] * 2
    assert [parse_action(fields) for fields in entries] == [request, request]


async def test_due_timers_move_to_the_stream_once_and_round_trip(store: Store) -> None:
    await store.redis.zadd(store.keys.timers, {"escalate|t1|0.0": 1, "later|t2|0.0": 10**15})
    pop = store.redis.register_script(timers.POP_DUE)
    keys = timers.pop_due_keys(store.keys)
    assert await pop(keys=keys, args=[1000, 10]) == 1
    assert await pop(keys=keys, args=[1000, 10]) == 0
    entries = await _entries(store, store.keys.timers_stream)
    assert entries == [{"timer": "escalate|t1|0.0"}]
    assert timers.parse(entries[0]) == "escalate|t1|0.0"


async def test_audit_and_dropped_entries_round_trip(store: Store) -> None:
    async with store.redis.pipeline(transaction=True) as pipe:
        audit_log.queue_dropped(pipe, store.keys, rule="spam", mention=_mention())
        audit_log.queue(pipe, store.keys, {"at": "2024-05-01T00:00:00+00:00", "outcome": "x"})
        await pipe.execute()
    await audit_log.append(store.redis, store.keys, {"at": "2024-05-02T00:00:00+00:00"})
    dropped = await _entries(store, store.keys.dropped_stream)
    assert dropped == [{"rule": "spam", "mention": _mention().model_dump_json()}]
    assert audit_log.parse_dropped(dropped[0]) == ("spam", _mention())
    assert len(await _entries(store, store.keys.audit_stream)) == 2


def test_effect_keys_are_the_ones_already_in_redis() -> None:
    assert effects.route_effect("x", "humas", "7") == "route:x:humas:7"
    assert effects.mirror_effect("desk", "t1", "m1") == "mirror:desk:t1:m1"
    assert effects.mirror_effect("desk", "t1", "m1", shown=True) == "mirror:desk:t1:m1:shown"
    assert effects.notice_effect("1-0") == "notice:1-0"
    assert effects.digest_effect("desk", "17") == "digest:desk:17"
    assert effects.refresh_effect("desk", "t1", 3) == "refresh:desk:t1:3"
    assert effects.reply_effect("r1") == "reply:r1"
    assert effects.timer_effect("escalate|t1|0.0") == "timer:escalate|t1|0.0"
