"""The pieces of a Slack mirror, one by one: the exact words a person reads, what hostile public
text cannot do, the ids and values the click handlers parse back, what is left out when a
mention lacks it, and the limits Slack puts on a message (3,000 characters a section, 50 blocks,
the text of all blocks together)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.slack import render
from bridge.domain.models import THREAD_ACTIONS, Author, MentionCard, ThreadStatus
from bridge.text.i18n import speaking
from emulators.slack.blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_BLOCKS_TEXT,
    blocks_text_length,
    validate_blocks,
)
from tests.unit.cards import POSTED, mention_card

POST_ID = "1900000000000000123"
URL = f"https://x.com/warga_budi/status/{POST_ID}"
# 2026-11-29 09:00 and 09:30 UTC, as Unix times (calendar.timegm).
POSTED_TS = 1795942800
DUE_TS = 1795944600
POSTED_DATE = f"<!date^{POSTED_TS}^{{date_short_pretty}} {{time}}|2026-11-29 09:00 UTC>"
DUE_DATE = f"<!date^{DUE_TS}^{{date_short_pretty}} {{time}}|2026-11-29 09:30 UTC>"


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": False}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def block_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["block_id"] for b in blocks if b["type"] == "section"]


def without(card: MentionCard, **mention: Any) -> MentionCard:
    return card.model_copy(update={"mention": card.mention.model_copy(update=mention)})


def details(card: MentionCard) -> str:
    """The text of the card's details line."""
    block = render.details_block(card)
    assert block is not None and block["type"] == "context" and len(block["elements"]) == 1
    return str(block["elements"][0]["text"])


def fits_one_message(blocks: list[dict[str, Any]]) -> None:
    assert validate_blocks(blocks) == []
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    assert blocks_text_length(blocks) <= MAX_MESSAGE_BLOCKS_TEXT


# Text objects and escaping


def test_public_text_goes_in_plain_text_without_emoji_codes() -> None:
    assert render.plain(":smile: <!channel>") == plain(":smile: <!channel>")


def test_our_own_markup_is_mrkdwn_taken_verbatim_so_slack_links_nothing_by_itself() -> None:
    assert render.mrkdwn("see https://x.com") == mrkdwn("see https://x.com")


def test_escaping_turns_slacks_three_control_characters_into_entities() -> None:
    # "&" first: an entity already in the text stays text, not a character.
    assert render.escape_mrkdwn("a & b <!here> &lt;") == "a &amp; b &lt;!here&gt; &amp;lt;"
    assert render.escape_mrkdwn("*bold* _it_ @x") == "*bold* _it_ @x"


@pytest.mark.parametrize("word", ["here", "channel", "everyone", "Here", "CHANNEL", "EveryOne"])
def test_broadcast_words_are_defused_in_any_case(word: str) -> None:
    assert render.defuse_broadcasts(f"hi @{word}!") == f"hi @\u2060{word}!"


def test_only_whole_broadcast_words_are_defused() -> None:
    text = "@hereafter @channels @everyones @someone @warga_budi here channel"
    assert render.defuse_broadcasts(text) == text
    assert render.defuse_broadcasts("@here @here") == "@\u2060here @\u2060here"


def test_a_date_shows_in_the_readers_zone_with_a_utc_fallback() -> None:
    expected = f"<!date^{POSTED_TS}^{{time}}|2026-11-29 09:00 UTC>"
    assert render.slack_date(POSTED, "{time}") == expected
    later = datetime(2026, 1, 2, 3, 4, 59, tzinfo=UTC)
    assert render.slack_date(later, "{date}") == "<!date^1767323099^{date}|2026-01-02 03:04 UTC>"


def test_clipping_keeps_a_text_at_its_limit_and_cuts_one_beyond_it() -> None:
    assert render._clip("abcde", 5, "…") == "abcde"
    assert render._clip("abcdef", 5, "…") == "abcd…"
    assert render._clip("abcdef", 5, "...") == "ab..."
    # No dangling space before the ellipsis.
    assert render._clip("abc def", 5, "…") == "abc…"


