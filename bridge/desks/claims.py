"""Claim, release and dismiss: so two people do not answer the same mention.

The same rules whatever the chat, and who may do what is :mod:`bridge.desks.authority`'s to say. A
claim on a thread someone else holds does not take it: the person is told who has it and since
when, and pressing Claim again within a minute takes it over (the confirmation). A dismissal
needs a reason, shown on every mirror. Every action, done or refused, is audited; a lost race
is an answer, not an error. Each change happens only if the thread is still as it was when the
decision was made.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.config import Config, PersonConfig
from bridge.desks import audit
from bridge.desks.authority import Action, Verdict, record_refusal, refusal, thread_action, verdict
from bridge.domain.models import Thread, ThreadStatus
from bridge.store.store import Store, utcnow
from bridge.store.threads import TransitionRefused, UnknownThread, change_state
from bridge.text import i18n, messages

log = logging.getLogger(__name__)

TAKEOVER_WINDOW_S = 60
REFERENCE_LENGTH = 6
DISMISS_REASONS = ("spam", "not_for_us", "duplicate", "other")


class ThreadDesk:
    def __init__(self, store: Store, *, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    def name_of(self, key: str | None) -> str:
        return self.config().person_name(key)

    async def _audit(
        self, person: PersonConfig, chat: str, thread_id: str, outcome: str, detail: str
    ) -> None:
        await audit.record(
            self.store,
            outcome=outcome,
            person=person.key,
            chat=chat,
            thread=thread_id,
            detail=detail,
        )

    async def _refused(
        self, decision: Verdict, person: PersonConfig, chat: str, thread: Thread
    ) -> str:
        await record_refusal(self.store, decision, person=person.key, chat=chat, thread=thread.id)
        return refusal(decision, holder=self.name_of(thread.status_by))

    async def claim(self, thread_id: str, person: PersonConfig, *, chat: str) -> str:
        """Claim the thread; on someone else's claim, say whose, and a second press takes it."""
        thread = await self.store.thread(thread_id)
        if thread is None:
            return messages.reply_thread_gone()
        if thread.status in (ThreadStatus.ANSWERED, ThreadStatus.DISMISSED):
            return self._closed(thread)
        decision = verdict(thread_action("claim", thread), person, thread=thread)
        if not decision.allowed:
            return await self._refused(decision, person, chat, thread)
        holder = thread.status_by if decision.action is Action.TAKE_OVER else None
        if holder is not None and decision.needs_confirmation:
            intent = self.store.keys.takeover_intent(thread_id, person.key)
            first_press = await self.store.redis.set(intent, holder, nx=True, ex=TAKEOVER_WINDOW_S)
            if first_press:
                return messages.claim_held(
                    holder=self.name_of(holder), since=_ago(thread.status_at)
                )
            await self.store.redis.delete(intent)
        try:
            await change_state(
                self.store,
                thread_id,
                status=ThreadStatus.CLAIMED,
                by=person.key,
                only_if=_unchanged(thread),
            )
        except TransitionRefused as refused:
            return self._lost_race(refused.thread, person)
        except UnknownThread:
            return messages.reply_thread_gone()
        await self._audit(person, chat, thread_id, "claimed", f"from {holder}" if holder else "")
        if holder:
            return messages.claim_taken_over(holder=self.name_of(holder))
        return messages.claim_done()

    async def release(self, thread_id: str, person: PersonConfig, *, chat: str) -> str:
        thread = await self.store.thread(thread_id)
        if thread is None:
            return messages.reply_thread_gone()
        if thread.status is not ThreadStatus.CLAIMED:
            return messages.release_not_claimed()
        decision = verdict(Action.RELEASE, person, thread=thread)
        if not decision.allowed:
            return await self._refused(decision, person, chat, thread)
        try:
            await change_state(
                self.store,
                thread_id,
                status=ThreadStatus.OPEN,
                by=person.key,
                only_if=_unchanged(thread),
            )
        except TransitionRefused as refused:
            return self._lost_race(refused.thread, person)
        await self._audit(person, chat, thread_id, "released", f"claim of {thread.status_by}")
        return messages.release_done()

    async def refuse_dismissal(
        self, thread_id: str, person: PersonConfig, *, chat: str
    ) -> str | None:
        """Why ``person`` may not dismiss the thread as it is now (audited), or None. Asked
        before the reason is, so that nobody is asked why for nothing."""
        thread = await self._dismissible(thread_id, person, chat=chat)
        return thread if isinstance(thread, str) else None

    async def _dismissible(
        self, thread_id: str, person: PersonConfig, *, chat: str
    ) -> Thread | str:
        """The thread, when ``person`` may dismiss it; otherwise what to tell them."""
        thread = await self.store.thread(thread_id)
        if thread is None:
            return messages.reply_thread_gone()
        if thread.status in (ThreadStatus.ANSWERED, ThreadStatus.DISMISSED):
            return self._closed(thread)
        decision = verdict(thread_action("dismiss", thread), person, thread=thread)
        if not decision.allowed:
            return await self._refused(decision, person, chat, thread)
        return thread

    async def dismiss(
        self, thread_id: str, person: PersonConfig, *, reason: str, note: str = "", chat: str
    ) -> str:
        if reason not in DISMISS_REASONS:
            return messages.dismiss_reason_unknown(
                [messages.dismiss_reason_label(r) for r in DISMISS_REASONS]
            )
        thread = await self._dismissible(thread_id, person, chat=chat)
        if isinstance(thread, str):
            return thread
        # Kept with the thread in English, the catalogue's key: each mirror shows it in its own
        # language (messages.status_line); the note stays as written.
        with i18n.speaking(i18n.SOURCE_LOCALE):
            label = messages.dismiss_reason_label(reason)
        noted = f" ({note.strip()[:200]})" if note.strip() else ""
        shown = label + noted
        try:
            await change_state(
                self.store,
                thread_id,
                status=ThreadStatus.DISMISSED,
                by=person.key,
                note=shown,
                only_if=_unchanged(thread),
            )
        except TransitionRefused as refused:
            return self._lost_race(refused.thread, person)
        await self._audit(person, chat, thread_id, "dismissed", shown)
        return messages.dismiss_done(reason=messages.dismiss_reason_label(reason) + noted)

    async def reassign(
        self, reference: str, supervisor: PersonConfig, target: str, *, chat: str
    ) -> str:
        """A supervisor hands a thread (by its short reference) to a named person."""
        decision = verdict(Action.ASSIGN, supervisor)
        if not decision.allowed:
            await record_refusal(self.store, decision, person=supervisor.key, chat=chat)
            return refusal(decision)
        people = {p.key: p for p in self.config().people}
        person = people.get(target.lstrip("@").lower())
        if person is None:
            return messages.assign_unknown_person(target, known=sorted(people))
        found = await find_open_thread(self.store, reference)
        if isinstance(found, Ambiguous):
            return found.question
        thread = await self.store.thread(found) if found else None
        if thread is None:
            return messages.assign_no_thread(reference)
        try:
            await change_state(
                self.store,
                thread.id,
                status=ThreadStatus.CLAIMED,
                by=person.key,
                only_if=_unchanged(thread),
            )
        except (TransitionRefused, UnknownThread):
            return messages.try_again()
        await self._audit(supervisor, chat, thread.id, "reassigned", f"to {person.key}")
        return messages.assign_done(name=self.name_of(person.key), reference=reference)

    def _closed(self, thread: Thread) -> str:
        if thread.status is ThreadStatus.ANSWERED:
            # Answered directly on the network, not from chat: nobody's name to give.
            by = self.name_of(thread.status_by) if thread.status_by else None
            return messages.reply_already_answered(by=by)
        return messages.thread_dismissed_already(
            by=self.name_of(thread.status_by), reason=thread.status_note or ""
        )

    def _lost_race(self, thread: Thread, person: PersonConfig) -> str:
        if thread.status is ThreadStatus.CLAIMED:
            if thread.status_by == person.key:
                return messages.claim_yours_already()
            return messages.claim_held(
                holder=self.name_of(thread.status_by), since=_ago(thread.status_at)
            )
        return (
            self._closed(thread) if thread.status is not ThreadStatus.OPEN else messages.try_again()
        )


