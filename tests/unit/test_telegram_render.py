"""What a mirrored mention looks like in Telegram, and that public text cannot abuse it."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from adapters.telegram import render
from adapters.telegram import texts as telegram_texts
from adapters.telegram.staff import REPLY_ACTIONS
from adapters.x import texts as x_texts
from bridge.actions import ReplyPreview
from bridge.domain.models import THREAD_ACTIONS, Author, Media, Mention, MentionCard, ThreadStatus
from bridge.text.i18n import speaking
from tests.unit.cards import mention_card


def draft(text: str, *, length: int, mention: Mention | None, limit: int = 280) -> ReplyPreview:
    """A draft as the reply desk previews it, on X."""
    too_long = x_texts.reply_too_long(length=length, limit=limit) if length > limit else None
    return ReplyPreview(
        mention=mention,
        text=text,
        length=length,
        limit=limit,
        too_long=too_long,
        network="X",
        identities=[],
        again=False,
    )


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
        network_name="X",
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
    preview = render.reply_preview(draft("Terima kasih", length=12, mention=mention))
    assert preview.startswith("Preview (12/280 characters on X):\n\nTerima kasih\n\n")
    quoted = preview.split("\n\n")[2]
    assert quoted.startswith('In answer to @warga_budi: "kata kata')
    assert quoted.endswith(
        '… the post continues. https://x.com/warga_budi/status/1900000000000000123"'
    )
    assert render.utf16_len(quoted) < 400


def test_a_reply_preview_of_a_post_of_only_photos_and_a_draft_of_4096_characters_fits() -> None:
    mention = card("").mention.model_copy(update={"media": (Media(kind="photo"),) * 2})
    long_draft = "😀" * 2048  # 4,096 UTF-16 units: the most a Telegram message holds
    preview = render.reply_preview(draft(long_draft, length=4096, mention=mention))
    assert render.utf16_len(preview) <= render.MESSAGE_LIMIT
    assert preview.startswith("3,816 characters too long for X (4096 of 280;")
    assert preview.endswith('In answer to @warga_budi: "(no text, 2 photos)"')
    with speaking("id"):
        short = render.reply_preview(draft("Baik", length=4, mention=mention))
        assert short.endswith('Menjawab @warga_budi: "(tanpa teks, 2 foto)"')


# The card's footer: the route (first mention of a thread only), when and where it was posted,
# how late it is and where it came from (on an escalation's mirror), and the thread's state.

LATER = datetime(2026, 11, 29, 9, 40, tzinfo=UTC)
POST_URL = "https://x.com/warga_budi/status/1900000000000000123"
REPLY_URL = "https://x.com/humas_demo/status/1900000000000000999"


def only_message(card: MentionCard) -> render.TelegramMessage:
    [message] = render.mention_messages(card)
    return message


def footer(card: MentionCard) -> list[str]:
    """The footer's lines as Telegram shows them, for a mention of one short paragraph."""
    return shown(only_message(card).html).split("\n\n")[2].splitlines()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href") or "", ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.found.append((self._href, self._text))
            self._href = None


def links(message_html: str) -> list[tuple[str, str]]:
    """(address, text) of each link, as an HTML parser (Telegram's, say) reads them back."""
    parser = _Links()
    parser.feed(message_html)
    parser.close()
    return parser.found


def labels(message: render.TelegramMessage) -> list[list[str]]:
    return [[button["text"] for button in row] for row in message.keyboard or []]


def test_an_open_thread_shows_no_status_line() -> None:
    assert footer(mention_card()) == [
        "Route: complaints · priority high · SLA 30m · due 29 Nov 09:30 UTC",
        "posted 29 Nov 09:00 UTC · Open on X",
    ]


