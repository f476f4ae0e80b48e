"""The mirrored mention as everyone in a chat reads it: text, buttons, status, parts, digests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bridge.domain.durations import format_duration
from bridge.domain.models import Mention, MentionCard
from bridge.text.i18n import _, clock, duration, ngettext


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


def dismissal_note(note: str) -> str:
    """A thread's dismissal note, kept as the reason's English label (the catalogue's key) and
    the note as written: the label shown in the reader's language."""
    label, bracket, rest = note.partition(" (")
    return _(label) + (bracket + rest if bracket else "")


def status_line(card: MentionCard, *, since: str | None = None) -> str | None:
    """How a thread's state reads on its mirrors; None while it is simply open. ``since`` is
    when a claim was made, as the chat shows times."""
    who = card.status_by or _("someone")
    if card.status == "claimed":
        line = _("🙋 {person} is on it", person=who)
        return line + (_(" · since {time}", time=since) if since else "")
    if card.status == "answered":
        if card.status_by is None:
            line = _("✅ Answered directly on {network}", network=card.network_name)
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


def replying_to(*, author: str, text: str) -> str:
    """Which post a draft answers: its author and the start of its text."""
    return _('In answer to {author}: "{text}"', author=author, text=text)


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
    """``network``: as people call it ("X")."""
    return _("Open on {network}", network=network)


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


def burst_digest(
    *,
    count: int,
    since: datetime,
    sample: list[tuple[str, str, str]],
    command: Callable[[str], str],
) -> str:
    """A digest of folded mentions: ``sample`` holds (reference, author handle, text) of a few;
    the text is already inert (shown through ``repr``). ``command`` writes a verb as a command
    of the chat it is posted in."""
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
            list_command=command("unanswered"),
            show_command=command("show"),
        )
    )
    return "\n".join(lines)