@dataclass(frozen=True)
class Ambiguous:
    """A reference that fits several open threads; ``question`` lists them to choose from."""

    question: str


async def find_open_thread(store: Store, reference: str) -> str | Ambiguous | None:
    """The open thread whose reference (as the unanswered list shows it, or longer) this is;
    when it fits several, the question which one, never a guess."""
    reference = reference.strip().lower()
    if len(reference) < 4:
        return None
    found = [
        str(thread_id)
        for thread_id in await store.redis.zrange(store.keys.open_threads, 0, -1)
        if _reference_part(str(thread_id)).startswith(reference)
    ]
    if len(found) > 1:
        return Ambiguous(await _which_of(store, reference, found))
    return found[0] if found else None


async def _which_of(store: Store, reference: str, thread_ids: list[str]) -> str:
    """Each thread by a reference long enough to tell it from the others, its author and
    age (not its text: the public's words are not repeated into an answer unescaped)."""
    parts = [_reference_part(thread_id) for thread_id in thread_ids]
    apart = (n for n in range(REFERENCE_LENGTH, 17) if len({p[:n] for p in parts}) == len(parts))
    length = next(apart, 16)
    lines = []
    for thread_id in thread_ids:
        thread = await store.thread(thread_id)
        mentions = await store.thread_mentions(thread_id)
        first = min(mentions, key=lambda m: (len(m.id), m.id)) if mentions else None
        author = first.author.handle if first and first.author else "?"
        age = utcnow() - thread.created_at if thread else timedelta(0)
        lines.append(
            messages.reference_line(
                reference=_reference_part(thread_id)[:length],
                author=re.sub(r"[^A-Za-z0-9_]", "", author) or "?",
                age=messages.human_duration(age),
            )
        )
    return messages.reference_ambiguous(reference, matches=lines)


def _reference_part(thread_id: str) -> str:
    return thread_id.rpartition("-")[2]


def _unchanged(seen: Thread) -> Callable[[Thread], bool]:
    """A change decided on the thread as ``seen`` goes ahead only if it is still so."""
    return lambda current: (current.status, current.status_by) == (seen.status, seen.status_by)


def short_reference(thread_id: str) -> str:
    """Six characters that name a thread in chat (``/reachable assign 3f9a1c rina``)."""
    return _reference_part(thread_id)[:REFERENCE_LENGTH]


def _ago(moment: datetime | None) -> str:
    return messages.time_ago(utcnow() - moment if moment else timedelta(0))
