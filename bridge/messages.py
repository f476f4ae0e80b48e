"""Every sentence a person reads in chat, in one place (English; Bahasa Indonesia joins later).

Adapters take their labels and replies from here so wording stays consistent across chats.
"""

from __future__ import annotations

from datetime import timedelta

from bridge.durations import format_duration
from bridge.models import MentionCard

ACTION_LABELS = {
    "reply_institution": "Reply as @{handle}",
    "reply_personal": "Reply as myself",
    "reply_again": "Reply again",
    "claim": "Claim",
    "release": "Release",
    "dismiss": "Dismiss",
}

ACTION_PURPOSE = {
    "reply_institution": "Replying as the institution",
    "reply_personal": "Replying from your personal account",
    "reply_again": "Replying again",
    "claim": "Claiming a thread",
    "release": "Releasing a thread",
    "dismiss": "Dismissing a thread",
}


def action_label(action_id: str, *, handle: str, status: str = "open") -> str:
    if action_id == "claim" and status == "claimed":
        return "Take over"
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


def human_duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days = hours // 24
    return "1 day" if days == 1 else f"{days} days"


def claim_done() -> str:
    return "It is yours: the team sees you are on it. Release it if you cannot answer."


def claim_yours_already() -> str:
    return "You have this one already."


def claim_held(*, holder: str, since: str) -> str:
    return (
        f"{holder} claimed this {since}. To take it over, press Claim again within a minute "
        f"(let {holder} know)."
    )


def claim_taken_over(*, holder: str) -> str:
    return f"You took this over from {holder}; it is yours now."


def release_done() -> str:
    return "Released: the thread is open for anyone again."


def release_not_claimed() -> str:
    return "Nobody has claimed this thread, so there is nothing to release."


def release_not_yours(*, holder: str) -> str:
    return f"{holder} has claimed this; only they or a supervisor can release it."


def dismiss_done(*, reason: str) -> str:
    return f"Dismissed ({reason}). A new mention in the conversation opens it again."


def dismiss_reason_unknown(reasons: list[str]) -> str:
    return "Pick a reason to dismiss: " + ", ".join(reasons) + "."


def dismiss_question() -> str:
    return "Why dismiss this mention? It stays listed, and a new mention reopens it."


def dismiss_reason_label(reason: str) -> str:
    return {
        "spam": "Spam",
        "not_for_us": "Not for us",
        "duplicate": "Duplicate",
        "other": "Other",
    }.get(reason, reason)


def dismiss_modal_title() -> str:
    return "Dismiss mention"


def dismiss_modal_note() -> str:
    return "Note for the team (optional)"


def thread_dismissed_already(*, by: str, reason: str) -> str:
    return f"{by} dismissed this thread" + (f" ({reason})" if reason else "") + "."


def assign_supervisors_only() -> str:
    return "Only supervisors may hand a thread to someone; claim it yourself instead."


def assign_unknown_person(name: str, *, known: list[str]) -> str:
    return f"There is nobody called {name!r} on the staff list (known: {', '.join(known)})."


def assign_no_thread(reference: str) -> str:
    return (
        f"No open thread matches [{reference}]. Copy the reference from the unanswered list, "
        "like /reachable assign 3f9a1c rina."
    )


def assign_usage(*, command: str) -> str:
    return f"Write the thread's reference and the person, like {command} 3f9a1c rina."


def assign_done(*, name: str, reference: str) -> str:
    return f"Thread [{reference}] is now {name}'s; every mirror shows it."


def try_again() -> str:
    return "The thread changed just now; have a look and try again."


def escalation_line(*, late: str, sla: timedelta, route: str) -> str:
    return f"⏰ {late} past its SLA ({format_duration(sla)}, route {route})"


def escalation_origin() -> str:
    return "Open where it was mirrored"


def escalation_reminder(*, late: str, claimed_by: str | None) -> str:
    who = f"{claimed_by} is on it" if claimed_by else "nobody has claimed it"
    return f"⏰ Still unanswered, {late} past its SLA; {who}."


def unanswered_none() -> str:
    return "Nothing is waiting: every thread is answered or dismissed. 🎉"


def unanswered_heading(*, first: int, last: int, total: int) -> str:
    return f"Unanswered threads, oldest first ({first} to {last} of {total}):"