def test_a_claimed_thread_says_who_is_on_it_since_when_escaped_in_bold() -> None:
    claimed = mention_card(status=ThreadStatus.CLAIMED, status_by="Rina <i>&", status_at=LATER)
    assert footer(claimed)[-1] == "🙋 Rina <i>& is on it · since 09:40 UTC"
    html_text = only_message(claimed).html
    assert html_text.endswith("\n<b>🙋 Rina &lt;i&gt;&amp; is on it · since 09:40 UTC</b>")


def test_a_claim_with_no_time_recorded_says_only_who_holds_it() -> None:
    claimed = mention_card(status=ThreadStatus.CLAIMED, status_by="Rina")
    assert footer(claimed)[-1] == "🙋 Rina is on it"


def test_a_claimed_thread_offers_take_over_and_release() -> None:
    claimed = mention_card(status=ThreadStatus.CLAIMED, status_by="Rina", status_at=LATER)
    assert labels(only_message(claimed)) == [
        ["Reply as @humas_demo", "Reply as myself"],
        ["Take over", "Release"],
        ["Dismiss"],
    ]


def test_an_answered_thread_says_who_answered_as_whom_how_fast_and_links_the_reply() -> None:
    answered = mention_card(
        status=ThreadStatus.ANSWERED,
        status_by="Rina <i>&",
        status_at=LATER,
        answered_as="humas_demo",
        answered_url=REPLY_URL,
    )
    assert footer(answered)[-1] == (
        "✅ Answered by Rina <i>& as @humas_demo · 40 minutes after the mention · View the reply"
    )
    message = only_message(answered)
    assert (REPLY_URL, "View the reply") in links(message.html)
    assert "<b>✅ Answered by Rina &lt;i&gt;&amp; as @humas_demo" in message.html
    assert labels(message) == [["Reply again"]]


def test_an_answer_made_directly_on_x_is_shown_without_a_name_or_link() -> None:
    answered = mention_card(status=ThreadStatus.ANSWERED, status_at=LATER)
    assert footer(answered)[-1] == "✅ Answered directly on X · 40 minutes after the mention"
    assert [text for _, text in links(only_message(answered).html)] == ["@warga_budi", "Open on X"]


def test_a_dismissed_thread_shows_who_and_the_note_escaped_and_has_no_buttons() -> None:
    dismissed = mention_card(
        status=ThreadStatus.DISMISSED, status_by="Sari <3", status_note="Spam (<b>bot</b> & co)"
    )
    assert footer(dismissed)[-1] == "🚫 Dismissed by Sari <3: Spam (<b>bot</b> & co)"
    message = only_message(dismissed)
    escaped = "<b>🚫 Dismissed by Sari &lt;3: Spam (&lt;b&gt;bot&lt;/b&gt; &amp; co)</b>"
    assert escaped in message.html
    assert message.keyboard is None
    with speaking("id"):
        assert footer(dismissed)[-1].startswith("🚫 ")
        assert footer(dismissed)[-1].endswith(": Spam (<b>bot</b> & co)")


def test_an_escalated_mirror_says_how_late_then_where_it_came_from_then_its_state() -> None:
    origin = "https://t.me/c/1987654321/42"
    escalated = mention_card(
        escalation="⏰ 10 minutes <late> & counting",
        origin_link=origin,
        status=ThreadStatus.CLAIMED,
        status_by="Rina",
    )
    assert footer(escalated)[2:] == [
        "⏰ 10 minutes <late> & counting",
        "Open where it was mirrored",
        "🙋 Rina is on it",
    ]
    message = only_message(escalated)
    assert "\n<b>⏰ 10 minutes &lt;late&gt; &amp; counting</b>\n" in message.html
    assert (origin, "Open where it was mirrored") in links(message.html)


def test_the_route_line_carries_the_tags_and_no_due_time_without_a_deadline() -> None:
    tagged = mention_card(tags=("banjir", "jalan"), sla_deadline=None)
    assert footer(tagged)[0] == "Route: complaints · priority high · SLA 30m · #banjir #jalan"


def test_a_later_mention_of_a_thread_leaves_the_route_out() -> None:
    assert footer(mention_card(is_first_in_thread=False)) == ["posted 29 Nov 09:00 UTC · Open on X"]


