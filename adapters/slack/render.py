"""Turn a mirrored mention into a Slack Block Kit message that nobody can abuse.

Text from the public goes into ``plain_text`` objects (``emoji: false``): Slack shows those
literally, so ``<!channel>``, ``<@U…>``, ``<url|label>``, ``*bold*`` and ``:emoji:`` cannot ping,
disguise a link or change formatting. The few ``mrkdwn`` pieces we build ourselves escape every
value with :func:`escape_mrkdwn`.

A long post (X allows 25,000 characters) goes into several sections of at most 3,000 characters
each. Slack also refuses a message whose blocks carry too much text in all
(``msg_blocks_too_long``, a limit it does not document), so a post longer than one message
holds goes on in further messages in the mirror's thread, each headed "(2/3, continued)". The
post is cut in the same places whatever the thread's state: a redraw (claimed, answered) edits
the first message only, which must keep its share of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bridge.domain.models import THREAD_ACTIONS, Identity, Mention, MentionCard
from bridge.domain.textsplit import safe_cut, split_text, utf16_len
from bridge.text import messages

# Slack's limits count "characters" without saying which; UTF-16 units are never fewer than
# code points, so counting them keeps within either reading.
SECTION_TEXT_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
# The text all blocks of one message may carry. Slack refuses more with msg_blocks_too_long; a
# Slack engineer put it at 12,000 characters of text with a buffer for the blocks themselves
# (slackapi/bolt-js#2509), and a payload counted at 11,341 was refused (slackapi/bolt-js#2867).
MESSAGE_TEXT_BUDGET = 11_000
FALLBACK_TEXT_LIMIT = 300
# What the first message of a mirror keeps of that budget for everything but the post's text
# (author, route and SLA, status, buttons), whatever the thread's state; the longest a real
# config makes is well under this (the route line is held to ROUTE_LINE_LIMIT).
FRAME_ROOM = 2_000
FIRST_TEXT_ROOM = MESSAGE_TEXT_BUDGET - FRAME_ROOM
# A further message holds its heading and the text.
NEXT_TEXT_ROOM = MESSAGE_TEXT_BUDGET - 100
# Slack's limits on what forms show: a modal's title, submit and close labels; an option's
# text; a radio group's options (more go into a menu, which takes 100).
TITLE_LIMIT = 24
OPTION_TEXT_LIMIT = 75
RADIO_OPTIONS_LIMIT = 10
MENU_OPTIONS_LIMIT = 100
# The route, priority, SLA and tags line of a mirror: what the config names could make longer
# than a context element holds (3,000) together with the times and the link.
ROUTE_LINE_LIMIT = 1000

# Slack turns these words into notifications in top-level text when link_names is on, and some
# clients do it regardless; a zero-width joiner after "@" keeps them readable but inert.
_BROADCAST_WORDS = re.compile(r"@(?=(?:here|channel|everyone)\b)", re.IGNORECASE)


def escape_mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn parser treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def defuse_broadcasts(text: str) -> str:
    return _BROADCAST_WORDS.sub("@\u2060", text)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def slack_date(moment: datetime, tokens: str) -> str:
    """Slack shows this in each reader's own time zone; the fallback is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{tokens}|{fallback}>"


def _clip(text: str, limit: int, suffix: str) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(suffix)].rstrip() + suffix


def text_length(blocks: list[dict[str, Any]]) -> int:
    """The text the blocks carry in all (every text object), as Slack's total limit counts it."""

    def walk(node: Any) -> int:
        if isinstance(node, list):
            return sum(walk(item) for item in node)
        if not isinstance(node, dict):
            return 0
        own = node.get("text") if node.get("type") in ("plain_text", "mrkdwn") else None
        return (utf16_len(own) if isinstance(own, str) else 0) + sum(
            walk(value) for value in node.values() if isinstance(value, list | dict)
        )

    return walk(blocks)


def continues_block(mention: Mention, *, network: str) -> dict[str, Any]:
    """Says the post goes on beyond what is shown, with the way to read the rest on the
    ``network`` (as people call it)."""
    line = escape_mrkdwn(messages.post_continues())
    if mention.url:
        label = escape_mrkdwn(messages.open_on_network(network))
        line += f" <{escape_mrkdwn(mention.url)}|{label}>"
    return {"type": "context", "elements": [mrkdwn(line)]}


