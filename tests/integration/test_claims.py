"""Claims on a real Redis: simultaneous claims, takeover confirmation, release rights."""

from __future__ import annotations

import asyncio

from bridge.claims import ThreadDesk
from bridge.config import parse_config
from bridge.models import Mention, ThreadStatus, thread_id_for
from bridge.store import Store
from tests.integration.test_stages import route_all

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}, all: {chat: slack, channel: C0ALL}}
people:
  - {key: rina, name: Rina, slack: U0RINA}
  - {key: budi, name: Budi, slack: U0BUDI}
  - {key: sari, name: Sari, slack: U0SARI, roles: [staff, supervisor]}
routes: [{name: all, to: [all]}]
""")
RINA, BUDI, SARI = CONFIG.people


async def a_thread(store: Store) -> str:
    await store.append_mentions(
        [Mention(network="x", id="7", account="humas", text="halo", conversation_id="7")],
        network="x",
        account="humas",
        cursor="7",
    )
    await route_all(store)
    return thread_id_for(network="x", account="humas", conversation_id="7")


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
    from bridge.claims import short_reference

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
