"""What a mirrored mention looks like in Slack, and that public text cannot abuse it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import render
from bridge.domain.models import Author, Identity, Media, Mention, MentionCard, ThreadStatus
from bridge.text.i18n import speaking
from bridge.text.messages import human_duration
from emulators.slack.blocks import (
    MAX_MESSAGE_BLOCKS_TEXT,
    blocks_text_length,
    validate_blocks,
    validate_view,
)

HOSTILE = (
    "<!channel> *bold* _x_ ~s~ <https://evil.example|https://bank.example> @here "
    "👨‍👩‍👧 \u202eשלום <@U0RINA> &amp; :smile:"
)


def card(text: str = HOSTILE, *, name: str = "Budi <!here>", first: bool = True) -> MentionCard:
    mention = Mention(
        network="x",
        id="1900000000000000123",
        account="humas",
        text=text,
        author=Author(id="42", handle="warga_budi", name=name, verified=True, followers=12345),
        lang="in",
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


def text_objects(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"])
        found += [e for e in block.get("elements", []) if e.get("type") in ("plain_text", "mrkdwn")]
        found += [e["text"] for e in block.get("elements", []) if e.get("type") == "button"]
    return found


def test_public_text_is_shown_exactly_as_written_in_plain_text() -> None:
    blocks = render.mention_blocks(card())
    section = next(b for b in blocks if b["type"] == "section")
    assert section["text"] == {"type": "plain_text", "text": HOSTILE, "emoji": False}


def test_mrkdwn_parts_carry_no_public_markup() -> None:
    blocks = render.mention_blocks(card())
    for obj in text_objects(blocks):
        if obj["type"] == "mrkdwn":
            assert "<!channel>" not in obj["text"] and "<@" not in obj["text"]
            assert "evil.example" not in obj["text"]
    assert "<!" not in render.fallback_text(card()).replace("<!date", "")
    assert "&lt;!channel&gt;" in render.fallback_text(card())
    assert "@\u2060here" in render.fallback_text(card())


def test_card_shows_author_route_sla_link_and_buttons() -> None:
    blocks = render.mention_blocks(card())
    author = blocks[0]["elements"]
    assert author[0]["text"] == "Budi <!here> ✓" and author[0]["type"] == "plain_text"
    assert author[1]["text"] == "<https://x.com/warga_budi|@warga_budi>"
    assert author[2]["text"] == "12,345 followers"
    details = blocks[2]["elements"][0]["text"]
    assert "Route: complaints · priority high · SLA 30m" in details
    assert "<https://x.com/warga_budi/status/1900000000000000123|Open on X>" in details
    actions = [e["action_id"] for e in blocks[3]["elements"]]
    assert actions == ["reply_institution", "reply_personal", "claim", "dismiss"]
    assert blocks[3]["elements"][0]["text"]["text"] == "Reply as @humas_demo"


def test_thread_replies_skip_the_route_line() -> None:
    details = render.mention_blocks(card(first=False))[2]["elements"][0]["text"]
    assert "Route" not in details and "Open on X" in details


def numbered_words(characters: int, word: str = "kata") -> str:
    """A text of ``characters`` characters whose words are numbered, so their order shows."""
    return " ".join(f"{word}{n}" for n in range(characters))[:characters]


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def within_slacks_limits(blocks: list[dict[str, Any]]) -> None:
    """What Slack checks on a message's blocks, as the emulator holds it (the 3,000 of a
    section, the 50 blocks, the text of all blocks together)."""
    assert validate_blocks(blocks) == []
    assert len(blocks) <= 50
    assert blocks_text_length(blocks) <= MAX_MESSAGE_BLOCKS_TEXT
    for text in sections(blocks):
        assert 0 < len(text.encode("utf-16-le")) // 2 <= render.SECTION_TEXT_LIMIT


def test_a_9000_character_post_is_shown_whole_in_one_message_in_sections_in_order() -> None:
    text = numbered_words(9_000)
    (message,) = render.mention_messages(card(text))
    blocks = message.blocks
    within_slacks_limits(blocks)
    shown = sections(blocks)
    assert len(shown) >= 3 and "".join(shown) == text
    assert all(s["text"]["type"] == "plain_text" for s in blocks if s["type"] == "section")
    assert "continues" not in str(blocks)
    assert [b["type"] for b in blocks][-2:] == ["context", "actions"]  # details, then buttons


def test_a_25000_character_post_goes_on_in_the_mirrors_thread_whole_and_in_order() -> None:
    text = numbered_words(25_000)
    posted = render.mention_messages(card(text))
    assert len(posted) == 3
    for message in posted:
        within_slacks_limits(message.blocks)
    assert "".join("".join(sections(m.blocks)) for m in posted) == text
    assert "The post continues in the thread, below." in str(posted[0].blocks)
    assert [m.blocks[0]["elements"][0]["text"] for m in posted[1:]] == [
        "(2/3, continued)",
        "(3/3, continued)",
    ]
    assert all("actions" not in str(m.blocks) for m in posted[1:])  # buttons on the first only
    # A redraw edits the first message only: whatever the thread's state, it holds the same text.
    answered = card(text).model_copy(
        update={
            "status": ThreadStatus.ANSWERED,
            "status_by": "Rina Wulandari Kusumaningtyas",
            "answered_as": "humas_demo",
            "answered_url": "https://x.com/humas_demo/status/1900000000000000999",
        }
    )
    redrawn = render.mention_blocks(answered)
    within_slacks_limits(redrawn)
    assert sections(redrawn) == sections(posted[0].blocks)


def test_long_hostile_text_stays_inert_in_every_section() -> None:
    text = (HOSTILE + " ") * 400  # about 30,000 characters of markup, emoji and bidi controls
    posted = render.mention_messages(card(text))
    blocks = [block for message in posted for block in message.blocks]
    for message in posted:
        within_slacks_limits(message.blocks)
        assert "<!channel>" not in message.text and "@channel" not in message.text
    shown = sections(blocks)
    assert len(shown) > 3 and "".join(shown) == text
    for block in blocks:
        if block["type"] == "section":
            assert block["text"] == {
                "type": "plain_text",
                "text": block["text"]["text"],
                "emoji": False,
            }
    for obj in text_objects(blocks):
        if obj["type"] == "mrkdwn":
            assert "<!channel>" not in obj["text"] and "evil.example" not in obj["text"]


def test_no_section_splits_an_emoji_sequence_or_a_surrogate_pair() -> None:
    family = "👨\u200d👩\u200d👧"
    text = (family * 700 + "😀" * 700) * 3
    blocks = render.mention_blocks(card(text))
    within_slacks_limits(blocks)
    shown = sections(blocks)
    assert len(shown) > 2
    for part in shown:
        assert not part.startswith("\u200d") and not part.endswith("\u200d")
        assert part.replace(family, "").replace("😀", "") == ""


def test_a_post_of_only_photos_says_so_in_each_language() -> None:
    photos = card("", name="Budi").model_copy(
        update={
            "mention": card("").mention.model_copy(
                update={"media": (Media(kind="photo"), Media(kind="photo"))}
            )
        }
    )
    blocks = render.mention_blocks(photos)
    within_slacks_limits(blocks)
    assert sections(blocks) == ["(no text, 2 photos)"]
    assert "(no text, 2 photos)" in render.fallback_text(photos)
    with speaking("id"):
        assert sections(render.mention_blocks(photos)) == ["(tanpa teks, 2 foto)"]
    assert sections(render.mention_blocks(card(""))) == ["(no text)"]


def reply_form(mention: Mention) -> dict[str, Any]:
    return render.reply_modal(
        mention,
        network="X",
        identity=Identity.INSTITUTION,
        as_handle="humas_demo",
        choices=[],
        link_command="/reachable link",
        callback_id="reply_modal",
        metadata="{}",
    )


def test_the_reply_form_quotes_the_start_of_a_long_post_and_links_to_the_rest() -> None:
    text = numbered_words(25_000)
    form = reply_form(card(text).mention)
    assert validate_view(form) == []
    (quote,) = sections(form["blocks"])
    assert text.startswith(quote) and 2_500 < len(quote) <= render.SECTION_TEXT_LIMIT
    assert any("Open on X" in str(b) for b in form["blocks"] if b["type"] == "context")
    dismiss = render.dismiss_modal(
        card(text).mention,
        network="X",
        reasons=["spam"],
        callback_id="dismiss_modal",
        metadata="{}",
    )
    assert validate_view(dismiss) == []


def test_the_reply_form_of_a_post_of_only_photos_is_one_slack_accepts() -> None:
    mention = card("").mention.model_copy(update={"media": (Media(kind="video"),)})
    form = reply_form(mention)
    assert validate_view(form) == []
    assert sections(form["blocks"]) == ["(no text, 1 video)"]


@given(st.text(max_size=400))
def test_escaping_leaves_no_active_markup(text: str) -> None:
    escaped = render.escape_mrkdwn(text)
    assert "<" not in escaped and ">" not in escaped
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == text


def test_an_answered_thread_says_who_as_whom_how_soon_and_links_the_reply() -> None:
    answered = card().model_copy(
        update={
            "status": "answered",
            "status_by": "Rina",
            "answered_as": "humas_demo",
            "answered_url": "https://x.com/humas_demo/status/77",
            "status_at": datetime(2026, 11, 29, 9, 12, tzinfo=UTC),
        }
    )
    blocks = render.mention_blocks(answered)
    status = next(b for b in blocks if b["type"] == "context" and "Answered" in str(b))
    assert status["elements"][0]["text"] == (
        "✅ Answered by Rina as @humas_demo · 12 minutes after the mention"
    )
    assert status["elements"][1]["text"] == "<https://x.com/humas_demo/status/77|View the reply>"
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["reply_again"]


def test_durations_read_like_a_person_says_them() -> None:
    assert [human_duration(timedelta(seconds=s)) for s in (20, 720, 3600, 3900, 90000, 200000)] == [
        "under a minute",
        "12 minutes",
        "1 hour",
        "1 hour 5 minutes",
        "1 day",
        "2 days",
    ]


def test_the_forms_say_who_wrote_the_quoted_post_in_the_readers_language() -> None:
    mention = card("jalan rusak").mention
    dismiss = render.dismiss_modal(
        mention, network="X", reasons=["spam"], callback_id="d", metadata="{}"
    )
    with speaking("id"):
        reply = reply_form(mention)
    assert reply["blocks"][0]["elements"][0]["text"].endswith(" menulis:")
    assert dismiss["blocks"][0]["elements"][0]["text"].endswith(" wrote:")