def test_text_length_counts_every_text_object_in_utf16_units_however_deep() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "block_id": "not text", "text": plain("ab")},
        {"type": "context", "elements": [mrkdwn("😀"), {"type": "image", "alt_text": "xx"}]},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": plain("xyz"), "value": "a|b"}],
        },
    ]
    assert render.text_length(blocks) == 2 + 2 + 3
    assert render.text_length([]) == 0
    # Only text objects count: a "text" key of another kind of object is not one.
    assert render.text_length([{"type": "button", "text": "abc"}]) == 0
    assert render.text_length([{"type": "plain_text", "text": None}]) == 0
    # Nor do the ids a select starts with.
    picker = {
        "type": "actions",
        "elements": [{"type": "multi_users_select", "initial_users": ["U0RINA", "U0BUDI"]}],
    }
    assert render.text_length([picker]) == 0


# The notification text


def test_the_notification_names_the_account_the_author_and_the_post() -> None:
    assert render.fallback_text(mention_card()) == (
        "New mention of @humas_demo by Budi (@warga_budi): jalan rusak"
    )


def test_the_notification_of_an_unknown_author_says_so() -> None:
    card = without(mention_card(), author=None)
    assert render.fallback_text(card) == (
        "New mention of @humas_demo by Unknown author: jalan rusak"
    )


def test_the_notification_is_one_line_escaped_and_defused() -> None:
    card = mention_card("jalan\n\nrusak   <!channel> &\t@everyone")
    assert render.fallback_text(card) == (
        "New mention of @humas_demo by Budi (@warga_budi): "
        "jalan rusak &lt;!channel&gt; &amp; @\u2060everyone"
    )


def test_the_notification_is_clipped_at_300_characters() -> None:
    start = "New mention of @humas_demo by Budi (@warga_budi): "
    exact = "x" * (300 - len(start))
    assert render.fallback_text(mention_card(exact)) == start + exact
    longer = render.fallback_text(mention_card(exact + "y"))
    assert longer == start + exact[:-1] + "…" and len(longer) == 300


# The author line


def test_the_author_line_links_an_x_handle_and_counts_followers() -> None:
    assert render.author_block(mention_card()) == {
        "type": "context",
        "elements": [
            plain("Budi ✓"),
            mrkdwn("<https://x.com/warga_budi|@warga_budi>"),
            plain("1,234 followers"),
        ],
    }


def test_an_author_without_a_name_or_check_mark_shows_the_handle() -> None:
    card = without(mention_card(), author=Author(id="7", handle="warga_budi", followers=1))
    elements = render.author_block(card)["elements"]
    assert elements[0] == plain("warga_budi")
    assert elements[2] == plain("1 follower")


def test_followers_unknown_when_the_network_does_not_say() -> None:
    card = without(mention_card(), author=Author(id="7", handle="b", name="B", followers=None))
    assert render.author_block(card)["elements"][2] == plain("followers unknown")


def test_an_unknown_author_is_named_as_such() -> None:
    card = without(mention_card(), author=None)
    assert render.author_block(card) == {
        "type": "context",
        "elements": [plain("Unknown author")],
    }


def test_a_handle_off_x_is_not_linked_and_is_escaped() -> None:
    author = Author(id="7", handle="a<b>&c", name="A")
    card = without(mention_card(), network="mastodon", author=author)
    assert render.author_block(card)["elements"][1] == mrkdwn("@a&lt;b&gt;&amp;c")


# The details line


def test_the_first_mention_of_a_thread_shows_route_sla_due_time_posted_time_and_link() -> None:
    assert render.details_block(mention_card()) == {
        "type": "context",
        "elements": [
            mrkdwn(
                "Route: complaints · priority high · SLA 30m"
                f" · due {DUE_DATE} · posted {POSTED_DATE} · <{URL}|Open on X>"
            )
        ],
    }


def test_a_later_mention_in_the_thread_shows_only_when_it_was_posted_and_the_link() -> None:
    card = mention_card(is_first_in_thread=False)
    assert render.details_block(card) == {
        "type": "context",
        "elements": [mrkdwn(f"posted {POSTED_DATE} · <{URL}|Open on X>")],
    }


def test_without_an_sla_there_is_no_due_time() -> None:
    card = mention_card(sla=None, sla_deadline=None, priority="normal")
    text = details(card)
    assert text == f"Route: complaints · posted {POSTED_DATE} · <{URL}|Open on X>"


