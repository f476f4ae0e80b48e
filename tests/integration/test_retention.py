"""How long a thread is kept: an answered thread 180 days with everything hanging off it, an
open one however old, a reopened one again as long as it is open; and the records of what the
stages did, a week once done, as long as their entry can come back otherwise."""

from __future__ import annotations

from typing import Any

from app.config import parse_config
from bridge.desks.claims import short_reference
from bridge.desks.unanswered import answer_show
from bridge.domain.models import Thread, ThreadStatus
from bridge.store.store import Store, now_ms, utcnow
from bridge.store.threads import change_state
from tests.integration.retention_desk import (
    DAY_S,
    Desk,
    Emulators,
    close_to,
    effect_keys,
    emulators,
    mention,
    retry_after_as_timedelta,
    route,
    scaled,
    thread_keys,
    thread_of,
    until,
)

__all__ = ["emulators", "retry_after_as_timedelta"]  # fixtures
DAY_MS = DAY_S * 1000
DESK_ONLY = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
routes: [{name: all, to: [desk]}]
""")


async def test_answering_a_thread_keeps_it_and_all_it_holds_180_days_from_then(
    store: Store, emulators: Emulators
) -> None:
    desk = Desk(store, emulators)
    async with desk.running():
        await desk.mention_arrives(mention(1), mention(2))
        await desk.answer(1)
    assert sum("Answered by rina" in text for text in desk.slack_texts()) == 1
    assert sum("Answered by rina" in text for text in desk.telegram_texts()) == 1

    answered = await store.thread(thread_of(1))
    assert answered is not None and answered.status_at is not None
    closed_ms = int(answered.status_at.timestamp() * 1000)
    kept = await thread_keys(store, thread_of(1))
    # The thread, its mentions, mirrors, roots, the list of its chat messages, and the index
    # entry of its message in Slack and in Telegram (staff answer by replying to those).
    assert len(kept) == 7 and sum(":mirror-msg:" in key for key in kept) == 2
    assert set(kept.values()) == {closed_ms + 180 * DAY_MS}
    still_open = await thread_keys(store, thread_of(2))
    assert len(still_open) == 7 and set(still_open.values()) == {-1}

    # The records of its posts and redraws (done) are kept a week after each was done.
    records = await effect_keys(store, thread_of(1))
    assert len(records) == 4  # posted in two chats, then redrawn in both
    for key in records:
        done_at = int(await store.redis.hget(key, "at") or 0)
        assert close_to(await store.redis.pexpiretime(key), done_at + 7 * DAY_MS)


async def test_an_unfinished_effect_is_kept_as_long_as_its_entry_can_come_back(
    store: Store,
) -> None:
    await store.mark_doing("reply:0f0f")  # the publisher is about to post it on X
    expires = await store.redis.pexpiretime(store.keys.effect("reply:0f0f"))
    assert close_to(expires, now_ms() + 180 * DAY_MS)
    async with store.redis.pipeline(transaction=True) as pipe:
        store.finish_effect(pipe, "reply:0f0f", {"state": "done", "at": now_ms()})
        await pipe.execute()
    expires = await store.redis.pexpiretime(store.keys.effect("reply:0f0f"))
    assert close_to(expires, now_ms() + 7 * DAY_MS)


async def test_a_new_mention_reopens_an_answered_thread_which_keeps_everything(
    store: Store, emulators: Emulators
) -> None:
    quick = scaled(store, 30 / (180 * DAY_S))  # 180 days last 30 s
    desk = Desk(quick, emulators)
    async with desk.running():
        await desk.mention_arrives(mention(1))
        await desk.answer(1)
        assert all(expires > 0 for expires in (await thread_keys(quick, thread_of(1))).values())
        await desk.mention_arrives(mention(2, conversation=1))  # a reply in the conversation

    reopened = await quick.thread(thread_of(1))
    assert reopened is not None and reopened.status is ThreadStatus.OPEN
    kept = await thread_keys(quick, thread_of(1))
    # Its five keys, and both mentions' messages in Slack and Telegram.
    assert len(kept) == 9 and set(kept.values()) == {-1}


async def test_a_thread_reopened_from_chat_stops_expiring_too(store: Store) -> None:
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="5001")
    await route(store, DESK_ONLY)
    await store.remember_shown_in(
        "telegram", "-100", "77", thread_id=thread_of(1), mention_id="5001"
    )
    await change_state(store, thread_of(1), status=ThreadStatus.DISMISSED, by="rina", note="spam")
    assert all(expires > 0 for expires in (await thread_keys(store, thread_of(1))).values())
    await change_state(store, thread_of(1), status=ThreadStatus.OPEN, by="sari")
    kept = await thread_keys(store, thread_of(1))
    assert len(kept) == 5 and set(kept.values()) == {-1}


async def test_the_join_that_reopens_a_thread_stops_its_expiry_in_the_same_step(
    store: Store,
) -> None:
    """Even a router that dies right after joining the new mention leaves the thread kept."""
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="5001")
    await route(store, DESK_ONLY)
    await change_state(store, thread_of(1), status=ThreadStatus.ANSWERED, by="rina")
    assert all(expires > 0 for expires in (await thread_keys(store, thread_of(1))).values())
    joined = await store.join_thread(
        mention(2, conversation=1),
        thread=Thread(
            id=thread_of(1),
            network="x",
            account="humas",
            conversation_id="5001",
            route="all",
            created_at=utcnow(),
        ),
        destinations=["desk"],
    )
    assert joined.reopened
    kept = await thread_keys(store, thread_of(1))
    assert len(kept) == 3 and set(kept.values()) == {-1}  # the thread, mentions, roots


async def test_a_thread_folded_long_ago_takes_new_mentions_and_can_still_be_shown(
    store: Store, emulators: Emulators
) -> None:
    folding = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK, bursts: {fold_above: 1}}}
routes: [{name: all, to: [desk]}]
""")
    quick = scaled(store, 1 / (7 * DAY_S))  # effect records kept "a week": a second
    desk = Desk(quick, emulators, config=folding)
    root = quick.keys.effect(f"mirror:desk:{thread_of(3)}:5003")
    async with desk.running():
        await desk.mention_arrives(mention(1), mention(2), mention(3))  # two folded
        folded = await quick.thread(thread_of(3))
        assert folded is not None and folded.folded == 1
        await until(lambda: _not(quick.redis.exists(root)), what="the record of the fold to expire")
        # A minute later the burst is over (its arrivals expire), and someone answers in the
        # folded conversation: folded too, not waiting for a first message in Slack that
        # will never come.
        await quick.redis.delete(quick.keys.arrivals("desk"))
        await desk.mention_arrives(mention(4, conversation=3))
    thread = await quick.thread(thread_of(3))
    assert thread is not None and thread.folded == 2
    assert len(emulators.slack.messages("C0DESK")) == 1

    shown = await answer_show(
        quick,
        config=folding,
        chat="slack",
        address="C0DESK",
        argument=short_reference(thread_of(3)),
        link_of=_no_link,
        command="/reachable show",
    )
    assert shown == "The mention of @warga is on its way here, with its buttons."


async def _not(value: Any) -> bool:
    return not await value


async def _no_link(_: Any) -> None:
    return None
