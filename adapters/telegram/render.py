"""Turn a mirrored mention into Telegram messages (HTML parse mode) that nobody can abuse.

Telegram counts a message's length in UTF-16 code units after its markup is parsed, and refuses
more than 4,096. A long post is therefore split into parts, each cut where no character, emoji
sequence or entity is broken; the first part carries the header and the buttons, the others
follow as replies to it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from adapters.telegram import texts
from bridge.actions import ReplyPreview
from bridge.domain.models import THREAD_ACTIONS, Mention, MentionCard
from bridge.domain.textsplit import safe_cut, split_text, utf16_len
from bridge.text import i18n, messages

MESSAGE_LIMIT = 4096
# Parts after the first say where they belong; keep room for that line.
CONTINUATION_ROOM = 40
# Room the first part keeps for its footer whatever the thread's state. The footer grows when
# the thread is claimed, answered, dismissed (with a note of up to 200 characters) or late, and
# a redraw edits the first part only: were the text cut by the footer of the moment, the words
# between the old cut and the new one would vanish from the chat (or show twice). The longest
# footer we can make from a real config is under 500 units.
FOOTER_ROOM = 700
# How much of a mention a reply preview quotes, in UTF-16 units: enough to recognise it.
QUOTE_LIMIT = 280


def escape(text: str) -> str:
    """Escape public text for Telegram HTML: only ``&``, ``<`` and ``>`` are special there."""
    return html.escape(text, quote=False)


def _when(moment: datetime) -> str:
    return i18n.moment(moment)


def _header(card: MentionCard) -> str:
    author = card.mention.author
    if author is None:
        return escape(messages.unknown_author())
    name = f"<b>{escape(author.name or author.handle)}</b>" + (" ✓" if author.verified else "")
    handle = escape(f"@{author.handle}")
    if card.mention.network == "x":
        href = html.escape(f"https://x.com/{author.handle}", quote=True)
        handle = f'<a href="{href}">{handle}</a>'
    return f"{name} · {handle} · {escape(messages.followers(author.followers))}"


def _footer(card: MentionCard) -> str:
    mention = card.mention
    lines = []
    if card.is_first_in_thread:
        route = messages.route_line(
            route=card.route, priority=card.priority, sla=card.sla, tags=card.tags
        )
        due = f" · {messages.due_at(_when(card.sla_deadline))}" if card.sla_deadline else ""
        lines.append(escape(route + due))
    posted = [messages.posted_at(_when(mention.created_at))] if mention.created_at else []
    link = ""
    if mention.url:
        href = html.escape(mention.url, quote=True)
        link = f'<a href="{href}">{escape(messages.open_on_network(card.network_name))}</a>'
    lines.append(" · ".join([escape(p) for p in posted] + ([link] if link else [])))
    if card.escalation:
        lines.append(f"<b>{escape(card.escalation)}</b>")
    if card.origin_link:
        href = html.escape(card.origin_link, quote=True)
        lines.append(f'<a href="{href}">{escape(messages.escalation_origin())}</a>')
    since = i18n.clock(card.status_at) if card.status_at else None
    status = messages.status_line(card, since=since)
    if status:
        link = ""
        if card.answered_url:
            href = html.escape(card.answered_url, quote=True)
            link = f' · <a href="{href}">{escape(messages.view_reply())}</a>'
        lines.append(f"<b>{escape(status)}</b>{link}")
    return "\n".join(line for line in lines if line)


def _plain_length(html_text: str) -> int:
    """UTF-16 length of what Telegram will show for our own markup (tags gone, entities decoded)."""
    return utf16_len(html.unescape(re.sub(r"<[^>]+>", "", html_text)))


@dataclass(frozen=True)
class TelegramMessage:
    html: str
    keyboard: list[list[dict[str, str]]] | None


def keyboard(card: MentionCard) -> list[list[dict[str, str]]] | None:
    """The buttons the thread's state allows, two per row (phones are narrow)."""
    buttons = [
        {
            "text": messages.action_label(action, handle=card.account_handle, status=card.status),
            "callback_data": f"{action}:{card.mention.id}",
        }
        for action in THREAD_ACTIONS[card.status]
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)] or None


def mention_messages(card: MentionCard) -> list[TelegramMessage]:
    """The message (or messages, for a long post) that mirror one mention. The text is cut in
    the same places whatever the thread's state, so a redraw of the first part fits the others."""
    header, footer = _header(card), _footer(card)
    frame = _plain_length(header) + max(_plain_length(footer), FOOTER_ROOM) + 4
    text = messages.post_text(card.mention)
    parts = split_text(text, MESSAGE_LIMIT - frame, MESSAGE_LIMIT - CONTINUATION_ROOM)
    total = len(parts)
    first = f"{header}\n\n{escape(parts[0])}\n\n{footer}"
    out = [TelegramMessage(html=first, keyboard=keyboard(card))]
    for number, part in enumerate(parts[1:], start=2):
        note = escape(messages.continued_part(number=number, total=total))
        out.append(TelegramMessage(html=f"<i>{note}</i>\n{escape(part)}", keyboard=None))
    return out


def quote(mention: Mention) -> str:
    """The start of a mention, for plain text: a post longer than that ends with where to read
    the rest."""
    text = messages.post_text(mention)
    cut = safe_cut(text, QUOTE_LIMIT)
    if cut < len(text):
        text = text[:cut].rstrip() + " " + messages.post_continues()
        text += f" {mention.url}" if mention.url else ""
    author = f"@{mention.author.handle}" if mention.author else messages.unknown_author()
    return messages.replying_to(author=author, text=text)


def reply_preview(draft: ReplyPreview) -> str:
    """The plain-text preview of a draft reply, within one Telegram message: the mention it
    answers quoted after it, and the draft itself shortened if the whole would not fit (a
    draft that long is far too long for the network anyway, and the preview says so)."""
    answers = quote(draft.mention) if draft.mention is not None else None

    def preview_of(text: str) -> str:
        return texts.preview(
            text=text,
            length=draft.length,
            limit=draft.limit,
            network=draft.network,
            too_long=draft.too_long,
            quote=answers,
        )

    preview = preview_of(draft.text)
    excess = utf16_len(preview) - MESSAGE_LIMIT
    if excess > 0:
        text = draft.text
        preview = preview_of(text[: safe_cut(text, max(utf16_len(text) - excess - 1, 0))] + "…")
    return preview
