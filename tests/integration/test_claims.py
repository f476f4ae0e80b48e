"""Claims on a real Redis: simultaneous claims, takeover confirmation, and who may release,
dismiss and hand out a thread (bridge/authority.py), each refusal audited and changing nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bridge import audit
from bridge.claims import ThreadDesk, short_reference
from bridge.config import parse_config
from bridge.models import Author, Mention, Thread, ThreadStatus, thread_id_for
from bridge.store import Store
from bridge.unanswered import answer_show
from tests.integration.test_stages import route_all

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}, all: {chat: slack, channel: C0ALL}}
people:
  - {key: rina, name: Rina, slack: U0RINA}
  - {key: budi, name: Budi, slack: U0BUDI}
  - {key: sari, name: Sari, slack: U0SARI, roles: [staff, supervisor]}
  - {key: adi, name: Adi, slack: U0ADI, roles: [staff, admin]}
routes: [{name: all, to: [all]}]
""")
RINA, BUDI, SARI, ADI = CONFIG.people


async def a_thread(store: Store, conversation: str = "7") -> str:
    await store.append_mentions(
        [
            Mention(
                network="x",
                id=conversation,
                account="humas",
                text="halo",
                author=Author(id="9", handle="warga_budi"),
                conversation_id=conversation,
            )
        ],
        network="x",
        account="humas",
        cursor=conversation,
    )
    await route_all(store)
    return thread_id_for(network="x", account="humas", conversation_id=conversation)


async def unchanged(store: Store, thread_id: str, before: Thread) -> bool:
    now = await store.thread(thread_id)
    return now is not None and (now.status, now.status_by, now.version) == (
        before.status,
        before.status_by,
        before.version,
    )


async def refusals(store: Store) -> list[dict[str, str]]:
    return [
        e for e in await audit.entries(store, since=timedelta(hours=1)) if e["outcome"] == "refused"
    ]


async def test_of_two_simultaneous_claims_one_wins_and_the_other_is_told(store: Store) -> None:
    thread_id = await a_thread(store)
    desk = ThreadDesk(store, config=lambda: CONFIG)
    answers = await asyncio.gather(
        desk.claim(thread_id, RINA, chat="slack"), desk.claim(thread_id, BUDI, chat="telegram")
    )
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status is ThreadStatus.CLAIMED
    winner = "Rina" if thread.status_by == "rina" else "Budi"
    assert sorted(a.split(" ")[0] for a in answers) == sorted(["It", winner])
    assert any(f"{winner} claimed this" in a for a in answers)


async def test_takeover_needs_a_second_press_and_release_needs_the_holder_or_a_supervisor(
    store: Store,
) -> None:
    thread_id = await a_thread(store)
    desk = ThreadDesk(store, config=lambda: CONFIG)
    await desk.claim(thread_id, RINA, chat="slack")
    assert "Rina claimed this" in await desk.claim(thread_id, BUDI, chat="slack")
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status_by == "rina"
    assert "took this over from Rina" in await desk.claim(thread_id, BUDI, chat="slack")
    assert "only they or a supervisor" in await desk.release(thread_id, RINA, chat="slack")
    assert "Released" in await desk.release(thread_id, SARI, chat="slack")
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status is ThreadStatus.OPEN
    assert "Pick a reason" in await desk.dismiss(thread_id, RINA, reason="bored", chat="slack")
    assert "Dismissed (Duplicate)" in await desk.dismiss(
        thread_id, RINA, reason="duplicate", chat="slack"
    )
    assert "Rina dismissed this thread (Duplicate)" in await desk.claim(
        thread_id, BUDI, chat="slack"
    )


async def test_supervisors_hand_a_thread_to_a_named_person_by_its_reference(
    store: Store,
) -> None:
    thread_id = await a_thread(store)
    desk = ThreadDesk(store, config=lambda: CONFIG)
    reference = short_reference(thread_id)
    assert "Only supervisors" in await desk.reassign(reference, RINA, "budi", chat="slack")
    assert "nobody called 'eve'" in await desk.reassign(reference, SARI, "eve", chat="slack")
    assert "No open thread matches [zzzzzz]" in await desk.reassign(
        "zzzzzz", SARI, "budi", chat="slack"
    )
    assert "now Budi's" in await desk.reassign(reference, SARI, "@Budi", chat="slack")
    thread = await store.thread(thread_id)
    assert thread is not None and (thread.status, thread.status_by) == (
        ThreadStatus.CLAIMED,
        "budi",
    )