def test_a_mention_without_a_time_or_an_address_leaves_that_part_of_its_line_out() -> None:
    timeless = mention_card(mention={"created_at": None})
    assert footer(timeless)[1] == "Open on X"
    assert (POST_URL, "Open on X") in links(only_message(timeless).html)
    nowhere = mention_card(mention={"url": None})
    assert footer(nowhere)[1] == "posted 29 Nov 09:00 UTC"
    assert [text for _, text in links(only_message(nowhere).html)] == ["@warga_budi"]


def test_every_link_address_reaches_telegram_whole_even_with_quotes_and_ampersands() -> None:
    """An address is an attribute: a `"` left as is would end it, an `&` start an entity."""
    hostile = '?s=20&t="x"&lang=id'
    card = mention_card(
        mention={"url": POST_URL + hostile},
        escalation="⏰ late",
        origin_link="https://t.me/c/1987654321/42" + hostile,
        status=ThreadStatus.ANSWERED,
        status_by="Rina",
        answered_url=REPLY_URL + hostile,
    )
    assert links(only_message(card).html) == [
        ("https://x.com/warga_budi", "@warga_budi"),
        (POST_URL + hostile, "Open on X"),
        ("https://t.me/c/1987654321/42" + hostile, "Open where it was mirrored"),
        (REPLY_URL + hostile, "View the reply"),
    ]


# The header: who wrote it.


def test_the_header_links_the_author_s_handle_to_their_profile() -> None:
    message = only_message(mention_card())
    assert shown(message.html).splitlines()[0] == "Budi ✓ · @warga_budi · 1,234 followers"
    assert links(message.html)[0] == ("https://x.com/warga_budi", "@warga_budi")


def test_an_unverified_author_without_a_name_or_follower_count_is_shown_by_handle() -> None:
    plain = mention_card(mention={"author": Author(id="42", handle="warga_budi")})
    first_line = shown(only_message(plain).html).splitlines()[0]
    assert first_line == "warga_budi · @warga_budi · followers unknown"


def test_a_mention_without_an_author_says_the_author_is_unknown() -> None:
    anonymous = mention_card(mention={"author": None})
    assert shown(only_message(anonymous).html).splitlines()[0] == "Unknown author"


def test_a_hostile_handle_can_neither_break_its_link_nor_add_markup() -> None:
    hostile = 'bu"di<b>&'
    card = mention_card(mention={"author": Author(id="42", handle=hostile, name="Budi")})
    message = only_message(card)
    assert shown(message.html).splitlines()[0] == f"Budi · @{hostile} · followers unknown"
    assert links(message.html)[0] == (f"https://x.com/{hostile}", f"@{hostile}")
    assert "<b>&" not in message.html


def test_a_handle_on_a_network_without_profile_links_is_plain_escaped_text() -> None:
    elsewhere = mention_card(
        mention={"network": "mastodon", "author": Author(id="42", handle="budi<b>&")}
    ).model_copy(update={"network_name": "Mastodon"})
    message = only_message(elsewhere)
    assert shown(message.html).splitlines()[0] == "budi<b>& · @budi<b>& · followers unknown"
    assert "@budi&lt;b&gt;&amp; · " in message.html
    assert [text for _, text in links(message.html)] == ["Open on Mastodon"]


# The buttons: what the button handler parses back from each.


@pytest.mark.parametrize("status", list(ThreadStatus))
def test_every_button_names_an_action_the_handler_takes_and_the_mention(
    status: ThreadStatus,
) -> None:
    message = only_message(mention_card(status=status, status_by="Rina"))
    buttons = [button for row in message.keyboard or [] for button in row]
    parsed = [button["callback_data"].partition(":") for button in buttons]
    assert [(action, post) for action, _, post in parsed] == [
        (action, "1900000000000000123") for action in THREAD_ACTIONS[status]
    ]
    assert {action for action, _, _ in parsed} <= {*REPLY_ACTIONS, "claim", "release", "dismiss"}
    # Two a row, the last one alone when the count is odd; no keyboard at all without buttons.
    assert [len(row) for row in message.keyboard or []] == [
        min(2, len(buttons) - i) for i in range(0, len(buttons), 2)
    ]
    assert (message.keyboard is None) == (not buttons)