def text_blocks(
    mention: Mention, *, network: str, room: int, max_blocks: int
) -> list[dict[str, Any]]:
    """The post's text in sections of at most 3,000 characters, as much of it as ``room``
    characters and ``max_blocks`` blocks hold; a line that the post continues after a cut.
    Cuts fall between words where they can, never inside a character or an emoji."""
    text = messages.post_text(mention)
    sections = split_text(text, SECTION_TEXT_LIMIT)
    if utf16_len(text) > room or len(sections) > max_blocks:
        tail = continues_block(mention, network=network)
        room -= text_length([tail])
        shown = text[: safe_cut(text, max(room, 1))]
        sections = split_text(shown, SECTION_TEXT_LIMIT)[: max_blocks - 1]
    else:
        tail = None
    blocks = [
        {
            "type": "section",
            "block_id": f"text:{mention.id}" + (f":{number}" if number > 1 else ""),
            "text": plain(part),
        }
        for number, part in enumerate((p for p in sections if p.strip()), start=1)
    ]
    return blocks + ([tail] if tail else [])


def quote_blocks(mention: Mention, *, network: str) -> list[dict[str, Any]]:
    """The mention quoted in a form: its start, one section's worth, and a link to the rest."""
    return text_blocks(mention, network=network, room=SECTION_TEXT_LIMIT, max_blocks=2)


def _label(*candidates: str) -> dict[str, Any]:
    """The first of the candidate labels that fits a form's title or button; a handle cut in
    half would name someone else, so a shorter wording is preferred to a clipped one."""
    fitting = next((c for c in candidates if len(c) <= TITLE_LIMIT), None)
    return plain(fitting or _clip(candidates[-1], TITLE_LIMIT, "…"))


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(_clip(text, OPTION_TEXT_LIMIT, "…")), "value": value}


def fallback_text(card: MentionCard) -> str:
    """The notification and screen-reader text; it is mrkdwn, so it is escaped and defused."""
    author = card.mention.author
    who = f"{author.name} (@{author.handle})" if author else messages.unknown_author()
    text = messages.mention_summary(
        handle=card.account_handle, author=who, text=messages.post_text(card.mention)
    )
    text = _clip(" ".join(text.split()), FALLBACK_TEXT_LIMIT, "…")
    return defuse_broadcasts(escape_mrkdwn(text))


def author_block(card: MentionCard) -> dict[str, Any]:
    author = card.mention.author
    if author is None:
        return {"type": "context", "elements": [plain(messages.unknown_author())]}
    name = (author.name or author.handle) + (" ✓" if author.verified else "")
    # X allows only letters, digits and _ in a handle; nothing here relies on it.
    shown = defuse_broadcasts(escape_mrkdwn(f"@{author.handle}"))
    handle_link = (
        f"<https://x.com/{quote(author.handle, safe='')}|{shown.replace('|', '¦')}>"
        if card.mention.network == "x"
        else shown
    )
    return {
        "type": "context",
        "elements": [plain(name), mrkdwn(handle_link), plain(messages.followers(author.followers))],
    }


def details_block(card: MentionCard) -> dict[str, Any] | None:
    """Route and SLA (on a thread's first mention), when it was posted, the link to it; None
    when there is nothing to say (Slack refuses an empty context element)."""
    mention = card.mention
    parts = []
    if card.is_first_in_thread:
        route = messages.route_line(
            route=card.route, priority=card.priority, sla=card.sla, tags=card.tags
        )
        parts.append(escape_mrkdwn(_clip(route, ROUTE_LINE_LIMIT, "…")))
        if card.sla_deadline is not None:
            due = slack_date(card.sla_deadline, "{date_short_pretty} {time}")
            parts.append(messages.due_at(due))
    if mention.created_at is not None:
        posted = slack_date(mention.created_at, "{date_short_pretty} {time}")
        parts.append(messages.posted_at(posted))
    if mention.url:
        link = messages.open_on_network(card.network_name)
        parts.append(f"<{escape_mrkdwn(mention.url)}|{link}>")
    if not parts:
        return None
    return {"type": "context", "elements": [mrkdwn(" · ".join(parts))]}


