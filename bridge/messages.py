"""Every sentence a person reads in chat, in one place (English; Bahasa Indonesia joins later).

Adapters take their labels and replies from here so wording stays consistent across chats.
"""

from __future__ import annotations

from datetime import timedelta

from bridge.durations import format_duration

ACTION_LABELS = {
    "reply_institution": "Reply as @{handle}",
    "reply_personal": "Reply as myself",
    "claim": "Claim",
    "release": "Release",
    "dismiss": "Dismiss",
}

ACTION_PURPOSE = {
    "reply_institution": "Replying as the institution",
    "reply_personal": "Replying from your personal account",
    "claim": "Claiming a thread",
    "release": "Releasing a thread",
    "dismiss": "Dismissing a thread",
}


def action_label(action_id: str, *, handle: str) -> str:
    return ACTION_LABELS[action_id].format(handle=handle)


def not_available_yet(action_id: str) -> str:
    purpose = ACTION_PURPOSE.get(action_id, "This action")
    return (
        f"{purpose} from chat is not available yet in this version of Reachable. "
        "The mention is still open; nothing was posted or changed."
    )


def unknown_person() -> str:
    return (
        "You are not on Reachable's staff list, so this button does nothing for you. "
        "Ask an admin to add your chat user id to the `people` section of the config."
    )


def status_line(status: str, *, by: str | None, note: str | None) -> str | None:
    """How a thread's state reads on its mirrors; None while it is simply open."""
    who = by or "someone"
    if status == "claimed":
        return f"🙋 Claimed by {who}"
    if status == "answered":
        return f"✅ Answered by {who}"
    if status == "dismissed":
        return f"🚫 Dismissed by {who}" + (f": {note}" if note else "")
    return None


def destination_unavailable(*, name: str, where: str, detail: str) -> str:
    return (
        f"⚠️ Reachable cannot post to {where} (destination '{name}'): {detail}. Mentions routed "
        "there are not delivered until this is fixed; they still reach the other destinations. "
        "Add the bot back to the chat, or change the destination in the config."
    )


def followers(count: int | None) -> str:
    if count is None:
        return "followers unknown"
    return "1 follower" if count == 1 else f"{count:,} followers"


def unknown_author() -> str:
    return "Unknown author"


def mention_heading(*, handle: str) -> str:
    return f"New mention of @{handle}"


def route_line(*, route: str, priority: str, sla: timedelta | None) -> str:
    parts = [f"Route: {route}"]
    if priority != "normal":
        parts.append(f"priority {priority}")
    if sla is not None:
        parts.append(f"SLA {format_duration(sla)}")
    return " · ".join(parts)


def open_on_network(network: str) -> str:
    return {"x": "Open on X"}.get(network, "Open the post")


def text_truncated() -> str:
    return "… (the post continues; open it to read all of it)"


def telegram_help() -> str:
    return (
        "Reachable mirrors public mentions of your institution into this group. "
        "Each mirrored mention has buttons: reply as the institution or as yourself, claim, "
        "dismiss. Replying and claiming from chat arrive in the next versions."
    )


def slash_help(command: str) -> str:
    return (
        f"*Reachable* mirrors public mentions of your institution into this chat.\n"
        f"• `{command} help`: this help\n"
        "Buttons on each mirrored mention: reply as the institution or as yourself, claim, "
        "release, dismiss. Replying, claiming and the unanswered list arrive in the next "
        "versions."
    )
