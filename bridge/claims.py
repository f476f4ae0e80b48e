"""Claim, release and dismiss: so two people do not answer the same mention.

The same rules whatever the chat. A claim on a thread someone else holds does not take it: the
person is told who has it and since when, and pressing Claim again within a minute takes it
over (the confirmation). Only the holder or a supervisor releases a claim. A dismissal needs a
reason, shown on every mirror. Every action is audited; a lost race is an answer, not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bridge import audit, i18n, messages
from bridge.config import Config, PersonConfig
from bridge.models import Thread, ThreadStatus
from bridge.store import Store, utcnow
from bridge.threads import TransitionRefused, UnknownThread, change_state

log = logging.getLogger(__name__)

TAKEOVER_WINDOW_S = 60
DISMISS_REASONS = ("spam", "not_for_us", "duplicate", "other")


def is_supervisor(person: PersonConfig) -> bool:
    return "supervisor" in person.roles or "admin" in person.roles


class ThreadDesk:
    def __init__(self, store: Store, *, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    def name_of(self, key: str | None) -> str:
        return self.config().person_name(key)

    async def _audit(
        self, person: PersonConfig, chat: str, thread_id: str, outcome: str, detail: str = ""
    ) -> None:
        await audit.record(
            self.store,
            outcome=outcome,
            person=person.key,
            chat=chat,
            thread=thread_id,
            detail=detail,
        )

    async def claim(self, thread_id: str, person: PersonConfig, *, chat: str) -> str:
        """Claim the thread; on someone else's claim, say whose, and a second press takes it."""
        thread = await self.store.thread(thread_id)
        if thread is None:
            return messages.reply_thread_gone()
        if thread.status in (ThreadStatus.ANSWERED, ThreadStatus.DISMISSED):
            return self._closed(thread)
        if thread.status is ThreadStatus.CLAIMED and thread.status_by == person.key:
            return messages.claim_yours_already()
        holder = thread.status_by if thread.status is ThreadStatus.CLAIMED else None
        if holder is not None:
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
                only_if=lambda current: (
                    current.status_by == holder if holder else current.status is ThreadStatus.OPEN
                ),
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
        if thread.status_by != person.key and not is_supervisor(person):
            return messages.release_not_yours(holder=self.name_of(thread.status_by))
        holder = thread.status_by
        try:
            await change_state(
                self.store,
                thread_id,
                status=ThreadStatus.OPEN,
                by=person.key,
                only_if=lambda current: (
                    current.status is ThreadStatus.CLAIMED and current.status_by == holder
                ),
            )
        except TransitionRefused as refused:
            return self._lost_race(refused.thread, person)
        await self._audit(person, chat, thread_id, "released", f"claim of {holder}")
        return messages.release_done()

    async def dismiss(
        self, thread_id: str, person: PersonConfig, *, reason: str, note: str = "", chat: str
    ) -> str:
        if reason not in DISMISS_REASONS:
            return messages.dismiss_reason_unknown(
                [messages.dismiss_reason_label(r) for r in DISMISS_REASONS]
            )
        thread = await self.store.thread(thread_id)
        if thread is None:
            return messages.reply_thread_gone()
        if thread.status in (ThreadStatus.ANSWERED, ThreadStatus.DISMISSED):
            return self._closed(thread)
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
                only_if=lambda current: current.status in (ThreadStatus.OPEN, ThreadStatus.CLAIMED),
            )
        except TransitionRefused as refused:
            return self._lost_race(refused.thread, person)
        await self._audit(person, chat, thread_id, "dismissed", shown)
        return messages.dismiss_done(reason=messages.dismiss_reason_label(reason) + noted)

    async def reassign(
        self, reference: str, supervisor: PersonConfig, target: str, *, chat: str
    ) -> str:
        """A supervisor hands a thread (by its short reference) to a named person."""
        if not is_supervisor(supervisor):
            return messages.assign_supervisors_only()
        people = {p.key: p for p in self.config().people}
        person = people.get(target.lstrip("@").lower())
        if person is None:
            return messages.assign_unknown_person(target, known=sorted(people))
        thread_id = await self.find_open(reference)
        if thread_id is None:
            return messages.assign_no_thread(reference)
        try:
            await change_state(
                self.store,
                thread_id,
                status=ThreadStatus.CLAIMED,
                by=person.key,
                only_if=lambda current: current.status in (ThreadStatus.OPEN, ThreadStatus.CLAIMED),
            )
        except (TransitionRefused, UnknownThread):
            return messages.try_again()
        await self._audit(supervisor, chat, thread_id, "reassigned", f"to {person.key}")
        return messages.assign_done(name=self.name_of(person.key), reference=reference)

    async def find_open(self, reference: str) -> str | None:
        return await find_open_thread(self.store, reference)

    def _closed(self, thread: Thread) -> str:
        if thread.status is ThreadStatus.ANSWERED:
            return messages.reply_already_answered(by=self.name_of(thread.status_by))
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


async def find_open_thread(store: Store, reference: str) -> str | None:
    """The open thread whose short reference (as the unanswered list shows it) this is."""
    reference = reference.strip().lower()
    if len(reference) < 4:
        return None
    found = [
        str(thread_id)
        for thread_id in await store.redis.zrange(store.keys.open_threads, 0, -1)
        if short_reference(str(thread_id)).startswith(reference)
    ]
    return found[0] if len(found) == 1 else None


def short_reference(thread_id: str) -> str:
    """Six characters that name a thread in chat (``/reachable assign 3f9a1c rina``)."""
    return thread_id.rsplit("-", 1)[-1][:6]


def _ago(moment: datetime | None) -> str:
    return messages.time_ago(utcnow() - moment if moment else timedelta(0))