def actions_block(card: MentionCard) -> dict[str, Any] | None:
    """The buttons the thread's state allows; none once it is answered or dismissed."""
    value = f"{card.thread_id}|{card.mention.id}"
    buttons = []
    for action_id in THREAD_ACTIONS[card.status]:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "value": value,
            "text": plain(
                messages.action_label(action_id, handle=card.account_handle, status=card.status)
            ),
        }
        if action_id == "reply_institution":
            button["style"] = "primary"
        buttons.append(button)
    if not buttons:
        return None
    return {"type": "actions", "block_id": f"actions:{card.mention.id}", "elements": buttons}


def status_block(card: MentionCard) -> dict[str, Any] | None:
    line = messages.status_line(card)
    if not line and not card.escalation and not card.origin_link:
        return None
    elements = [plain(text) for text in (card.escalation, line) if text]
    if card.status == "claimed" and card.status_at is not None:
        # Slack shows the time in each reader's own time zone.
        elements.append(mrkdwn(messages.claimed_since(slack_date(card.status_at, "{time}"))))
    if card.origin_link:
        link = escape_mrkdwn(card.origin_link)
        elements.append(mrkdwn(f"<{link}|{messages.escalation_origin()}>"))
    if card.answered_url:
        elements.append(mrkdwn(f"<{escape_mrkdwn(card.answered_url)}|{messages.view_reply()}>"))
    return {"type": "context", "elements": elements}


@dataclass(frozen=True)
class SlackMessage:
    """One message of a mirror: its blocks, and the notification text (``text``)."""

    blocks: list[dict[str, Any]]
    text: str


def post_parts(mention: Mention) -> list[str]:
    """The post's text, cut for the mirror's messages: the first within what the first message
    keeps for it, the others within a further message's room. Depends on the post only."""
    return split_text(messages.post_text(mention), FIRST_TEXT_ROOM, NEXT_TEXT_ROOM)


def _sections(text: str, *, block_id: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "block_id": block_id + (f":{number}" if number > 1 else ""),
            "text": plain(part),
        }
        for number, part in enumerate(
            (p for p in split_text(text, SECTION_TEXT_LIMIT) if p.strip()), start=1
        )
    ]


def mention_messages(card: MentionCard) -> list[SlackMessage]:
    """The mirror: author, the post's text, details, status and buttons; a post longer than one
    message holds goes on in further messages, posted in the mirror's thread."""
    parts = post_parts(card.mention)
    after = [b for b in (details_block(card), status_block(card), actions_block(card)) if b]
    frame = [author_block(card), *after]
    if len(parts) == 1:
        text = text_blocks(
            card.mention,
            network=card.network_name,
            room=MESSAGE_TEXT_BUDGET - text_length(frame),
            max_blocks=MESSAGE_BLOCK_LIMIT - len(frame),
        )
        return [SlackMessage([frame[0], *text, *after], fallback_text(card))]
    total, block_id = len(parts), f"text:{card.mention.id}"
    below = {"type": "context", "elements": [plain(messages.post_continues_in_thread())]}
    first = [frame[0], *_sections(parts[0], block_id=block_id), below, *after]
    out = [SlackMessage(first, fallback_text(card))]
    for number, part in enumerate(parts[1:], start=2):
        heading = messages.continued_part(number=number, total=total)
        sections = _sections(part, block_id=f"{block_id}:part{number}")
        blocks = [{"type": "context", "elements": [plain(heading)]}, *sections]
        out.append(SlackMessage(blocks, escape_mrkdwn(heading)))
    return out


def mention_blocks(card: MentionCard) -> list[dict[str, Any]]:
    """The mirror's first message (the one a redraw edits)."""
    return mention_messages(card)[0].blocks


REPLY_BLOCK = "reply"
REPLY_INPUT = "text"
IDENTITY_BLOCK = "identity"
IDENTITY_INPUT = "as"


