"""What a mirrored mention looks like in Telegram, and that public text cannot abuse it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from adapters.telegram import render
from bridge.i18n import speaking
from bridge.models import Author, Media, Mention, MentionCard, ThreadStatus


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


def public_parts(messages: list[render.TelegramMessage]) -> list[str]:
    """The post's text as each message shows it: between the first one's header and footer,
    after the others' continuation line."""
    return [shown(messages[0].html).split("\n\n")[1]] + [
        shown(m.html).split("\n", 1)[1] for m in messages[1:]
    ]


def test_a_25000_character_post_arrives_whole_in_escaped_parts_that_each_fit() -> None:
    words = " ".join(f"<b>kata{n}</b> & <!channel>" for n in range(2000))
    text = words[:25_000]
    messages = render.mention_messages(card(text))
    assert len(messages) == 7
    assert "".join(public_parts(messages)) == text
    for number, message in enumerate(messages, start=1):
        assert render.utf16_len(shown(message.html)) <= render.MESSAGE_LIMIT
        # Only our own markup: every < and & of the post is escaped in every part.
        assert set(re.findall(r"</?([a-z]+)[^>]*>", message.html)) <= {"b", "i", "a"}
        assert "<b>kata" not in message.html and "<!channel>" not in message.html
        if number > 1:
            assert shown(message.html).startswith(f"({number}/7, continued)\n")
            assert message.keyboard is None


def test_a_post_of_only_photos_says_so_in_each_language() -> None:
    photos = card("").model_copy(
        update={
            "mention": card("").mention.model_copy(
                update={"media": (Media(kind="photo"), Media(kind="photo"))}
            )
        }
    )
    assert public_parts(render.mention_messages(photos)) == ["(no text, 2 photos)"]
    with speaking("id"):
        assert public_parts(render.mention_messages(photos)) == ["(tanpa teks, 2 foto)"]
        parts = render.mention_messages(card("kata " * 2000))
        assert shown(parts[1].html).startswith("(2/3, lanjutan)")


def test_a_reply_preview_quotes_the_start_of_a_long_mention_and_where_to_read_it() -> None:
    mention = card("kata " * 5000).mention
    preview = render.reply_preview(text="Terima kasih", length=12, limit=280, mention=mention)
    assert preview.startswith("Preview (12/280 characters on X):\n\nTerima kasih\n\n")
    quoted = preview.split("\n\n")[2]
    assert quoted.startswith('In answer to @warga_budi: "kata kata')
    assert quoted.endswith(
        '… the post continues. https://x.com/warga_budi/status/1900000000000000123"'
    )
    assert render.utf16_len(quoted) < 400


def test_a_reply_preview_of_a_post_of_only_photos_and_a_draft_of_4096_characters_fits() -> None:
    mention = card("").mention.model_copy(update={"media": (Media(kind="photo"),) * 2})
    draft = "😀" * 2048  # 4,096 UTF-16 units: the most a Telegram message holds
    preview = render.reply_preview(text=draft, length=4096, limit=280, mention=mention)
    assert render.utf16_len(preview) <= render.MESSAGE_LIMIT
    assert preview.startswith("3,816 characters too long for X (4096 of 280;")
    assert preview.endswith('In answer to @warga_budi: "(no text, 2 photos)"')
    with speaking("id"):
        short = render.reply_preview(text="Baik", length=4, limit=280, mention=mention)
        assert short.endswith('Menjawab @warga_budi: "(tanpa teks, 2 foto)"')