def test_what_a_mention_lacks_is_left_out_of_the_details() -> None:
    no_time = without(mention_card(), created_at=None)
    assert details(no_time) == (
        f"Route: complaints · priority high · SLA 30m · due {DUE_DATE} · <{URL}|Open on X>"
    )
    no_link = without(mention_card(), url=None)
    assert details(no_link) == (
        f"Route: complaints · priority high · SLA 30m · due {DUE_DATE} · posted {POSTED_DATE}"
    )


def test_a_later_mention_without_time_or_link_has_no_details_line() -> None:
    # An empty context element is one Slack refuses: the line is left out instead.
    card = without(mention_card(is_first_in_thread=False), created_at=None, url=None)
    assert render.details_block(card) is None
    blocks = render.mention_blocks(card)
    fits_one_message(blocks)
    assert [b["type"] for b in blocks] == ["context", "section", "actions"]


def test_the_route_line_is_escaped_and_clipped_to_1000_characters() -> None:
    card = mention_card(route="r&d<x>", tags=tuple(f"tag{n:03d}" for n in range(200)))
    text = details(card)
    route = text.split(" · due ")[0]
    assert route.startswith("Route: r&amp;d&lt;x&gt; · priority high · SLA 30m · #tag000 #tag001")
    # 1,000 characters before escaping (each of "&", "<", ">" takes 3 or 4 more after).
    assert len(route) == 1000 + 4 + 3 + 3 and route.endswith("…")
    exact = mention_card(route="r" * 993, priority="normal", sla=None, sla_deadline=None)
    assert details(exact).startswith("Route: " + "r" * 993 + " · posted")
    beyond = mention_card(route="r" * 994, priority="normal", sla=None, sla_deadline=None)
    assert details(beyond).startswith("Route: " + "r" * 992 + "… · posted")


def test_the_link_to_a_post_is_escaped_and_named_after_its_network() -> None:
    card = without(mention_card(is_first_in_thread=False), url="https://e.example/?a=1&b=<2>")
    assert details(card).endswith("<https://e.example/?a=1&amp;b=&lt;2&gt;|Open on X>")
    other = without(mention_card(is_first_in_thread=False), network="mastodon")
    other = other.model_copy(update={"network_name": "Mastodon"})
    assert details(other).endswith(f"<{URL}|Open on Mastodon>")


# The buttons


@pytest.mark.parametrize("status", [ThreadStatus.OPEN, ThreadStatus.CLAIMED, ThreadStatus.ANSWERED])
def test_every_button_carries_the_thread_and_mention_the_handlers_parse_back(
    status: ThreadStatus,
) -> None:
    block = render.actions_block(mention_card(status=status))
    assert block is not None
    assert block["type"] == "actions" and block["block_id"] == f"actions:{POST_ID}"
    assert [b["action_id"] for b in block["elements"]] == list(THREAD_ACTIONS[status])
    for button in block["elements"]:
        assert button["type"] == "button"
        # As the Slack adapter reads a press: thread, "|", mention.
        thread_id, _, mention_id = str(button["value"]).partition("|")
        assert (thread_id, mention_id) == (f"x-humas-{POST_ID}", POST_ID)


def test_an_open_thread_offers_reply_claim_and_dismiss_replying_as_the_account_first() -> None:
    block = render.actions_block(mention_card())
    assert block is not None
    labels = [b["text"] for b in block["elements"]]
    assert labels == [
        plain("Reply as @humas_demo"),
        plain("Reply as myself"),
        plain("Claim"),
        plain("Dismiss"),
    ]
    assert [b.get("style") for b in block["elements"]] == ["primary", None, None, None]


def test_a_claimed_thread_offers_take_over_and_release() -> None:
    block = render.actions_block(mention_card(status=ThreadStatus.CLAIMED))
    assert block is not None
    labels = [b["text"]["text"] for b in block["elements"]]
    assert labels == ["Reply as @humas_demo", "Reply as myself", "Take over", "Release", "Dismiss"]


def test_an_answered_thread_offers_to_reply_again_and_a_dismissed_one_nothing() -> None:
    block = render.actions_block(mention_card(status=ThreadStatus.ANSWERED))
    assert block is not None
    assert block["elements"] == [
        {
            "type": "button",
            "action_id": "reply_again",
            "value": f"x-humas-{POST_ID}|{POST_ID}",
            "text": plain("Reply again"),
        }
    ]
    dismissed = mention_card(status=ThreadStatus.DISMISSED, status_by="Rina")
    assert render.actions_block(dismissed) is None
    assert all(b["type"] != "actions" for b in render.mention_blocks(dismissed))


