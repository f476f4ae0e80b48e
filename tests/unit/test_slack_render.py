"""What a mirrored mention looks like in Slack, and that public text cannot abuse it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.slack import render
from bridge.messages import human_duration
from bridge.models import Author, Mention, MentionCard

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


def test_long_posts_are_cut_below_slacks_limit() -> None:
    blocks = render.mention_blocks(card("x" * 25_000))
    assert len(blocks[1]["text"]["text"]) == render.SECTION_TEXT_LIMIT


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