def unanswered_more(*, command: str) -> str:
    return f"More: {command}"


def unanswered_usage(*, command: str) -> str:
    return f"Write a page number after the command, like {command} 2."


def status_line(card: MentionCard, *, since: str | None = None) -> str | None:
    """How a thread's state reads on its mirrors; None while it is simply open. ``since`` is
    when a claim was made, as the chat shows times."""
    who = card.status_by or "someone"
    if card.status == "claimed":
        return f"🙋 {who} is on it" + (f" · since {since}" if since else "")
    if card.status == "answered":
        line = "✅ Answered directly on X" if card.status_by is None else f"✅ Answered by {who}"
        if card.answered_as:
            line += f" as @{card.answered_as}"
        if card.status_at and card.mention.created_at:
            after = human_duration(card.status_at - card.mention.created_at)
            line += f" · {after} after the mention"
        return line
    if card.status == "dismissed":
        return f"🚫 Dismissed by {who}" + (f": {card.status_note}" if card.status_note else "")
    return None


def destination_unavailable(*, name: str, where: str, detail: str) -> str:
    return (
        f"⚠️ Reachable cannot post to {where} (destination '{name}'): {detail}. Mentions routed "
        "there are not delivered until this is fixed; they still reach the other destinations. "
        "Add the bot back to the chat, or change the destination in the config."
    )


def reply_thread_gone() -> str:
    return "This mention is no longer tracked by Reachable; nothing was posted."


def reply_already_queued() -> str:
    return "This reply was already sent on its way; it goes out once. You can close this form."


def reply_already_answered(*, by: str | None) -> str:
    return f"{by or 'Someone'} already answered this thread; nothing was posted."


def reply_not_allowed(*, handle: str) -> str:
    return (
        f"You may not reply as @{handle}. Ask an admin to add it to your `speaks_for` in "
        "the config, or reply as yourself."
    )


def reply_personal_not_linked(*, link_command: str) -> str:
    return (
        "Your personal X account is not linked to Reachable yet, so you cannot reply as "
        f"yourself. Link it with {link_command} (it takes a minute), then reply again."
    )


def reply_institution_rejected(*, handle: str, detail: str) -> str:
    return (
        f"X no longer accepts Reachable's credentials for @{handle} ({detail}); an admin must "
        "renew them (REACHABLE_X_ACCOUNT_TOKENS)"
    )


def reply_personal_rejected(*, handle: str) -> str:
    return (
        f"X no longer accepts the link to your account @{handle} (access revoked or expired). "
        "Link it again, then send the reply again"
    )


def reply_personal_unlinked_since() -> str:
    return "your personal X account was unlinked before the reply could go out"


def reply_no_credentials(*, handle: str) -> str:
    return (
        f"Reachable has no posting credentials for @{handle}; an admin must set them "
        "(REACHABLE_X_ACCOUNT_TOKENS). Nothing was posted."
    )


def reply_empty() -> str:
    return "Write the reply first: it is empty."


def reply_too_long(*, length: int, limit: int) -> str:
    over = length - limit
    unit = "character" if over == 1 else "characters"
    return (
        f"{over} {unit} too long for X ({length} of {limit}; links count 23, CJK characters "
        "and emoji 2)."
    )


def reply_failed(*, person: str, as_whom: str, error: str) -> str:
    return (
        f"⚠️ The reply {person} asked to post as {as_whom} could not be posted: {error}. "
        "Nothing went out; the mention is still open."
    )


def reply_posted(*, person: str, handle: str, text: str) -> str:
    return f"↪️ {person} replied as @{handle}:\n{text}"


def reply_duplicate() -> str:
    return "X refused the reply as a duplicate of an earlier post, and it could not be found."


def reply_modal_title(*, handle: str | None) -> str:
    return f"Reply as @{handle}"[:24] if handle else "Reply as myself"


def reply_modal_label() -> str:
    return "Your reply (public, on X)"


def reply_modal_submit() -> str:
    return "Post reply"


def reply_modal_identity_label() -> str:
    return "Post as"


def identity_choice(identity: str, *, handle: str) -> str:
    return f"@{handle} (the institution)" if identity == "institution" else f"@{handle} (yourself)"