# The status line


def test_an_open_thread_has_no_status_line() -> None:
    assert render.status_block(mention_card()) is None
    assert [b["type"] for b in render.mention_blocks(mention_card())] == [
        "context",
        "section",
        "context",
        "actions",
    ]


def test_a_claim_says_who_and_since_when_in_the_readers_zone() -> None:
    card = mention_card(
        status=ThreadStatus.CLAIMED, status_by="Rina", status_at=POSTED + timedelta(minutes=5)
    )
    assert render.status_block(card) == {
        "type": "context",
        "elements": [
            plain("🙋 Rina is on it"),
            mrkdwn("since <!date^1795943100^{time}|2026-11-29 09:05 UTC>"),
        ],
    }
    unknown_time = mention_card(status=ThreadStatus.CLAIMED, status_by="Rina")
    assert render.status_block(unknown_time) == {
        "type": "context",
        "elements": [plain("🙋 Rina is on it")],
    }


def test_only_a_claim_shows_since_when() -> None:
    card = mention_card(
        status=ThreadStatus.DISMISSED, status_by="Rina", status_at=POSTED + timedelta(minutes=5)
    )
    assert render.status_block(card) == {
        "type": "context",
        "elements": [plain("🚫 Dismissed by Rina")],
    }


def test_an_escalated_mirror_says_how_late_and_links_where_it_was_mirrored() -> None:
    card = mention_card(
        escalation="⏰ 3 hours past its SLA",
        origin_link="https://reachable.slack.com/archives/C0HUMAS/p1?a=1&b=2",
    )
    assert render.status_block(card) == {
        "type": "context",
        "elements": [
            plain("⏰ 3 hours past its SLA"),
            mrkdwn(
                "<https://reachable.slack.com/archives/C0HUMAS/p1?a=1&amp;b=2"
                "|Open where it was mirrored>"
            ),
        ],
    }


def test_the_escalation_and_the_link_back_each_make_a_status_line_alone() -> None:
    late = mention_card(escalation="⏰ late")
    assert render.status_block(late) == {"type": "context", "elements": [plain("⏰ late")]}
    linked = mention_card(origin_link="https://s.example/p1")
    assert render.status_block(linked) == {
        "type": "context",
        "elements": [mrkdwn("<https://s.example/p1|Open where it was mirrored>")],
    }


def test_the_status_elements_come_in_reading_order() -> None:
    card = mention_card(
        status=ThreadStatus.ANSWERED,
        status_by="Rina",
        answered_as="humas_demo",
        answered_url="https://x.com/humas_demo/status/9?x=<1>&y",
        escalation="⏰ late",
        origin_link="https://s.example/p1",
    )
    block = render.status_block(card)
    assert block is not None
    assert block["elements"] == [
        plain("⏰ late"),
        plain("✅ Answered by Rina as @humas_demo"),
        mrkdwn("<https://s.example/p1|Open where it was mirrored>"),
        mrkdwn("<https://x.com/humas_demo/status/9?x=&lt;1&gt;&amp;y|View the reply>"),
    ]


# The post's text


def test_the_line_after_a_cut_post_links_to_the_rest() -> None:
    assert render.continues_block(mention_card().mention, network="X") == {
        "type": "context",
        "elements": [mrkdwn(f"… the post continues. <{URL}|Open on X>")],
    }
    other = without(mention_card(), network="mastodon", url="https://m.example/@a?b&c").mention
    assert render.continues_block(other, network="Mastodon")["elements"][0]["text"] == (
        "… the post continues. <https://m.example/@a?b&amp;c|Open on Mastodon>"
    )
    no_link = without(mention_card(), url=None).mention
    assert render.continues_block(no_link, network="X") == {
        "type": "context",
        "elements": [mrkdwn("… the post continues.")],
    }


def test_sections_are_numbered_after_the_first_for_unique_block_ids() -> None:
    text = "x" * 7000
    blocks = render.text_blocks(mention_card(text).mention, network="X", room=11_000, max_blocks=10)
    assert block_ids(blocks) == [f"text:{POST_ID}", f"text:{POST_ID}:2", f"text:{POST_ID}:3"]
    assert sections(blocks) == ["x" * 3000, "x" * 3000, "x" * 1000]
    assert all(b["text"] == plain(b["text"]["text"]) for b in blocks)


