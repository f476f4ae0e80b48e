"""What supervisors read: escalations, the unanswered list, assigning a thread."""

from __future__ import annotations

from datetime import timedelta

from bridge.domain.durations import format_duration
from bridge.text.i18n import _


def assign_supervisors_only() -> str:
    return _("Only supervisors may hand a thread to someone; claim it yourself instead.")


def assign_unknown_person(name: str, *, known: list[str]) -> str:
    return _(
        "There is nobody called {name} on the staff list (known: {known}).",
        name=repr(name),
        known=", ".join(known),
    )


def assign_no_thread(reference: str) -> str:
    return _(
        "No open thread matches [{reference}]. Copy the reference from the unanswered list, "
        "like /reachable assign 3f9a1c rina.",
        reference=reference,
    )


def assign_usage(*, command: str) -> str:
    return _(
        "Write the thread's reference and the person, like {command} 3f9a1c rina.", command=command
    )


def assign_done(*, name: str, reference: str) -> str:
    return _(
        "Thread [{reference}] is now {name}'s; every mirror shows it.",
        name=name,
        reference=reference,
    )


def escalation_line(*, late: str, sla: timedelta, route: str) -> str:
    return _(
        "⏰ {late} past its SLA ({sla}, route {route})",
        late=late,
        sla=format_duration(sla),
        route=route,
    )


def escalation_origin() -> str:
    return _("Open where it was mirrored")


def escalation_reminder(*, late: str, claimed_by: str | None) -> str:
    if claimed_by:
        return _(
            "⏰ Still unanswered, {late} past its SLA; {person} is on it.",
            late=late,
            person=claimed_by,
        )
    return _("⏰ Still unanswered, {late} past its SLA; nobody has claimed it.", late=late)


def unanswered_none() -> str:
    return _("Nothing is waiting: every thread is answered or dismissed. 🎉")


def unanswered_heading(*, first: int, last: int, total: int) -> str:
    return _(
        "Unanswered threads, oldest first ({first} to {last} of {total}):",
        first=first,
        last=last,
        total=total,
    )


def unanswered_more(*, command: str) -> str:
    return _("More: {command}", command=command)


def unanswered_usage(*, command: str) -> str:
    return _("Write a page number after the command, like {command} 2.", command=command)


def unanswered_late(*, late: str) -> str:
    return _("⏰ {late} past SLA", late=late)


def unanswered_due(*, left: str) -> str:
    return _("due in {left}", left=left)


def unanswered_no_sla() -> str:
    return _("no SLA")


def unanswered_line(
    *, number: int, reference: str, age: str, sla: str, route: str, claimed_by: str | None
) -> str:
    claim = _("{person} is on it", person=claimed_by) if claimed_by else _("unclaimed")
    return _(
        "{number}. [{reference}] {age} old · {sla} · {route} · {claim}",
        number=number,
        reference=reference,
        age=age,
        sla=sla,
        route=route,
        claim=claim,
    )