def reply_modal(
    mention: Mention,
    *,
    network: str,
    identity: Identity,
    as_handle: str | None,
    choices: list[tuple[Identity, str]],
    link_command: str,
    callback_id: str,
    metadata: str,
) -> dict[str, Any]:
    """The reply form. ``as_handle`` is who it goes out as (None: personal, not linked yet);
    with two or more ``choices`` (identity, handle) the person picks, starting at ``identity``.
    ``network``: the mention's, as people call it."""
    author = mention.author
    who = f"{author.name} (@{author.handle})" if author else messages.unknown_author()
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [plain(messages.quote_intro(who=who))]},
        *quote_blocks(mention, network=network),
        {
            "type": "input",
            "block_id": REPLY_BLOCK,
            "label": plain(messages.reply_modal_label(network=network)),
            "element": {"type": "plain_text_input", "action_id": REPLY_INPUT, "multiline": True},
        },
    ]
    if len(choices) > 1:
        options = [
            _option(messages.identity_choice(choice.value, handle=handle), choice.value)
            for choice, handle in choices
        ]
        initial = next(o for o in options if o["value"] == identity.value)
        blocks.append(
            {
                "type": "input",
                "block_id": IDENTITY_BLOCK,
                "optional": True,
                "label": plain(messages.reply_modal_identity_label()),
                "element": {
                    "type": "radio_buttons",
                    "action_id": IDENTITY_INPUT,
                    "options": options,
                    "initial_option": initial,
                },
            }
        )
    else:
        note = messages.reply_modal_note(
            network=network, handle=as_handle, identity=identity.value, link_command=link_command
        )
        blocks.append({"type": "context", "elements": [plain(note)]})
    title = (
        _label(messages.reply_modal_title(handle=as_handle), messages.reply_modal_short_title())
        if len(choices) < 2
        else _label(messages.reply_again_title(), messages.reply_modal_short_title())
    )
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": title,
        "submit": _label(messages.reply_modal_submit()),
        "close": _label(messages.form_cancel()),
        "blocks": blocks,
    }


def chosen_identity(view: dict[str, Any]) -> Identity | None:
    """The identity picked in the form's "Post as" choice, if it had one."""
    values = view.get("state", {}).get("values", {})
    selected = (values.get(IDENTITY_BLOCK, {}).get(IDENTITY_INPUT) or {}).get("selected_option")
    value = selected.get("value") if isinstance(selected, dict) else None
    return Identity(value) if value in {i.value for i in Identity} else None


DISMISS_BLOCK, DISMISS_INPUT = "reason", "reason"
NOTE_BLOCK, NOTE_INPUT = "note", "note"


def dismiss_modal(
    mention: Mention, *, network: str, reasons: list[str], callback_id: str, metadata: str
) -> dict[str, Any]:
    """Why dismiss: a reason (required) and an optional note, the mention quoted."""
    author = mention.author
    who = f"{author.name} (@{author.handle})" if author else messages.unknown_author()
    options = [_option(messages.dismiss_reason_label(r), r) for r in reasons]
    # Slack shows up to ten as radio buttons; a longer list goes into a menu.
    choice = "radio_buttons" if len(options) <= RADIO_OPTIONS_LIMIT else "static_select"
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": _label(messages.dismiss_modal_title(), messages.dismiss_modal_submit()),
        "submit": _label(messages.dismiss_modal_submit()),
        "close": _label(messages.form_cancel()),
        "blocks": [
            {"type": "context", "elements": [plain(messages.quote_intro(who=who))]},
            *quote_blocks(mention, network=network),
            {
                "type": "input",
                "block_id": DISMISS_BLOCK,
                "label": plain(messages.dismiss_question()),
                "element": {
                    "type": choice,
                    "action_id": DISMISS_INPUT,
                    "options": options[:MENU_OPTIONS_LIMIT],
                },
            },
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "optional": True,
                "label": plain(messages.dismiss_modal_note()),
                "element": {"type": "plain_text_input", "action_id": NOTE_INPUT, "max_length": 200},
            },
        ],
    }


def dismiss_choice(view: dict[str, Any]) -> tuple[str, str]:
    """(reason, note) as filled in the dismiss form."""
    values = view.get("state", {}).get("values", {})
    selected = (values.get(DISMISS_BLOCK, {}).get(DISMISS_INPUT) or {}).get("selected_option")
    reason = selected.get("value", "") if isinstance(selected, dict) else ""
    note = (values.get(NOTE_BLOCK, {}).get(NOTE_INPUT) or {}).get("value") or ""
    return str(reason), str(note)