# Limits: every part fits in 4,096 UTF-16 units, and uses the room it has.


def test_the_first_part_fills_all_the_room_its_header_and_the_footer_room_leave() -> None:
    """A word longer than a message is cut at the limit itself: the first part holds exactly
    what the header (counted as shown: tags gone, `&amp;` one character), the footer's room
    and the two blank lines leave; each further part what its continuation line leaves."""
    text = "a" * 10_000
    parts = render.mention_messages(card(text))
    header = shown(parts[0].html).split("\n\n")[0]
    assert header == "Budi <b>& ✓ · @warga_budi · 12,345 followers"
    bodies = public_parts(parts)
    assert len(bodies[0]) == render.MESSAGE_LIMIT - len(header) - render.FOOTER_ROOM - 4
    assert len(bodies[1]) == render.MESSAGE_LIMIT - render.CONTINUATION_ROOM
    assert "".join(bodies) == text


# What a reply's preview quotes of the mention it answers.


def test_a_short_mention_is_quoted_whole() -> None:
    assert render.quote(mention_card().mention) == 'In answer to @warga_budi: "jalan rusak"'


def test_a_long_mention_is_quoted_up_to_the_last_whole_word_within_280_units() -> None:
    mention = mention_card("kata " * 100).mention
    assert render.quote(mention) == (
        'In answer to @warga_budi: "'
        + " ".join(["kata"] * 56)
        + f' … the post continues. {POST_URL}"'
    )
    no_address = mention.model_copy(update={"url": None})
    assert render.quote(no_address).endswith(' kata … the post continues."')


def test_a_mention_without_an_author_is_quoted_as_by_an_unknown_author() -> None:
    anonymous = mention_card(mention={"author": None}).mention
    assert render.quote(anonymous) == 'In answer to Unknown author: "jalan rusak"'


def test_a_reply_preview_with_no_mention_to_quote_is_the_draft_under_its_length() -> None:
    preview = render.reply_preview(draft("Baik", length=4, mention=None))
    assert preview == "Preview (4/280 characters on X):\n\nBaik"


TOO_LONG = x_texts.reply_too_long(length=5000, limit=280)


def _preview_room(quoted: str) -> int:
    """What a 5,000-character draft's preview leaves for the draft in one message."""
    frame = telegram_texts.preview(
        text="", length=5000, limit=280, network="X", too_long=TOO_LONG, quote=quoted
    )
    return render.MESSAGE_LIMIT - render.utf16_len(frame)


def test_a_reply_preview_of_exactly_one_message_keeps_its_whole_draft() -> None:
    quoted = 'In answer to @warga_budi: "jalan rusak"'
    whole = "a" * _preview_room(quoted)
    preview = render.reply_preview(draft(whole, length=5000, mention=mention_card().mention))
    assert preview == telegram_texts.preview(
        text=whole, length=5000, limit=280, network="X", too_long=TOO_LONG, quote=quoted
    )
    assert render.utf16_len(preview) == render.MESSAGE_LIMIT


def test_a_reply_preview_one_unit_too_long_shortens_its_draft_to_fit_exactly() -> None:
    quoted = 'In answer to @warga_budi: "jalan rusak"'
    room = _preview_room(quoted)
    preview = render.reply_preview(
        draft("a" * (room + 1), length=5000, mention=mention_card().mention)
    )
    kept = "a" * (room - 1) + "…"
    assert preview == telegram_texts.preview(
        text=kept, length=5000, limit=280, network="X", too_long=TOO_LONG, quote=quoted
    )
    assert render.utf16_len(preview) == render.MESSAGE_LIMIT