def test_a_text_exactly_as_long_as_the_room_is_shown_whole() -> None:
    mention = mention_card("x" * 500).mention
    assert sections(render.text_blocks(mention, network="X", room=500, max_blocks=1)) == ["x" * 500]
    assert sections(render.text_blocks(mention, network="X", room=499, max_blocks=2)) != ["x" * 500]
    cut = render.text_blocks(mention_card("x" * 501).mention, network="X", room=500, max_blocks=2)
    assert cut[-1] == render.continues_block(mention, network="X")
    # The line that says so takes its share of the room.
    assert render.text_length(cut) <= 500
    assert sections(cut) == ["x" * (500 - render.text_length([cut[-1]]))]


def test_a_text_in_more_sections_than_blocks_allowed_keeps_one_for_the_line_after_it() -> None:
    mention = mention_card("x" * 7000).mention
    assert len(render.text_blocks(mention, network="X", room=11_000, max_blocks=3)) == 3
    blocks = render.text_blocks(mention, network="X", room=11_000, max_blocks=2)
    assert sections(blocks) == ["x" * 3000]
    assert blocks[-1] == render.continues_block(mention, network="X")


def test_even_no_room_shows_the_first_character_of_a_post() -> None:
    blocks = render.text_blocks(mention_card("abcdef").mention, network="X", room=1, max_blocks=5)
    assert sections(blocks) == ["a"]
    assert blocks[-1]["type"] == "context"


def test_a_blank_stretch_of_a_post_makes_no_empty_section() -> None:
    # A section of only spaces would show as an empty box: the stretch is left out.
    blocks = render.text_blocks(
        mention_card(" " * 3000 + "x").mention, network="X", room=11_000, max_blocks=5
    )
    assert [(b["block_id"], b["text"]["text"]) for b in blocks] == [(f"text:{POST_ID}", "x")]


def test_a_form_quotes_one_section_of_a_post_and_links_to_the_rest() -> None:
    whole = mention_card("x" * 3000).mention
    assert sections(render.quote_blocks(whole, network="X")) == ["x" * 3000]
    assert render.quote_blocks(whole, network="X")[-1]["type"] == "section"
    longer = mention_card("x" * 3001).mention
    quoted = render.quote_blocks(longer, network="X")
    assert [b["type"] for b in quoted] == ["section", "context"]
    assert render.text_length(quoted) <= render.SECTION_TEXT_LIMIT
    assert sections(quoted) == ["x" * (3000 - render.text_length([quoted[-1]]))]
    many = mention_card("x" * 2000 + " " + "y" * 2000).mention
    assert [b["type"] for b in render.quote_blocks(many, network="X")] == ["section", "context"]


# A long post across messages


def test_a_post_is_cut_for_the_first_message_at_9000_characters_then_at_10900() -> None:
    assert render.post_parts(mention_card("x" * 9000).mention) == ["x" * 9000]
    assert render.post_parts(mention_card("x" * 9001).mention) == ["x" * 9000, "x"]
    assert render.post_parts(mention_card("x" * 19_901).mention) == [
        "x" * 9000,
        "x" * 10_900,
        "x",
    ]


def test_a_post_of_9000_characters_is_one_message_in_three_sections() -> None:
    (message,) = render.mention_messages(mention_card("x" * 9000))
    assert message.text == render.fallback_text(mention_card("x" * 9000))
    assert [b["type"] for b in message.blocks] == [
        "context",
        "section",
        "section",
        "section",
        "context",
        "actions",
    ]
    assert "continues" not in str(message.blocks)
    fits_one_message(message.blocks)