def reply_modal_note(*, handle: str | None, identity: str, link_command: str) -> str:
    if handle is None:
        return (
            "Your personal X account is not linked yet. Link it with "
            f"{link_command}, then reply again."
        )
    if identity == "institution":
        return f"The reply is posted publicly on X as @{handle}, under the post above."
    return f"The reply is posted publicly on X from your own account @{handle}."


def reply_no_identity(*, handle: str, link_command: str) -> str:
    return (
        f"You may not reply as @{handle}, and no X account of yours is linked. "
        f"Link yours with {link_command} to reply as yourself."
    )


def reply_queued(*, handle: str | None) -> str:
    if handle is None:
        return "Posting your reply. The mirrors will show it once it is out."
    return f"Posting your reply as @{handle}. The mirrors will show it once it is out."


def telegram_write_reply(*, name: str) -> str:
    return f"{name}, write your reply to this mention as an answer to this message."


def telegram_preview(*, text: str, length: int, limit: int) -> str:
    if length > limit:
        too_long = reply_too_long(length=length, limit=limit)
        return f"{too_long} Shorten it and send it again.\n\n{text}"
    return f"Preview ({length}/{limit} characters on X):\n\n{text}"


def telegram_send_as(identity: str, *, handle: str) -> str:
    return f"Send as @{handle}" if identity == "institution" else f"Send as me (@{handle})"


def telegram_try_again() -> str:
    return "Telegram did not let me ask for your text just now; press the button again."


def telegram_cancel() -> str:
    return "Cancel"


def telegram_cancelled() -> str:
    return "Cancelled: nothing was posted."


def telegram_draft_gone() -> str:
    return "This preview has expired or was already sent; write the reply again."


def telegram_not_your_draft() -> str:
    return "Only the person who wrote this reply can send or cancel it."


def view_reply() -> str:
    return "View the reply"


def followers(count: int | None) -> str:
    if count is None:
        return "followers unknown"
    return "1 follower" if count == 1 else f"{count:,} followers"


def unknown_author() -> str:
    return "Unknown author"


def mention_heading(*, handle: str) -> str:
    return f"New mention of @{handle}"


def route_line(
    *, route: str, priority: str, sla: timedelta | None, tags: tuple[str, ...] = ()
) -> str:
    parts = [f"Route: {route}"]
    if priority != "normal":
        parts.append(f"priority {priority}")
    if sla is not None:
        parts.append(f"SLA {format_duration(sla)}")
    if tags:
        parts.append(" ".join(f"#{tag}" for tag in tags))
    return " · ".join(parts)


def open_on_network(network: str) -> str:
    return {"x": "Open on X"}.get(network, "Open the post")


def text_truncated() -> str:
    return "… (the post continues; open it to read all of it)"


def telegram_help() -> str:
    return (
        "Reachable mirrors public mentions of your institution into this group. Each mirrored "
        "mention has buttons: reply as the institution or as yourself, claim, release, "
        "dismiss. You can also answer a "
        "mirrored mention with your text; I show a preview with the send buttons.\n\n"
        "In a private chat with me:\n"
        "/link: connect your own X account, to reply as yourself\n"
        "/pin 1234567: finish linking with the PIN X shows you\n"
        "/unlink: disconnect it\n\n"
        "/unanswered: open threads, oldest first\n"
        "/assign <ref> <person>: for supervisors, hand a thread to someone (or answer a "
        "mirrored mention with /assign <person>)\n"
        "For admins: /rules (the routing rules), /route <text> (where it would go), "
        "/reload (reload the config)"
    )


def slash_help(command: str) -> str:
    return (
        f"*Reachable* mirrors public mentions of your institution into this chat.\n"
        f"• `{command} link`: connect your own X account, to reply as yourself\n"
        f"• `{command} pin 1234567`: finish linking with the PIN X shows you\n"
        f"• `{command} unlink`: disconnect it\n"
        f"• `{command} unanswered [page]`: open threads, oldest first\n"
        f"• `{command} assign <ref> <person>`: for supervisors, hand a thread to someone\n"
        f"• `{command} rules`, `{command} route <text>`, `{command} reload`: for admins, the "
        "routing rules, where a text would go, and reloading the config\n"
        f"• `{command} help`: this help\n"
        "Buttons on each mirrored mention: reply as the institution or as yourself, claim (or "
        "take over), release, dismiss."
    )


# -- configuration -------------------------------------------------------------------------------


