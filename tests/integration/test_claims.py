"""Claims on a real Redis: simultaneous claims, takeover confirmation, and who may release,
dismiss and hand out a thread (bridge/desks/authority.py), each refusal audited and changing
nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.config import parse_config
from bridge.desks import audit
from bridge.desks.claims import Ambiguous, ThreadDesk, find_open_thread, short_reference
from bridge.desks.unanswered import answer_show
from bridge.domain.models import Author, Mention, Thread, ThreadStatus, thread_id_for
from bridge.store.store import Store, utcnow
from bridge.store.threads import change_state
from bridge.text import i18n
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


async def a_thread(
    store: Store,
    conversation: str = "7",
    *,
    mention: str | None = None,
    handle: str | None = "warga_budi",
) -> str:
    """The thread of ``conversation`` after a mention in it (by default the conversation's
    first post) by @``handle`` (None: a mention whose author is not known)."""
    await store.append_mentions(
        [
            Mention(
                network="x",
                id=mention or conversation,
                account="humas",
                text="halo",
                author=Author(id="9", handle=handle) if handle is not None else None,
                conversation_id=conversation,
            )
        ],
        network="x",
        account="humas",
        cursor=mention or conversation,
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


async def state_of(store: Store, thread_id: str) -> tuple[ThreadStatus, str | None]:
    thread = await store.thread(thread_id)
    assert thread is not None
    return thread.status, thread.status_by


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
    assert await state_of(store, thread_id) == (ThreadStatus.CLAIMED, "budi")


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
    assert await state_of(store, other) == (ThreadStatus.DISMISSED, "sari")


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


def seen_as(monkeypatch: pytest.MonkeyPatch, store: Store, before: Thread) -> None:
    """The desk's next look at the thread finds it as ``before``, whatever it is now: the
    decision is taken on that, and someone else's change lands before the desk's own."""
    real, stale = store.thread, [before]

    async def thread(thread_id: str) -> Thread | None:
        return stale.pop() if stale else await real(thread_id)

    monkeypatch.setattr(store, "thread", thread)


async def entries_of(store: Store, outcome: str) -> list[dict[str, str]]:
    """The audit entries with ``outcome``, without their time."""
    return [
        {k: v for k, v in e.items() if k != "at"}
        for e in await audit.entries(store, since=timedelta(hours=1))
        if e["outcome"] == outcome
    ]


async def set_fields(store: Store, thread_id: str, **fields: str) -> None:
    await store.redis.hset(store.keys.thread(thread_id), mapping=fields)


def minutes_ago(minutes: int) -> str:
    return (utcnow() - timedelta(minutes=minutes, seconds=5)).isoformat()


async def test_a_claim_on_an_open_thread_is_the_claimers_and_audited(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    said = await desk.claim(thread_id, RINA, chat="telegram")
    assert said == "It is yours: the team sees you are on it. Release it if you cannot answer."
    assert await entries_of(store, "claimed") == [
        {
            "outcome": "claimed",
            "person": "rina",
            "chat": "telegram",
            "thread": thread_id,
            "detail": "",
        }
    ]


async def test_the_first_press_on_someone_elses_claim_says_whose_and_since_when(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    await set_fields(store, thread_id, status_at=minutes_ago(5))
    before = await store.thread(thread_id)
    assert before is not None
    said = await desk.claim(thread_id, BUDI, chat="slack")
    assert said == (
        "Rina claimed this 5 minutes ago. To take it over, press Claim again within a minute "
        "(let Rina know)."
    )
    assert await unchanged(store, thread_id, before)
    intent = store.keys.takeover_intent(thread_id, "budi")
    assert await store.redis.get(intent) == "rina"
    assert 55 <= await store.redis.ttl(intent) <= 60
    assert [e["person"] for e in await entries_of(store, "claimed")] == ["rina"]


async def test_the_second_press_takes_over_says_from_whom_audits_it_and_forgets_the_press(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    await desk.claim(thread_id, BUDI, chat="telegram")
    said = await desk.claim(thread_id, BUDI, chat="telegram")
    assert said == "You took this over from Rina; it is yours now."
    assert await state_of(store, thread_id) == (ThreadStatus.CLAIMED, "budi")
    assert not await store.redis.exists(store.keys.takeover_intent(thread_id, "budi"))
    assert (await entries_of(store, "claimed"))[1] == {
        "outcome": "claimed",
        "person": "budi",
        "chat": "telegram",
        "thread": thread_id,
        "detail": "from rina",
    }
    # Rina's own first press on Budi's claim asks again: Budi's press was not left behind.
    assert (await desk.claim(thread_id, RINA, chat="slack")).startswith("Budi claimed this")


async def test_a_thread_no_longer_tracked_is_said_so_by_every_action(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    gone = "This mention is no longer tracked by Reachable; nothing was posted."
    missing = thread_id_for(network="x", account="humas", conversation_id="404")
    assert await desk.claim(missing, RINA, chat="slack") == gone
    assert await desk.release(missing, RINA, chat="slack") == gone
    assert await desk.refuse_dismissal(missing, RINA, chat="slack") == gone
    assert await desk.dismiss(missing, RINA, reason="spam", chat="slack") == gone
    assert await audit.entries(store, since=timedelta(hours=1)) == []


async def test_claim_and_dismiss_on_an_answered_thread_say_who_answered(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await change_state(store, thread_id, status=ThreadStatus.ANSWERED, by="budi")
    said = "Budi already answered this thread; nothing was posted."
    assert await desk.claim(thread_id, RINA, chat="slack") == said
    assert await desk.dismiss(thread_id, RINA, reason="spam", chat="slack") == said
    assert await desk.refuse_dismissal(thread_id, RINA, chat="slack") == said


async def test_a_thread_answered_directly_on_the_network_was_answered_by_someone(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await change_state(store, thread_id, status=ThreadStatus.ANSWERED, by=None)
    said = "Someone already answered this thread; nothing was posted."
    assert await desk.claim(thread_id, RINA, chat="slack") == said


async def test_a_dismissed_thread_says_who_dismissed_it_and_why_when_there_is_a_why(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    with_reason, without = await a_thread(store, "7"), await a_thread(store, "8")
    await desk.dismiss(with_reason, SARI, reason="not_for_us", chat="slack")
    await change_state(store, without, status=ThreadStatus.DISMISSED, by="rina")
    assert await desk.claim(with_reason, RINA, chat="slack") == (
        "Sari dismissed this thread (Not for us)."
    )
    assert await desk.dismiss(with_reason, RINA, reason="spam", chat="slack") == (
        "Sari dismissed this thread (Not for us)."
    )
    assert await desk.claim(without, BUDI, chat="slack") == "Rina dismissed this thread."


async def test_a_claim_that_loses_a_race_says_what_happened_meanwhile_and_changes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    seen = await store.thread(thread_id)
    assert seen is not None
    meanwhile = {
        "Budi claimed this 3 minutes ago. To take it over, press Claim again within a minute "
        "(let Budi know).": {"status": "claimed", "status_by": "budi", "status_at": minutes_ago(3)},
        "You hold this thread already; nothing changed.": {
            "status": "claimed",
            "status_by": "rina",
        },
        "Budi already answered this thread; nothing was posted.": {
            "status": "answered",
            "status_by": "budi",
        },
        "Budi dismissed this thread (Spam).": {
            "status": "dismissed",
            "status_by": "budi",
            "status_note": "Spam",
        },
        # Claimed and released again meanwhile: open, but not as it was seen.
        "The thread changed just now; have a look and try again.": {
            "status": "open",
            "status_by": "budi",
        },
    }
    for said, fields in meanwhile.items():
        await set_fields(store, thread_id, **{"status_at": utcnow().isoformat(), **fields})
        now = await store.thread(thread_id)
        seen_as(monkeypatch, store, seen)
        assert await desk.claim(thread_id, RINA, chat="slack") == said
        assert now is not None and await unchanged(store, thread_id, now)
    assert await entries_of(store, "claimed") == []


async def test_a_takeover_loses_to_another_takeover_decided_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    await desk.claim(thread_id, BUDI, chat="slack")
    rinas = await store.thread(thread_id)
    assert rinas is not None
    await desk.claim(thread_id, SARI, chat="slack")
    await desk.claim(thread_id, SARI, chat="slack")
    seen_as(monkeypatch, store, rinas)
    assert (await desk.claim(thread_id, BUDI, chat="slack")).startswith(
        "Sari claimed this just now."
    )
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status_by == "sari"


async def test_a_claim_on_a_thread_deleted_meanwhile_says_it_is_gone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    seen = await store.thread(thread_id)
    assert seen is not None
    await store.redis.delete(store.keys.thread(thread_id))
    seen_as(monkeypatch, store, seen)
    assert await desk.claim(thread_id, RINA, chat="slack") == (
        "This mention is no longer tracked by Reachable; nothing was posted."
    )


async def test_a_release_opens_the_thread_and_audits_whose_claim_it_was(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    said = await desk.release(thread_id, SARI, chat="telegram")
    assert said == "Released: the thread is open for anyone again."
    assert await state_of(store, thread_id) == (ThreadStatus.OPEN, "sari")
    assert await entries_of(store, "released") == [
        {
            "outcome": "released",
            "person": "sari",
            "chat": "telegram",
            "thread": thread_id,
            "detail": "claim of rina",
        }
    ]


async def test_only_a_claimed_thread_can_be_released(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    open_, answered = await a_thread(store, "7"), await a_thread(store, "8")
    await change_state(store, answered, status=ThreadStatus.ANSWERED, by="budi")
    for thread_id in (open_, answered):
        before = await store.thread(thread_id)
        assert await desk.release(thread_id, SARI, chat="slack") == (
            "Nobody has claimed this thread, so there is nothing to release."
        )
        assert before is not None and await unchanged(store, thread_id, before)
    assert await entries_of(store, "released") == []


async def test_a_release_refused_is_audited_with_who_and_where(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    assert await desk.release(thread_id, BUDI, chat="telegram") == (
        "Rina has claimed this; only they or a supervisor can release it."
    )
    assert await entries_of(store, "refused") == [
        {
            "outcome": "refused",
            "person": "budi",
            "chat": "telegram",
            "thread": thread_id,
            "detail": "release (no for staff)",
        }
    ]


async def test_a_release_that_loses_a_race_says_what_happened_meanwhile(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    seen = await store.thread(thread_id)
    assert seen is not None
    await change_state(store, thread_id, status=ThreadStatus.ANSWERED, by="budi")
    seen_as(monkeypatch, store, seen)
    assert await desk.release(thread_id, RINA, chat="slack") == (
        "Budi already answered this thread; nothing was posted."
    )
    assert await entries_of(store, "released") == []


async def test_a_dismissal_keeps_its_reason_and_the_note_trimmed_and_clipped(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    noted, long, blank = [await a_thread(store, c) for c in ("7", "8", "9")]
    said = await desk.dismiss(noted, RINA, reason="spam", note="  a bot again \n", chat="tg")
    assert (
        said == "Dismissed (Spam (a bot again)). A new mention in the conversation opens it again."
    )
    await desk.dismiss(long, RINA, reason="other", note=" " + "x" * 199 + "yz", chat="slack")
    await desk.dismiss(blank, RINA, reason="duplicate", note=" \n ", chat="slack")
    notes = [(await store.thread(t)).status_note for t in (noted, long, blank)]  # type: ignore[union-attr]
    assert notes == ["Spam (a bot again)", "Other (" + "x" * 199 + "y)", "Duplicate"]
    assert [
        (e["person"], e["chat"], e["thread"], e["detail"])
        for e in await entries_of(store, "dismissed")
    ] == [
        ("rina", "tg", noted, "Spam (a bot again)"),
        ("rina", "slack", long, "Other (" + "x" * 199 + "y)"),
        ("rina", "slack", blank, "Duplicate"),
    ]
    assert await state_of(store, noted) == (ThreadStatus.DISMISSED, "rina")


async def test_a_dismissal_is_kept_in_english_and_answered_in_the_readers_language(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    with i18n.speaking("id"):
        said = await desk.dismiss(thread_id, RINA, reason="duplicate", note="lagi", chat="tg")
    assert said.startswith("Diabaikan (Duplikat (lagi)).")
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status_note == "Duplicate (lagi)"
    assert [e["detail"] for e in await entries_of(store, "dismissed")] == ["Duplicate (lagi)"]


async def test_an_unknown_reason_lists_the_reasons_and_changes_nothing(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    before = await store.thread(thread_id)
    said = await desk.dismiss(thread_id, RINA, reason="Spam", chat="slack")
    assert said == "Pick a reason to dismiss: Spam, Not for us, Duplicate, Other."
    assert before is not None and await unchanged(store, thread_id, before)
    assert await audit.entries(store, since=timedelta(hours=1)) == []


async def test_who_may_not_dismiss_is_told_before_being_asked_why(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    assert await desk.refuse_dismissal(thread_id, BUDI, chat="slack") is None
    await desk.claim(thread_id, RINA, chat="slack")
    assert await desk.refuse_dismissal(thread_id, RINA, chat="slack") is None
    assert await desk.refuse_dismissal(thread_id, SARI, chat="slack") is None
    assert await desk.refuse_dismissal(thread_id, BUDI, chat="telegram") == (
        "Rina has claimed this; only they or a supervisor can dismiss it. Nothing changed."
    )
    assert [(e["person"], e["chat"]) for e in await entries_of(store, "refused")] == [
        ("budi", "telegram")
    ]
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status is ThreadStatus.CLAIMED


async def test_a_dismissal_that_loses_a_race_says_what_happened_meanwhile(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    seen = await store.thread(thread_id)
    assert seen is not None
    await desk.claim(thread_id, BUDI, chat="slack")
    seen_as(monkeypatch, store, seen)
    said = await desk.dismiss(thread_id, RINA, reason="spam", chat="slack")
    assert said.startswith("Budi claimed this just now.")
    assert await state_of(store, thread_id) == (ThreadStatus.CLAIMED, "budi")
    assert await entries_of(store, "dismissed") == []


async def test_a_handover_says_to_whom_and_is_audited_as_the_supervisors(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    reference = short_reference(thread_id)
    said = await desk.reassign(reference, SARI, "BUDI", chat="telegram")
    assert said == f"Thread [{reference}] is now Budi's; every mirror shows it."
    assert await entries_of(store, "reassigned") == [
        {
            "outcome": "reassigned",
            "person": "sari",
            "chat": "telegram",
            "thread": thread_id,
            "detail": "to budi",
        }
    ]


async def test_a_handover_refused_or_to_nobody_known_changes_nothing(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    before = await store.thread(thread_id)
    reference = short_reference(thread_id)
    assert await desk.reassign(reference, BUDI, "rina", chat="telegram") == (
        "Only supervisors may hand a thread to someone; claim it yourself instead."
    )
    assert await desk.reassign(reference, SARI, "@Eve", chat="slack") == (
        "There is nobody called '@Eve' on the staff list (known: adi, budi, rina, sari)."
    )
    assert before is not None and await unchanged(store, thread_id, before)
    assert await entries_of(store, "refused") == [
        {
            "outcome": "refused",
            "person": "budi",
            "chat": "telegram",
            "detail": "assign (no for staff)",
        }
    ]


async def test_a_reference_is_read_from_its_fourth_character_whatever_its_case(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    reference = short_reference(thread_id)
    assert await desk.reassign(reference[:3], SARI, "budi", chat="slack") == (
        f"No open thread matches [{reference[:3]}]. Copy the reference from the unanswered "
        "list, like /reachable assign 3f9a1c rina."
    )
    assert await find_open_thread(store, reference[:3]) is None
    assert await find_open_thread(store, f" {reference[:4].upper()}\n") == thread_id
    assert await find_open_thread(store, thread_id.rsplit("-", 1)[1].upper()) == thread_id
    assert await find_open_thread(store, thread_id) is None


async def test_a_handover_of_a_thread_changed_or_deleted_meanwhile_changes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    reference = short_reference(thread_id)
    seen = await store.thread(thread_id)
    assert seen is not None
    await desk.claim(thread_id, RINA, chat="slack")
    seen_as(monkeypatch, store, seen)
    assert await desk.reassign(reference, SARI, "budi", chat="slack") == (
        "The thread changed just now; have a look and try again."
    )
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status_by == "rina"
    await store.redis.delete(store.keys.thread(thread_id))
    seen_as(monkeypatch, store, seen)
    assert await desk.reassign(reference, SARI, "budi", chat="slack") == (
        "The thread changed just now; have a look and try again."
    )
    # Still listed as open, but its record is gone: no thread to hand over.
    assert await desk.reassign(reference, SARI, "budi", chat="slack") == (
        f"No open thread matches [{reference}]. Copy the reference from the unanswered list, "
        "like /reachable assign 3f9a1c rina."
    )
    assert await entries_of(store, "reassigned") == []


def two_conversations_with_one_reference(length: int) -> tuple[str, str]:
    """Two conversations whose threads' references share their first ``length`` characters
    and no more."""
    seen: dict[str, str] = {}
    for number in range(1_000_000):
        conversation = str(1_900_000_000_000_000_000 + number)
        part = thread_id_for(network="x", account="humas", conversation_id=conversation)
        part = part.rsplit("-", 1)[1]
        earlier = seen.get(part[:length])
        if earlier is not None:
            other = thread_id_for(network="x", account="humas", conversation_id=earlier)
            if other.rsplit("-", 1)[1][length] != part[length]:
                return earlier, conversation
        seen[part[:length]] = conversation
    raise AssertionError(f"no two references share {length} characters")


async def test_threads_a_reference_fits_are_named_by_as_few_characters_as_tell_them_apart(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    first, second, prefix = two_conversations_with_one_prefix()
    ids = [await a_thread(store, first), await a_thread(store, second)]
    # The two references differ within six characters: six are shown, the usual reference.
    asked = await desk.reassign(prefix, SARI, "budi", chat="slack")
    assert sorted(line.split("]")[0] + "]" for line in asked.splitlines()[1:]) == sorted(
        f"[{short_reference(i)}]" for i in ids
    )
    await store.redis.flushall()
    first, second = two_conversations_with_one_reference(6)
    ids = [await a_thread(store, first), await a_thread(store, second)]
    asked = await desk.reassign(short_reference(ids[0]), SARI, "budi", chat="slack")
    assert sorted(line.split("]")[0] + "]" for line in asked.splitlines()[1:]) == sorted(
        f"[{i.rsplit('-', 1)[1][:7]}]" for i in ids
    )


async def test_threads_a_reference_fits_are_told_by_their_first_author_and_age(
    store: Store,
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    first, second, prefix = two_conversations_with_one_prefix()
    # The conversation's first post (the shorter, then lower, id) names the thread: the later
    # mention "10" comes after "9" though it sorts first as text.
    a = await a_thread(store, first, mention=first + "9", handle="<b>Hi</b>*@Channel_1")
    await a_thread(store, first, mention=first + "10", handle="late_comer")
    b = await a_thread(store, second, handle=None)
    await set_fields(store, a, created_at=minutes_ago(185))
    await set_fields(store, b, created_at=minutes_ago(0))
    asked = await desk.reassign(prefix, SARI, "budi", chat="slack")
    assert sorted(asked.splitlines()[1:]) == sorted(
        [
            f"[{short_reference(a)}] a mention by @bHibChannel_1, 3 hours 5 minutes old",
            f"[{short_reference(b)}] a mention by @?, under a minute old",
        ]
    )


async def test_an_author_with_no_character_of_a_handle_is_shown_as_unknown(
    store: Store,
) -> None:
    first, second, prefix = two_conversations_with_one_prefix()
    await a_thread(store, first, handle="<>*")
    await a_thread(store, second, handle="ok")
    found = await find_open_thread(store, prefix)
    assert isinstance(found, Ambiguous)
    assert sorted(line.split("] ")[1] for line in found.question.splitlines()[1:]) == [
        "a mention by @?, under a minute old",
        "a mention by @ok, under a minute old",
    ]


async def test_a_thread_deleted_while_being_listed_shows_no_author_and_no_age(
    store: Store,
) -> None:
    first, second, prefix = two_conversations_with_one_prefix()
    gone = await a_thread(store, first)
    await a_thread(store, second)
    await store.redis.delete(store.keys.thread(gone), store.keys.thread_mentions(gone))
    found = await find_open_thread(store, prefix)
    assert isinstance(found, Ambiguous)
    assert f"[{short_reference(gone)}] a mention by @?, under a minute old" in (
        found.question.splitlines()
    )


async def test_a_claim_on_a_thread_released_before_is_a_claim_from_nobody(store: Store) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    await desk.release(thread_id, SARI, chat="slack")
    said = await desk.claim(thread_id, BUDI, chat="slack")
    assert said == "It is yours: the team sees you are on it. Release it if you cannot answer."
    assert [(e["person"], e["detail"]) for e in await entries_of(store, "claimed")] == [
        ("rina", ""),
        ("budi", ""),
    ]


async def test_a_release_decided_before_taking_the_thread_over_oneself_changes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = ThreadDesk(store, config=lambda: CONFIG)
    thread_id = await a_thread(store)
    await desk.claim(thread_id, RINA, chat="slack")
    rinas = await store.thread(thread_id)
    assert rinas is not None
    await desk.claim(thread_id, SARI, chat="telegram")
    await desk.claim(thread_id, SARI, chat="telegram")
    seen_as(monkeypatch, store, rinas)
    said = await desk.release(thread_id, SARI, chat="slack")
    assert said == "You hold this thread already; nothing changed."
    assert await state_of(store, thread_id) == (ThreadStatus.CLAIMED, "sari")


async def test_a_handover_names_the_person_by_key_in_any_case_with_or_without_at(
    store: Store,
) -> None:
    config = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {all: {chat: slack, channel: C0ALL}}
people:
  - {key: xena, name: Xena, slack: U0XENA}
  - {key: sari, name: Sari, slack: U0SARI, roles: [staff, supervisor]}
routes: [{name: all, to: [all]}]
""")
    desk = ThreadDesk(store, config=lambda: config)
    thread_id = await a_thread(store)
    said = await desk.reassign(short_reference(thread_id), config.people[1], "@XENA", chat="s")
    assert said == f"Thread [{short_reference(thread_id)}] is now Xena's; every mirror shows it."
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status_by == "xena"


async def test_every_open_thread_is_found_by_its_reference(store: Store) -> None:
    ids = [await a_thread(store, conversation) for conversation in ("7", "8", "9", "10")]
    for thread_id in ids:
        assert await find_open_thread(store, short_reference(thread_id)) == thread_id