async def test_a_claimed_thread_is_dismissed_only_by_its_holder_or_a_supervisor(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    rinas, other = await a_thread(store, "7"), await a_thread(store, "8")
    for thread_id in (rinas, other):
        await desk.claim(thread_id, RINA, chat="slack")
    before = await store.thread(rinas)
    assert before is not None
    for person in (BUDI, ADI):
        answer = await desk.dismiss(rinas, person, reason="spam", chat="telegram")
        assert answer == (
            "Rina has claimed this; only they or a supervisor can dismiss it. Nothing changed."
        )
        assert await unchanged(store, rinas, before)
    refused = await refusals(store)
    assert [(e["person"], e["chat"], e["thread"]) for e in refused] == [
        ("budi", "telegram", rinas),
        ("adi", "telegram", rinas),
    ]
    assert refused[1]["detail"] == "dismiss_held (no for admin, staff)"
    assert "Dismissed (Spam)" in await desk.dismiss(rinas, RINA, reason="spam", chat="slack")
    assert "Dismissed (Duplicate)" in await desk.dismiss(
        other, SARI, reason="duplicate", chat="slack"
    )
    dismissed = await store.thread(other)
    assert dismissed is not None and (dismissed.status, dismissed.status_by) == (
        ThreadStatus.DISMISSED,
        "sari",
    )


async def test_an_admin_who_is_not_a_supervisor_may_not_release_or_hand_out_a_claim(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    before = await store.thread(thread_id)
    assert before is not None
    released = await desk.release(thread_id, ADI, chat="slack")
    assert released == "Rina has claimed this; only they or a supervisor can release it."
    handed = await desk.reassign(short_reference(thread_id), ADI, "budi", chat="slack")
    assert handed.startswith("Only supervisors may hand a thread to someone")
    assert await unchanged(store, thread_id, before)
    assert [e["detail"] for e in await refusals(store)] == [
        "release (no for admin, staff)",
        "assign (no for admin, staff)",
    ]


async def test_claim_on_your_own_claimed_thread_says_you_hold_it_and_changes_nothing(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    assert (await desk.claim(thread_id, SARI, chat="slack")).startswith("It is yours")
    before = await store.thread(thread_id)
    assert before is not None
    for chat in ("slack", "telegram", "slack"):
        said = await desk.claim(thread_id, SARI, chat=chat)
        assert said == "You hold this thread already; nothing changed."
    assert await unchanged(store, thread_id, before)
    assert not await store.redis.exists(store.keys.takeover_intent(thread_id, "sari"))


def two_conversations_with_one_prefix() -> tuple[str, str, str]:
    """Two conversations whose threads' references start alike: (first, second, prefix)."""
    seen: dict[str, str] = {}
    for number in range(100_000):
        conversation = str(1_800_000_000_000_000_000 + number)
        prefix = short_reference(
            thread_id_for(network="x", account="humas", conversation_id=conversation)
        )[:4]
        if prefix in seen:
            return seen[prefix], conversation, prefix
        seen[prefix] = conversation
    raise AssertionError("no two references share a prefix")


async def test_a_reference_that_fits_two_open_threads_asks_which_instead_of_taking_one(
    store: Store,
) -> None:
    first, second, prefix = two_conversations_with_one_prefix()
    ids = [await a_thread(store, first), await a_thread(store, second)]
    desk = ThreadDesk(store, config=lambda: CONFIG)
    asked = await desk.reassign(prefix, SARI, "budi", chat="slack")
    lines = asked.splitlines()
    assert lines[0] == (
        f"[{prefix}] matches more than one open thread; nothing changed. "
        "Write more of its reference:"
    )
    shown = sorted(line.split("]")[0].lstrip("[") for line in lines[1:])
    assert len(shown) == 2 and all(len(ref) >= 6 for ref in shown)
    assert sorted(ids) == sorted(
        next(i for i in ids if short_reference(i).startswith(ref[:6])) for ref in shown
    )
    assert all("a mention by @warga_budi" in line for line in lines[1:])
    for thread_id in ids:
        thread = await store.thread(thread_id)
        assert thread is not None and thread.status is ThreadStatus.OPEN
    from_show = await answer_show(
        store,
        config=CONFIG,
        chat="slack",
        address="C0DESK",
        argument=prefix,
        link_of=no_link,
        command="/reachable show",
    )
    assert from_show == asked
    assert "now Budi's" in await desk.reassign(shown[0], SARI, "budi", chat="slack")


async def no_link(_ref: object) -> str | None:
    return None