def config_refused(*, path: str, problems: list[str]) -> str:
    shown = problems[:10]
    more = f"\n…and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    return (
        f"⚠️ The new config {path} has {len(problems)} problem(s), so the previous rules stay "
        "live. Fix the file (check it with `reachable config check`); it is reloaded when it "
        "changes.\n" + "\n".join(f"• {p}" for p in shown) + more
    )


def admin_only(verb: str) -> str:
    return (
        f"Sorry, only Reachable's admins may use {verb}. Ask one of them, or an admin can add "
        "`admin` to your roles in the config."
    )


def admin_route_usage(chat: str) -> str:
    command = "/reachable route" if chat == "slack" else "/route"
    return f"Write the text to test after the command, like: {command} @humas_demo jalan rusak"


def admin_reload_unavailable() -> str:
    return (
        "This bridge was started without a config file to reload; restart it with --config "
        "(or REACHABLE_CONFIG) to reload from chat."
    )


def admin_reloaded(*, changed: bool, needs_restart: list[str]) -> str:
    if not changed:
        return "The config file is unchanged; the rules that are live stay as they are."
    text = "✅ The new config is live in every process."
    if needs_restart:
        text += " Not yet: " + "; ".join(needs_restart) + "."
    return text


# -- linking a personal account -------------------------------------------------------------------


def link_command(chat: str) -> str:
    return "`/reachable link`" if chat == "slack" else "/link in a private chat with me"


def link_offer(
    *, web_url: str | None, pin_url: str | None, pin_command: str, current: str | None
) -> str:
    lines = []
    if current:
        lines.append(f"Your X account @{current} is linked now; linking again replaces it.")
    if web_url:
        lines.append(
            "Open this link to connect your own X account (valid 10 minutes, once):\n" + web_url
        )
    if pin_url:
        lead = "No access to that page? Or: " if web_url else ""
        lines.append(
            f"{lead}open this link, approve Reachable, and send me the PIN X shows you as "
            f"{pin_command} (valid 15 minutes):\n{pin_url}"
        )
    lines.append(
        "Reachable posts from your account only when you press a reply button, and you can "
        "unlink at any time."
    )
    return "\n\n".join(lines)


def link_working() -> str:
    return "One moment…"


def link_done(*, handle: str) -> str:
    return (
        f"Your X account @{handle} is linked. You can now reply to mentions as yourself with "
        "the “Reply as myself” buttons. You can close this page."
    )


def link_done_in_chat(*, handle: str) -> str:
    return (
        f"✅ Your X account @{handle} is linked. Use “Reply as myself” on a mention to answer "
        "from it."
    )


def link_not_set_up() -> str:
    return (
        "Linking personal accounts is not set up on this Reachable: an admin must give it X "
        "app credentials (REACHABLE_X_OAUTH_CLIENT_ID with REACHABLE_PUBLIC_URL, or the "
        "consumer keys)."
    )


def link_network_refused(detail: str) -> str:
    return f"X did not accept the link ({detail}). Try again in a minute; nothing was changed."


def link_web_expired() -> str:
    return (
        "This link has expired or was already used. Ask the bot for a new one "
        "(/reachable link in Slack, /link in Telegram)."
    )


def link_web_declined() -> str:
    return "You did not approve Reachable on X, so nothing was linked."


def link_pin_malformed() -> str:
    return "A PIN is the digits X showed you, like `/pin 1234567`."


def link_pin_expired() -> str:
    return (
        "I have no link waiting for a PIN from you (it lasts 15 minutes). Ask for a new one with "
        "the link command first."
    )


def link_pin_refused(detail: str) -> str:
    return (
        f"X did not accept that PIN ({detail}). Ask for a new link and try again; each PIN "
        "works once."
    )


def link_page_done_title() -> str:
    return "Account linked"


def link_page_failed_title() -> str:
    return "Linking did not work"


def link_private_only() -> str:
    return "Send /link to me in a private chat: links to your account are not for a group."


def unlinked(*, handle: str) -> str:
    return (
        f"Your X account @{handle} is unlinked; its tokens are deleted from Reachable. You can "
        "also remove Reachable under Connected apps in your X settings."
    )


def nothing_to_unlink() -> str:
    return "No X account of yours is linked, so there is nothing to unlink."
