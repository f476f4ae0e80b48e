"""What a mirrored mention looks like in Telegram, and that public text cannot abuse it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from adapters.telegram import render
from bridge.models import Author, Mention, MentionCard, ThreadStatus


def card(text: str, *, first: bool = True) -> MentionCard:
    mention = Mention(
        network="x",
        id="1900000000000000123",
        account="humas",
        text=text,
        author=Author(
            id="42", handle="warga_budi", name="Budi <b>&", verified=True, followers=12345
        ),
        created_at=datetime(2026, 11, 29, 9, 0, tzinfo=UTC),
        url="https://x.com/warga_budi/status/1900000000000000123",
        conversation_id="1900000000000000123",
    )
    return MentionCard(
        mention=mention,
        thread_id="x-humas-abc",
        account_handle="humas_demo",
        route="complaints",
        priority="high",
        sla=timedelta(minutes=30),
        sla_deadline=datetime(2026, 11, 29, 9, 30, tzinfo=UTC),
        is_first_in_thread=first,
    )


def shown(message_html: str) -> str:
    """What Telegram shows for our markup: tags gone, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", message_html))


def test_card_shows_author_text_route_link_and_buttons() -> None:
    [message] = render.mention_messages(card("<!channel> <b>x</b> & @here"))
    assert shown(message.html).splitlines() == [
        "Budi <b>& ✓ · @warga_budi · 12,345 followers",
        "",
        "<!channel> <b>x</b> & @here",
        "",
        "Route: complaints · priority high · SLA 30m · due 29 Nov 09:30 UTC",
        "posted 29 Nov 09:00 UTC · Open on X",
    ]
    assert "&lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp; @here" in message.html
    assert message.keyboard == [
        [
            {
                "text": "Reply as @humas_demo",
                "callback_data": "reply_institution:1900000000000000123",
            },
            {"text": "Reply as myself", "callback_data": "reply_personal:1900000000000000123"},
        ],
        [
            {"text": "Claim", "callback_data": "claim:1900000000000000123"},
            {"text": "Dismiss", "callback_data": "dismiss:1900000000000000123"},
        ],
    ]
    assert all(len(b["callback_data"].encode()) <= 64 for row in message.keyboard for b in row)


def test_a_long_post_is_split_into_parts_that_each_fit() -> None:
    text = ("kata " * 2000).strip()
    messages = render.mention_messages(card(text))
    assert len(messages) == 3
    assert all(render.utf16_len(shown(m.html)) <= render.MESSAGE_LIMIT for m in messages)
    assert messages[1].keyboard is None and shown(messages[1].html).startswith("(2/3, continued)")
    body = [shown(messages[0].html).split("\n\n")[1]]
    body += [shown(m.html).split("\n", 1)[1] for m in messages[1:]]
    assert "".join(body) == text


def test_a_long_post_is_cut_in_the_same_places_whatever_its_thread_becomes() -> None:
    """A claim, an answer or an escalation redraws only the first part: if its longer footer
    moved the cut, the words between the two cuts would vanish from the chat."""
    text = " ".join(f"kalimat{n}" for n in range(1200))
    posted = render.mention_messages(card(text))
    at = datetime(2026, 11, 29, 9, 40, tzinfo=UTC)
    later = [
        {
            "status": ThreadStatus.CLAIMED,
            "status_by": "Rina Wulandari Kusumaningtyas",
            "status_at": at,
        },
        {
            "status": ThreadStatus.ANSWERED,
            "status_by": "Rina Wulandari Kusumaningtyas",
            "status_at": at,
            "answered_as": "humas_demo",
            "answered_url": "https://x.com/humas_demo/status/1900000000000000999",
            "escalation": "⏰ 10 minutes late (SLA 30m, route complaints)",
        },
        {
            "status": ThreadStatus.DISMISSED,
            "status_by": "Sari",
            "status_note": "spam (" + "n" * 200 + ")",
        },
    ]
    for update in later:
        redrawn = render.mention_messages(card(text).model_copy(update=update))
        assert [m.html for m in redrawn[1:]] == [m.html for m in posted[1:]]
        assert shown(redrawn[0].html).split("\n\n")[1] == shown(posted[0].html).split("\n\n")[1]
        assert render.utf16_len(shown(redrawn[0].html)) <= render.MESSAGE_LIMIT