def test_a_longer_post_goes_on_in_numbered_messages_in_the_thread() -> None:
    text = "x" * 9000 + "y" * 10_900 + "z" * 3500
    card = mention_card(text)
    first, second, third = render.mention_messages(card)
    assert first.text == render.fallback_text(card)
    assert [b["type"] for b in first.blocks] == [
        "context",
        "section",
        "section",
        "section",
        "context",
        "context",
        "actions",
    ]
    assert first.blocks[0] == render.author_block(card)
    assert first.blocks[4] == {
        "type": "context",
        "elements": [plain("The post continues in the thread, below.")],
    }
    assert first.blocks[5] == render.details_block(card)
    assert block_ids(first.blocks) == [f"text:{POST_ID}", f"text:{POST_ID}:2", f"text:{POST_ID}:3"]
    assert "".join(sections(first.blocks)) == "x" * 9000

    assert second.text == "(2/3, continued)"
    assert second.blocks[0] == {"type": "context", "elements": [plain("(2/3, continued)")]}
    assert block_ids(second.blocks) == [
        f"text:{POST_ID}:part2",
        f"text:{POST_ID}:part2:2",
        f"text:{POST_ID}:part2:3",
        f"text:{POST_ID}:part2:4",
    ]
    assert sections(second.blocks) == ["y" * 3000] * 3 + ["y" * 1900]
    assert third.text == "(3/3, continued)"
    assert block_ids(third.blocks) == [f"text:{POST_ID}:part3", f"text:{POST_ID}:part3:2"]
    assert sections(third.blocks) == ["z" * 3000, "z" * 500]
    for message in (first, second, third):
        fits_one_message(message.blocks)


def test_a_further_message_says_where_it_stands_in_the_readers_language() -> None:
    with speaking("id"):
        messages = render.mention_messages(mention_card("x" * 9001))
    assert messages[1].text == "(2/2, lanjutan)"
    assert messages[0].blocks[4]["elements"] == [plain("Unggahan berlanjut di utas, di bawah.")]


def test_a_blank_stretch_in_a_further_message_makes_no_section() -> None:
    card = mention_card("x" * 9000 + " " * 3000 + "y")
    _, second = render.mention_messages(card)
    assert [(b["block_id"], b["text"]["text"]) for b in second.blocks[1:]] == [
        (f"text:{POST_ID}:part2", "y")
    ]


def test_a_redraw_edits_the_first_message() -> None:
    card = mention_card("x" * 9000 + "y")
    assert render.mention_blocks(card) == render.mention_messages(card)[0].blocks


def test_a_frame_larger_than_its_room_still_leaves_the_message_within_slacks_text_limit() -> None:
    # The status line is not held to FRAME_ROOM: were it ever that long, the post is cut (with a
    # link to the rest) rather than the message refused.
    card = mention_card(
        "x" * 9000, escalation="⏰ " + "l" * 2900, origin_link="https://s.example/" + "p" * 2000
    )
    (message,) = render.mention_messages(card)
    fits_one_message(message.blocks)
    assert render.text_length(message.blocks) <= render.MESSAGE_TEXT_BUDGET
    assert render.continues_block(card.mention, network="X") in message.blocks
    shown = "".join(sections(message.blocks))
    assert shown and shown != "x" * 9000 and shown + "x" * (9000 - len(shown)) == "x" * 9000


def test_a_letter_under_thousands_of_combining_marks_is_cut_at_the_limits() -> None:
    # One grapheme longer than any limit cannot stay whole: it is cut where the limit falls, not
    # one character at a time (which made a message, or a section, for every mark).
    text = "a" + "\u0301" * 24_999
    card = mention_card(text)
    assert [len(part) for part in render.post_parts(card.mention)] == [9000, 10_900, 5100]
    posted = render.mention_messages(card)
    assert len(posted) == 3
    for message in posted:
        fits_one_message(message.blocks)
    assert [len(s) for s in sections(posted[0].blocks)] == [3000, 3000, 3000]
    assert "".join("".join(sections(m.blocks)) for m in posted) == text
    quoted = render.quote_blocks(card.mention, network="X")
    assert [b["type"] for b in quoted] == ["section", "context"]
    assert text.startswith(sections(quoted)[0]) and len(sections(quoted)[0]) > 2900


def test_a_hostile_x_handle_can_neither_break_its_link_nor_ping_the_channel() -> None:
    """X allows only letters, digits and _ in a handle; the mirror does not rely on it."""
    author = Author(id="7", handle="a|<!channel>@here&x/y", name="A")
    card = without(mention_card(), author=author)

    link = render.author_block(card)["elements"][1]["text"]

    assert link == (
        "<https://x.com/a%7C%3C%21channel%3E%40here%26x%2Fy|@a¦&lt;!channel&gt;@\u2060here&amp;x/y>"
    )
