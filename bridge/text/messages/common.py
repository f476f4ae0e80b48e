"""Words several readers share: durations, a thread's reference, refusals any action may get."""

from __future__ import annotations

from datetime import timedelta

from bridge.text.i18n import _, ago, duration


def not_available_yet(action_id: str) -> str:
    purposes = {
        "reply_institution": _("Replying as the institution"),
        "reply_personal": _("Replying from your personal account"),
        "reply_again": _("Replying again"),
        "claim": _("Claiming a thread"),
        "release": _("Releasing a thread"),
        "dismiss": _("Dismissing a thread"),
    }
    purpose = purposes.get(action_id) or _("This action")
    return _(
        "{purpose} from chat is not available yet in this version of Reachable. The mention is "
        "still open; nothing was posted or changed.",
        purpose=purpose,
    )


def unknown_person() -> str:
    return _(
        "You are not on Reachable's staff list, so this button does nothing for you. Ask an "
        "admin to add your chat user id to the `people` section of the config."
    )


def human_duration(delta: timedelta, *, short: bool = False) -> str:
    return duration(delta, short=short)


def time_ago(delta: timedelta) -> str:
    return ago(delta)


def not_allowed() -> str:
    return _("Your roles in the config do not allow this, so nothing changed.")


def reference_ambiguous(reference: str, *, matches: list[str]) -> str:
    """``matches`` are lines naming each thread the reference could mean."""
    return _(
        "[{reference}] matches more than one open thread; nothing changed. Write more of its "
        "reference:\n{matches}",
        reference=reference,
        matches="\n".join(matches),
    )


def reference_line(*, reference: str, author: str, age: str) -> str:
    return _(
        "[{reference}] a mention by @{author}, {age} old",
        reference=reference,
        author=author,
        age=age,
    )


def try_again() -> str:
    return _("The thread changed just now; have a look and try again.")
