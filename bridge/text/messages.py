"""Every sentence a person reads in chat, in one place, in the reader's language.

Adapters take their labels and replies from here so wording stays consistent across chats. Each
sentence goes through :mod:`bridge.text.i18n`: the English here is the key, the other languages live
in ``bridge/text/locale``. Placeholders are named (``{handle}``) so a translation may reorder them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from babel.numbers import format_percent

from bridge.domain.durations import format_duration
from bridge.domain.models import Mention, MentionCard
from bridge.text.i18n import _, ago, clock, current_locale, duration, moment, ngettext, number


def action_label(action_id: str, *, handle: str, status: str = "open") -> str:
    if action_id == "claim" and status == "claimed":
        return _("Take over")
    labels = {
        "reply_institution": _("Reply as @{handle}", handle=handle),
        "reply_personal": _("Reply as myself"),
        "reply_again": _("Reply again"),
        "claim": _("Claim"),
        "release": _("Release"),
        "dismiss": _("Dismiss"),
    }
    return labels[action_id]


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


def claim_done() -> str:
    return _("It is yours: the team sees you are on it. Release it if you cannot answer.")


def claim_yours_already() -> str:
    return _("You hold this thread already; nothing changed.")


def claim_held(*, holder: str, since: str) -> str:
    return _(
        "{holder} claimed this {since}. To take it over, press Claim again within a minute "
        "(let {holder} know).",
        holder=holder,
        since=since,
    )


def claim_taken_over(*, holder: str) -> str:
    return _("You took this over from {holder}; it is yours now.", holder=holder)


def dismiss_not_yours(*, holder: str) -> str:
    return _(
        "{holder} has claimed this; only they or a supervisor can dismiss it. Nothing changed.",
        holder=holder,
    )


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


def release_done() -> str:
    return _("Released: the thread is open for anyone again.")


def release_not_claimed() -> str:
    return _("Nobody has claimed this thread, so there is nothing to release.")


def release_not_yours(*, holder: str) -> str:
    return _("{holder} has claimed this; only they or a supervisor can release it.", holder=holder)


def dismiss_done(*, reason: str) -> str:
    return _(
        "Dismissed ({reason}). A new mention in the conversation opens it again.", reason=reason
    )


def dismiss_reason_unknown(reasons: list[str]) -> str:
    return _("Pick a reason to dismiss: {reasons}.", reasons=", ".join(reasons))


def dismiss_question() -> str:
    return _("Why dismiss this mention? It stays listed, and a new mention reopens it.")


def dismiss_reason_label(reason: str) -> str:
    return {
        "spam": _("Spam"),
        "not_for_us": _("Not for us"),
        "duplicate": _("Duplicate"),
        "other": _("Other"),
    }.get(reason, reason)


def dismiss_modal_title() -> str:
    return _("Dismiss mention")


def dismiss_modal_note() -> str:
    return _("Note for the team (optional)")


def dismissal_note(note: str) -> str:
    """A thread's dismissal note, kept as the reason's English label (the catalogue's key) and
    the note as written: the label shown in the reader's language."""
    label, bracket, rest = note.partition(" (")
    return _(label) + (bracket + rest if bracket else "")


def thread_dismissed_already(*, by: str, reason: str) -> str:
    if reason:
        return _("{by} dismissed this thread ({reason}).", by=by, reason=dismissal_note(reason))
    return _("{by} dismissed this thread.", by=by)


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


def try_again() -> str:
    return _("The thread changed just now; have a look and try again.")


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


def status_line(card: MentionCard, *, since: str | None = None) -> str | None:
    """How a thread's state reads on its mirrors; None while it is simply open. ``since`` is
    when a claim was made, as the chat shows times."""
    who = card.status_by or _("someone")
    if card.status == "claimed":
        line = _("🙋 {person} is on it", person=who)
        return line + (_(" · since {time}", time=since) if since else "")
    if card.status == "answered":
        if card.status_by is None:
            line = _("✅ Answered directly on X")
        else:
            line = _("✅ Answered by {person}", person=who)
        if card.answered_as:
            line += _(" as @{handle}", handle=card.answered_as)
        if card.status_at and card.mention.created_at:
            after = duration(card.status_at - card.mention.created_at)
            line += _(" · {duration} after the mention", duration=after)
        return line
    if card.status == "dismissed":
        if card.status_note:
            note = dismissal_note(card.status_note)
            return _("🚫 Dismissed by {person}: {note}", person=who, note=note)
        return _("🚫 Dismissed by {person}", person=who)
    return None


def destination_unavailable(*, name: str, where: str, detail: str) -> str:
    """``detail`` is a reason marked with ``N_`` where the problem was found, or the platform's
    own words (which stay as they are)."""
    detail = _(detail)
    return _(
        "⚠️ Reachable cannot post to {where} (destination '{name}'): {detail}. Mentions routed "
        "there are not delivered until this is fixed; they still reach the other destinations. "
        "Add the bot back to the chat, or change the destination in the config.",
        where=where,
        name=name,
        detail=detail,
    )


def mentions_maybe_missed(*, handle: str, count: int, since: datetime | None) -> str:
    """A backlog larger than X lets the bridge read (its timeline reaches back 800 posts)."""
    oldest = moment(since) if since else "?"
    return ngettext(
        "⚠️ @{handle} received more mentions since the last poll than X lets Reachable read "
        "back: {count} were mirrored, the oldest from {oldest}; older ones may be missing. "
        "Search X for @{handle} to find them.",
        "⚠️ @{handle} received more mentions since the last poll than X lets Reachable read "
        "back: {count} were mirrored, the oldest from {oldest}; older ones may be missing. "
        "Search X for @{handle} to find them.",
        count,
        handle=handle,
        oldest=oldest,
    )


def reply_thread_gone() -> str:
    return _("This mention is no longer tracked by Reachable; nothing was posted.")


def reply_already_queued() -> str:
    return _("This reply was already sent on its way; it goes out once. You can close this form.")


def reply_already_answered(*, by: str | None) -> str:
    if by:
        return _("{person} already answered this thread; nothing was posted.", person=by)
    return _("Someone already answered this thread; nothing was posted.")


def reply_not_allowed(*, handle: str) -> str:
    return _(
        "You may not reply as @{handle}. Ask an admin to add it to your `speaks_for` in the "
        "config, or reply as yourself.",
        handle=handle,
    )


def reply_personal_not_linked(*, link_command: str) -> str:
    return _(
        "Your personal X account is not linked to Reachable yet, so you cannot reply as "
        "yourself. Link it with {link_command} (it takes a minute), then reply again.",
        link_command=link_command,
    )


def reply_institution_rejected(*, handle: str, detail: str) -> str:
    return _(
        "X no longer accepts Reachable's credentials for @{handle} ({detail}); an admin must "
        "renew them (REACHABLE_X_ACCOUNT_TOKENS)",
        handle=handle,
        detail=detail,
    )


def reply_personal_rejected(*, handle: str) -> str:
    return _(
        "X no longer accepts the link to your account @{handle} (access revoked or expired). "
        "Link it again, then send the reply again",
        handle=handle,
    )


def reply_personal_unlinked_since() -> str:
    return _("your personal X account was unlinked before the reply could go out")


def reply_no_credentials(*, handle: str) -> str:
    return _(
        "Reachable has no posting credentials for @{handle}; an admin must set them "
        "(REACHABLE_X_ACCOUNT_TOKENS). Nothing was posted.",
        handle=handle,
    )


def reply_empty() -> str:
    return _("Write the reply first: it is empty.")


def reply_unpostable_characters() -> str:
    return _(
        "The reply holds characters that cannot be posted (broken Unicode, often from a bad "
        "copy and paste): type it again, or paste it as plain text."
    )


def reply_too_long(*, length: int, limit: int) -> str:
    return ngettext(
        "{count} character too long for X ({length} of {limit}; links count 23, CJK characters "
        "and emoji 2).",
        "{count} characters too long for X ({length} of {limit}; links count 23, CJK characters "
        "and emoji 2).",
        length - limit,
        length=length,
        limit=limit,
    )


def reply_failed(*, person: str, as_whom: str, error: str) -> str:
    return _(
        "⚠️ The reply {person} asked to post as {as_whom} could not be posted: {error}. Nothing "
        "went out; the mention is still open.",
        person=person,
        as_whom=as_whom,
        error=error,
    )


def their_own_account() -> str:
    return _("their own account")


def reply_posted(*, person: str, handle: str, text: str) -> str:
    return _("↪️ {person} replied as @{handle}:", person=person, handle=handle) + f"\n{text}"


def reply_duplicate() -> str:
    return _("X refused the reply as a duplicate of an earlier post, and it could not be found.")


def reply_modal_title(*, handle: str | None) -> str:
    if handle:
        return _("Reply as @{handle}", handle=handle)
    return _("Reply as myself")


def reply_modal_short_title() -> str:
    """The form's title where the one naming the handle is too long for the chat."""
    return _("Reply")


def reply_again_title() -> str:
    return _("Reply again")


def form_cancel() -> str:
    return _("Cancel")


def dismiss_modal_submit() -> str:
    return _("Dismiss")


def form_busy(*, seconds: int) -> str:
    """A button's form did not open because Slack asked us to slow down."""
    return ngettext(
        "Slack is busy right now and did not open the form. Press the button again in "
        "{count} second.",
        "Slack is busy right now and did not open the form. Press the button again in "
        "{count} seconds.",
        seconds,
    )


def form_not_opened() -> str:
    """A button's form did not open because Slack did not answer in time."""
    return _("Slack did not answer in time and the form did not open. Press the button again.")


def reply_modal_label() -> str:
    return _("Your reply (public, on X)")


def reply_modal_submit() -> str:
    return _("Post reply")


def reply_modal_identity_label() -> str:
    return _("Post as")


def identity_choice(identity: str, *, handle: str) -> str:
    if identity == "institution":
        return _("@{handle} (the institution)", handle=handle)
    return _("@{handle} (yourself)", handle=handle)


def reply_modal_note(*, handle: str | None, identity: str, link_command: str) -> str:
    if handle is None:
        return _(
            "Your personal X account is not linked yet. Link it with {link_command}, then reply "
            "again.",
            link_command=link_command,
        )
    if identity == "institution":
        return _(
            "The reply is posted publicly on X as @{handle}, under the post above.", handle=handle
        )
    return _("The reply is posted publicly on X from your own account @{handle}.", handle=handle)


def reply_no_identity(*, handle: str, link_command: str) -> str:
    return _(
        "You may not reply as @{handle}, and no X account of yours is linked. Link yours with "
        "{link_command} to reply as yourself.",
        handle=handle,
        link_command=link_command,
    )


def reply_queued(*, handle: str | None) -> str:
    if handle is None:
        return _("Posting your reply. The mirrors will show it once it is out.")
    return _(
        "Posting your reply as @{handle}. The mirrors will show it once it is out.", handle=handle
    )


def telegram_write_reply(*, name: str) -> str:
    return _("{name}, write your reply to this mention as an answer to this message.", name=name)


def telegram_preview(*, text: str, length: int, limit: int, quote: str | None = None) -> str:
    """The draft as it would go out, under its length on X; ``quote`` (what it answers) last."""
    if length > limit:
        too_long = reply_too_long(length=length, limit=limit)
        preview = too_long + " " + _("Shorten it and send it again.") + f"\n\n{text}"
    else:
        heading = _("Preview ({length}/{limit} characters on X):", length=length, limit=limit)
        preview = f"{heading}\n\n{text}"
    return f"{preview}\n\n{quote}" if quote else preview


def replying_to(*, author: str, text: str) -> str:
    """Which post a draft answers: its author and the start of its text."""
    return _('In answer to {author}: "{text}"', author=author, text=text)


def telegram_send_as(identity: str, *, handle: str) -> str:
    if identity == "institution":
        return _("Send as @{handle}", handle=handle)
    return _("Send as me (@{handle})", handle=handle)


def telegram_cancel() -> str:
    return _("Cancel")


def telegram_cancelled() -> str:
    return _("Cancelled: nothing was posted.")


def telegram_draft_gone() -> str:
    return _("This preview has expired or was already sent; write the reply again.")


def telegram_not_your_draft() -> str:
    return _("Only the person who wrote this reply can send or cancel it.")


def view_reply() -> str:
    return _("View the reply")


def followers(count: int | None) -> str:
    if count is None:
        return _("followers unknown")
    return ngettext("{count} follower", "{count} followers", count)


def unknown_author() -> str:
    return _("Unknown author")


def quote_intro(*, who: str) -> str:
    """Above a mention quoted in a form."""
    return _("{who} wrote:", who=who)


def route_line(
    *, route: str, priority: str, sla: timedelta | None, tags: tuple[str, ...] = ()
) -> str:
    parts = [_("Route: {route}", route=route)]
    if priority != "normal":
        parts.append(_("priority {priority}", priority=priority_name(priority)))
    if sla is not None:
        parts.append(_("SLA {sla}", sla=format_duration(sla)))
    if tags:
        parts.append(" ".join(f"#{tag}" for tag in tags))
    return " · ".join(parts)


def mention_summary(*, handle: str, author: str, text: str) -> str:
    """The one line a notification or a screen reader gets for a mirrored mention."""
    return _(
        "New mention of @{handle} by {author}: {text}", handle=handle, author=author, text=text
    )


def due_at(when: str) -> str:
    return _("due {when}", when=when)


def posted_at(when: str) -> str:
    return _("posted {when}", when=when)


def claimed_since(when: str) -> str:
    return _("since {when}", when=when)


def priority_name(priority: str) -> str:
    """A route's priority as the reader says it (the config keeps the English keyword)."""
    return {
        "low": _("low"),
        "normal": _("normal"),
        "high": _("high"),
        "urgent": _("urgent"),
    }.get(priority, priority)


def open_on_network(network: str) -> str:
    return _("Open on X") if network == "x" else _("Open the post")


def post_continues() -> str:
    """After the start of a post too long for the chat to show whole; the link to the post
    (:func:`open_on_network`, or its address) follows it."""
    return _("… the post continues.")


def post_continues_in_thread() -> str:
    """Below the start of a post too long for one chat message; the rest follows in the
    message's thread."""
    return _("The post continues in the thread, below.")


def continued_part(*, number: int, total: int) -> str:
    """Heads each further message of a post too long for one message."""
    return _("({number}/{total}, continued)", number=number, total=total)


def media_count(kind: str, count: int) -> str:
    if kind == "photo":
        return ngettext("{count} photo", "{count} photos", count)
    if kind == "video":
        return ngettext("{count} video", "{count} videos", count)
    if kind == "animated_gif":
        return ngettext("{count} GIF", "{count} GIFs", count)
    return ngettext("{count} attachment", "{count} attachments", count)


def no_text(media_kinds: Sequence[str] = ()) -> str:
    """What a post of only attachments shows in place of its text: "(no text, 2 photos)"."""
    if not media_kinds:
        return _("(no text)")
    media = ", ".join(media_count(kind, n) for kind, n in Counter(media_kinds).items())
    return _("(no text, {media})", media=media)


def quoted_post(text: str, media_kinds: Sequence[str] = ()) -> str:
    """A public text on one line of a list, inert through ``repr``; a post without words says
    what it holds instead ("(no text, 2 photos)") rather than showing ``''``."""
    return repr(text) if text.strip() else no_text(media_kinds)


def post_text(mention: Mention) -> str:
    """A mention's text as readers see it: its words, or, when it has none, what it holds
    instead. Never empty, so no chat is asked to show an empty text."""
    if mention.text.strip():
        return mention.text
    return no_text([item.kind for item in mention.media])


def telegram_help() -> str:
    return _(
        "Reachable mirrors public mentions of your institution into this group. Each mirrored "
        "mention has buttons: reply as the institution or as yourself, claim, release, dismiss. "
        "You can also answer a mirrored mention with your text; I show a preview with the send "
        "buttons.\n\n"
        "In a private chat with me:\n"
        "/link: connect your own X account, to reply as yourself\n"
        "/pin 1234567: finish linking with the PIN X shows you\n"
        "/unlink: disconnect it\n\n"
        "/unanswered: open threads, oldest first\n"
        "/show <ref>: post a thread here with its buttons (one folded into a burst digest, say)\n"
        "/assign <ref> <person>: for supervisors, hand a thread to someone (or answer a mirrored "
        "mention with /assign <person>)\n"
        "For admins: /rules (the routing rules), /route <text> (where it would go), /reload "
        "(reload the config)"
    )


def telegram_command_descriptions() -> dict[str, str]:
    """What Telegram shows next to each command in the menu."""
    return {
        "help": _("What Reachable does and how to use it"),
        "link": _("Connect your own X account (private chat)"),
        "unlink": _("Disconnect your X account (private chat)"),
        "unanswered": _("Open threads, oldest first"),
        "show": _("Post a thread here by its reference, to answer it"),
        "assign": _("Supervisors: hand a thread to someone"),
        "rules": _("Admins: the routing rules"),
        "route": _("Admins: where a text would be routed"),
        "reload": _("Admins: reload the config file"),
    }


def slash_help(command: str) -> str:
    return _(
        "*Reachable* mirrors public mentions of your institution into this chat.\n"
        "• `{command} link`: connect your own X account, to reply as yourself\n"
        "• `{command} pin 1234567`: finish linking with the PIN X shows you\n"
        "• `{command} unlink`: disconnect it\n"
        "• `{command} unanswered [page]`: open threads, oldest first\n"
        "• `{command} show <ref>`: post a thread here with its buttons (one folded into a burst "
        "digest, say)\n"
        "• `{command} assign <ref> <person>`: for supervisors, hand a thread to someone\n"
        "• `{command} rules`, `{command} route <text>`, `{command} reload`: for admins, the "
        "routing rules, where a text would go, and reloading the config\n"
        "• `{command} help`: this help\n"
        "Buttons on each mirrored mention: reply as the institution or as yourself, claim (or "
        "take over), release, dismiss.",
        command=command,
    )


# -- reports -------------------------------------------------------------------------------------


def percent(share: float) -> str:
    return format_percent(share, locale=current_locale())


def report_title(*, start: str, end: str) -> str:
    return _("Reachable report, {start} to {end}", start=start, end=end)


def report_retention_note(*, kept: timedelta, before: str) -> str:
    """A report reaching back past what is kept of closed threads."""
    return _(
        "Threads are kept {kept} after they are answered or dismissed (retention: threads, in "
        "the config): the figures before {before} lack those closed more than {kept} ago.",
        kept=duration(kept),
        before=before,
    )


def report_mentions(*, mentions: int, threads: int) -> str:
    return ngettext(
        "Mentions: {mentions} in {count} thread",
        "Mentions: {mentions} in {count} threads",
        threads,
        mentions=number(mentions),
    )


def report_answered(*, answered: int, threads: int, share: float) -> str:
    return _(
        "Answered: {answered} of {threads} ({share})",
        answered=number(answered),
        threads=number(threads),
        share=percent(share),
    )


def report_first_response(*, median: str, p90: str) -> str:
    return _("Time to first response: median {median}, p90 {p90}", median=median, p90=p90)


def report_breaches(count: int) -> str:
    return _("SLA breaches: {count}", count=number(count))


def report_folded(threads: int) -> str:
    return ngettext(
        "Came in bursts, folded into digests: {count} thread",
        "Came in bursts, folded into digests: {count} threads",
        threads,
    )


def report_identities(counts: dict[str, int]) -> str:
    names = {"institution": _("institution"), "personal": _("personal")}
    shown = ", ".join(f"{names.get(kind, kind)} {number(n)}" for kind, n in counts.items())
    return _("Replies as: {identities}", identities=shown or _("none"))


def report_directly_on_x() -> str:
    return _("directly on X")


def report_by_account() -> str:
    return _("By account")


def report_by_route() -> str:
    return _("By route")


def report_by_person() -> str:
    return _("By person (first answers)")


def report_columns() -> list[str]:
    return [_("threads"), _("answered"), _("median"), _("p90"), _("breaches")]


# -- configuration -------------------------------------------------------------------------------


def config_refused(*, path: str, problems: list[str]) -> str:
    shown = problems[:10]
    text = ngettext(
        "⚠️ The new config {path} has {count} problem, so the previous rules stay live. Fix "
        "the file (check it with `reachable config check`); it is reloaded when it changes.",
        "⚠️ The new config {path} has {count} problems, so the previous rules stay live. Fix "
        "the file (check it with `reachable config check`); it is reloaded when it changes.",
        len(problems),
        path=path,
    )
    text += "\n" + "\n".join(f"• {p}" for p in shown)
    if len(problems) > len(shown):
        text += "\n" + _("…and {more} more", more=len(problems) - len(shown))
    return text


def admin_only(verb: str) -> str:
    return _(
        "Sorry, only Reachable's admins may use {verb}. Ask one of them, or an admin can add "
        "`admin` to your roles in the config.",
        verb=verb,
    )


def admin_route_usage(chat: str) -> str:
    command = "/reachable route" if chat == "slack" else "/route"
    return _(
        "Write the text to test after the command, like: {command} @humas_demo jalan rusak",
        command=command,
    )


def admin_reload_unavailable() -> str:
    return _(
        "This bridge was started without a config file to reload; restart it with --config "
        "(or REACHABLE_CONFIG) to reload from chat."
    )


def admin_reloaded(*, changed: bool, needs_restart: list[str]) -> str:
    if not changed:
        return _("The config file is unchanged; the rules that are live stay as they are.")
    text = _("✅ The new config is live in every process.")
    if needs_restart:
        text += " " + _("Not yet: {what}.", what="; ".join(needs_restart))
    return text


# -- linking a personal account -------------------------------------------------------------------


def chat_command(chat: str, verb: str) -> str:
    """How a person writes a command in this chat: ``/reachable show`` in Slack, ``/show`` in
    Telegram."""
    return f"/reachable {verb}" if chat == "slack" else f"/{verb}"


def burst_digest(
    *,
    count: int,
    since: datetime,
    sample: list[tuple[str, str, str]],
    chat: str,
) -> str:
    """A digest of folded mentions: ``sample`` holds (reference, author handle, text) of a few;
    the text is already inert (shown through ``repr``)."""
    lines = [
        ngettext(
            "📥 Burst: {count} more mention since {since} is folded here instead of posted on "
            "its own, because mentions are coming faster than this chat can show them.",
            "📥 Burst: {count} more mentions since {since} are folded here instead of posted one "
            "by one, because mentions are coming faster than this chat can show them.",
            count,
            since=clock(since),
        )
    ]
    if sample:
        lines.append(_("The most urgent and oldest of them:"))
        lines += [f"• [{reference}] @{author}: {text}" for reference, author, text in sample]
    lines.append(
        _(
            "Each one is an open thread: {list_command} lists them; {show_command} <ref> posts "
            "one here with its buttons, to answer it.",
            list_command=chat_command(chat, "unanswered"),
            show_command=chat_command(chat, "show"),
        )
    )
    return "\n".join(lines)


def show_usage(*, command: str) -> str:
    return _(
        "Write the thread's reference after the command, like {command} 3f2a9c (the unanswered "
        "list and burst digests show it in brackets).",
        command=command,
    )


def show_no_thread(reference: str) -> str:
    return _(
        "No open thread has the reference {reference}. The unanswered list shows the open ones.",
        reference=reference,
    )


def show_not_a_destination() -> str:
    return _("This chat is not one of Reachable's destinations, so nothing can be shown here.")


def show_queued(*, author: str) -> str:
    return _("The mention of @{author} is on its way here, with its buttons.", author=author)


def show_on_its_way() -> str:
    return _("That thread's message is already on its way to this chat.")


def show_already_here(*, link: str | None) -> str:
    if link:
        return _("That thread is already shown in this chat: {link}", link=link)
    return _("That thread is already shown in this chat.")


def link_command(chat: str) -> str:
    return "`/reachable link`" if chat == "slack" else _("/link in a private chat with me")


def link_offer(
    *, start_url: str | None, pin_url: str | None, pin_command: str, current: str | None
) -> str:
    lines = []
    if current:
        lines.append(
            _("Your X account @{handle} is linked now; linking again replaces it.", handle=current)
        )
    if start_url:
        lines.append(
            _(
                "Open this link to connect your own X account (valid 10 minutes, once). It is "
                "yours alone: do not forward it, whoever finishes it gives you their account:"
            )
            + f"\n{start_url}"
        )
    if pin_url:
        if start_url:
            lead = _(
                "No access to that page? Or: open this link, approve Reachable, and send me the "
                "PIN X shows you as {pin_command} (valid 15 minutes):",
                pin_command=pin_command,
            )
        else:
            lead = _(
                "Open this link, approve Reachable, and send me the PIN X shows you as "
                "{pin_command} (valid 15 minutes):",
                pin_command=pin_command,
            )
        lines.append(f"{lead}\n{pin_url}")
    lines.append(
        _(
            "Reachable posts from your account only when you press a reply button, and you can "
            "unlink at any time."
        )
    )
    return "\n\n".join(lines)


def chat_name(chat: str) -> str:
    """A chat platform's own name, as its users know it."""
    return {"slack": "Slack", "telegram": "Telegram"}.get(chat, chat)


def unlink_command(chat: str) -> str:
    return "`/reachable unlink`" if chat == "slack" else "/unlink"


def link_start_title() -> str:
    return _("Link an X account to Reachable")


def link_start_whom(*, person: str, chat: str, user_id: str) -> str:
    return _(
        "You are linking an X account to {person} ({chat} {user_id}).",
        person=person,
        chat=chat,
        user_id=user_id,
    )


def link_start_warning(*, person: str) -> str:
    return _(
        "Whichever X account approves Reachable on the next page, {person} can then post from it "
        "through Reachable. If you are not {person}, or someone sent you this link, close this "
        "page.",
        person=person,
    )


def link_start_continue() -> str:
    return _("Continue to X")


def link_start_foreign() -> str:
    return _(
        "This request did not come from Reachable's linking page, so nothing was started. Open "
        "the link the bot sent you and press the button there."
    )


def link_other_browser() -> str:
    return _(
        "This link was finished in a different browser from the one it was started in, so "
        "nothing was linked. If you asked for it, ask the bot for a new link and finish it in "
        "one browser. If someone sent it to you, do not use it: it would give them your X "
        "account."
    )


def link_account_taken(*, handle: str) -> str:
    return _(
        "@{handle} is already linked to another person in Reachable, so nothing was linked. An X "
        "account can be linked to one person only: they must unlink it first.",
        handle=handle,
    )


def link_notice(*, handle: str, unlink_command: str) -> str:
    return _(
        "🔗 The X account @{handle} is now linked to you in Reachable: “Reply as myself” posts "
        "from it. If you did not do this, unlink it at once with {unlink_command} and tell an "
        "admin.",
        handle=handle,
        unlink_command=unlink_command,
    )


def link_working() -> str:
    return _("One moment…")


def link_done(*, handle: str) -> str:
    return _(
        "Your X account @{handle} is linked. You can now reply to mentions as yourself with the "
        "“Reply as myself” buttons. You can close this page.",
        handle=handle,
    )


def link_done_in_chat(*, handle: str) -> str:
    return _(
        "✅ Your X account @{handle} is linked. Use “Reply as myself” on a mention to answer from "
        "it.",
        handle=handle,
    )


def link_not_set_up() -> str:
    return _(
        "Linking personal accounts is not set up on this Reachable: an admin must give it X app "
        "credentials (REACHABLE_X_OAUTH_CLIENT_ID with REACHABLE_PUBLIC_URL, or the consumer "
        "keys)."
    )


def link_network_refused(detail: str) -> str:
    return _(
        "X did not accept the link ({detail}). Try again in a minute; nothing was changed.",
        detail=detail,
    )


def link_web_expired() -> str:
    return _(
        "This link has expired or was already used. Ask the bot for a new one (/reachable link "
        "in Slack, /link in Telegram)."
    )


def link_web_declined() -> str:
    return _("You did not approve Reachable on X, so nothing was linked.")


def link_pin_malformed() -> str:
    return _("A PIN is the digits X showed you, like `/pin 1234567`.")


def link_pin_expired() -> str:
    return _(
        "I have no link waiting for a PIN from you (it lasts 15 minutes). Ask for a new one with "
        "the link command first."
    )


def link_pin_refused(detail: str) -> str:
    return _(
        "X did not accept that PIN ({detail}). Ask for a new link and try again; each PIN works "
        "once.",
        detail=detail,
    )


def link_page_done_title() -> str:
    return _("Account linked")


def link_page_failed_title() -> str:
    return _("Linking did not work")


def link_private_only() -> str:
    return _("Send /link to me in a private chat: links to your account are not for a group.")


def unlinked(*, handle: str) -> str:
    return _(
        "Your X account @{handle} is unlinked; its tokens are deleted from Reachable. You can "
        "also remove Reachable under Connected apps in your X settings.",
        handle=handle,
    )


def nothing_to_unlink() -> str:
    return _("No X account of yours is linked, so there is nothing to unlink.")
