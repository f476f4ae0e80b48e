"""Public posts built to break things: every renderer and parser survives them, and they
render as inert text.

Markup of every chat format, bidi controls, ZWJ sequences, lone surrogates, NUL, 100 KB
posts, ids beyond 2**53, garbage in X's JSON, media URLs aimed at loopback or cloud metadata.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import render as slack
from adapters.telegram import render as telegram
from adapters.x.convert import mentions_from_response
from bridge.domain.models import Media, MentionCard, neutral
from tests.unit.cards import mention_card

MARKUP = [
    "<!channel>",
    "<!here>",
    "<@U0RINA>",
    "<#C0SUPER>",
    "<https://evil.example|https://bank.example>",
    "*bold* _it_ ~s~ `code` ```block```",
    "<b>bold</b> <a href='https://evil.example'>x</a> &amp; &lt;",
    "[x](https://evil.example) **md** __u__ ||spoiler||",
    "\u202eevil\u202c \u2066isolate\u2069 \u200f",
    "👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 🇮🇩",
    "\ud800 lone \udfff surrogates",
    "nul\x00byte",
    "@everyone @here :smile: #hashtag",
]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=600),
    st.lists(st.sampled_from(MARKUP), min_size=1, max_size=8).map(" ".join),
    st.text(
        alphabet=st.sampled_from(list("<>&*_~`|[]()!@#\\\u202e\u200d\x00\ud800")), max_size=200
    ),
)
BIG_ID = "18446744073709551615"  # 2**64 - 1: far beyond what a float keeps exactly
LOOPBACK_MEDIA = [
    "http://127.0.0.1:6379/",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://[::1]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "file:///etc/passwd",
]


def card(text: str, name: str = "Budi", *, status: str = "open") -> MentionCard:
    return mention_card(
        text,
        name=name,
        post_id=BIG_ID,
        followers=2**60,
        mention={"media": tuple(Media(kind="photo", url=url) for url in LOOPBACK_MEDIA)},
        status=status,
        status_by="rina" if status != "open" else None,
        status_note=text[:50] if status == "dismissed" else None,
    )


# Our own markup in mrkdwn: links we build and Slack's date tokens.
OURS = re.compile(r"<(https://[^|<>\s]+)\|[^<>]*>|<!date\^\d+\^[^|<>]*\|[^<>]*>")


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        for item in [block.get("text"), *block.get("elements", [])]:
            if isinstance(item, dict) and item.get("type") == "mrkdwn":
                found.append(str(item["text"]))
    return found


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE_TEXT, name=HOSTILE_TEXT, status=st.sampled_from(["open", "dismissed"]))
def test_slack_renders_anything_as_inert_encodable_text(text: str, name: str, status: str) -> None:
    shown = card(text, name, status=status)
    blocks = slack.mention_blocks(shown)
    fallback = slack.fallback_text(shown)
    payload = json.dumps({"blocks": blocks, "text": fallback}, ensure_ascii=False)
    payload.encode("utf-8")  # what slack-sdk sends: no lone surrogate may survive
    for mrkdwn in [*mrkdwn_texts(blocks), fallback]:
        rest = OURS.sub("", mrkdwn)
        assert "<" not in rest and ">" not in rest, mrkdwn  # no <!channel>, <@U…>, <#C…>, links
    assert all(len(str(t.get("text", ""))) <= 3000 for b in blocks for t in [b.get("text") or {}])
    assert BIG_ID in json.dumps(blocks)  # ids pass through exactly, never as floats


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE_TEXT, name=HOSTILE_TEXT)
def test_telegram_renders_anything_as_inert_html_within_its_limits(text: str, name: str) -> None:
    messages = telegram.mention_messages(card(text, name))
    for message in messages:
        json.dumps(message.html, ensure_ascii=False).encode("utf-8")
        tags = re.findall(r"</?([a-z]+)[^>]*>", message.html)
        assert set(tags) <= {"b", "i", "a", "code", "pre"}, tags
        hrefs = re.findall(r'<a href="([^"]*)"', message.html)
        assert all(h.startswith("https://x.com/") for h in hrefs), hrefs
        shown = html.unescape(re.sub(r"<[^>]+>", "", message.html))
        assert len(shown.encode("utf-16-le")) // 2 <= 4096
        for row in message.keyboard or []:
            for button in row:
                assert len(button["callback_data"].encode()) <= 64  # Telegram's limit


def test_a_100_kb_post_of_markup_is_cut_to_fit_and_stays_inert() -> None:
    text = ("<!channel> <b>x</b> \u202e 👨\u200d👩\u200d👧 " * 4000)[:100_000]
    blocks = slack.mention_blocks(card(text))
    assert len(json.dumps(blocks)) < 40_000
    parts = telegram.mention_messages(card(text))
    assert 1 < len(parts) <= 30, "a huge post is split, within reason"
    assert all("<!channel>" not in OURS.sub("", m) for m in mrkdwn_texts(blocks))


def test_media_urls_aimed_at_internal_addresses_are_never_shown_or_fetched() -> None:
    shown = card("look at this")
    rendered = json.dumps(slack.mention_blocks(shown)) + "".join(
        m.html for m in telegram.mention_messages(shown)
    )
    for url in LOOPBACK_MEDIA:
        assert url not in rendered
    # Nothing downloads them: media is read only as "has media" (routing) and "with media" (rules
    # reports); no code outside the X converter touches a media URL.
    import pathlib

    sources = [
        p for top in ("bridge", "adapters", "app", "cli") for p in pathlib.Path(top).rglob("*.py")
    ]
    for path in sources:
        if path.name == "convert.py":
            continue
        assert ".url" not in re.findall(r"media[\w.\[\]]*", path.read_text()), path


def test_lone_surrogates_and_nul_become_a_replacement_character_at_the_boundary() -> None:
    body = {
        "data": [
            {
                "id": BIG_ID,
                "text": "halo \ud83d \x00 akhir",
                "author_id": "7",
                "conversation_id": BIG_ID,
            }
        ],
        "includes": {"users": [{"id": "7", "username": "x_\udfff", "name": "N\x00ame"}]},
    }
    mention = mentions_from_response(body, account_key="humas")[0]
    assert mention.text == "halo \ufffd \ufffd akhir"
    assert mention.author is not None and mention.author.name == "N\ufffdame"
    assert mention.id == BIG_ID and mention.conversation_id == BIG_ID
    mention.model_dump_json().encode("utf-8")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "data",
                    "includes",
                    "users",
                    "id",
                    "text",
                    "author_id",
                    "note_tweet",
                    "media",
                    "attachments",
                    "media_keys",
                    "referenced_tweets",
                    "created_at",
                    "meta",
                    "type",
                ]
            ),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


POST_ID = st.text(min_size=1, max_size=20)
WELL_FORMED = {
    "author_id": POST_ID,
    "created_at": st.just("2026-12-01T03:00:00.000Z"),
    "conversation_id": POST_ID,
    "lang": st.sampled_from(["in", "en", "und"]),
    "note_tweet": st.fixed_dictionaries({"text": HOSTILE_TEXT}),
    "referenced_tweets": st.lists(
        st.fixed_dictionaries({"type": st.just("replied_to"), "id": POST_ID}), max_size=1
    ),
    "attachments": st.fixed_dictionaries({"media_keys": st.lists(POST_ID, max_size=2)}),
}
# Posts as X sends them, and posts whose optional fields are garbage.
POST = st.fixed_dictionaries(
    {"id": POST_ID, "text": HOSTILE_TEXT}, optional=WELL_FORMED
) | st.fixed_dictionaries(
    {"id": POST_ID, "text": HOSTILE_TEXT}, optional=dict.fromkeys(WELL_FORMED, JSON)
)
PAGE = st.fixed_dictionaries(
    {"data": st.lists(POST, min_size=1, max_size=6)}, optional={"includes": JSON, "meta": JSON}
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(body=PAGE | JSON)
def test_garbage_in_a_mentions_page_is_refused_with_a_known_error_or_read(body: Any) -> None:
    """The source turns ValueError, TypeError and AttributeError into a retried transient
    error; anything else would crash the poller. A page that is read gives one mention per
    post, with the post's own id (the string X sent), text and link."""
    if not isinstance(body, dict):
        body = {"data": body}
    try:
        mentions = mentions_from_response(body, account_key="humas")
    except (ValueError, TypeError, AttributeError):
        return
    posts = body.get("data") or []
    assert len(mentions) == len(posts)
    for post, mention in zip(posts, mentions, strict=True):
        note = post.get("note_tweet")
        long_form = note.get("text") if isinstance(note, dict) else None
        written = long_form if isinstance(long_form, str) and long_form else post["text"]
        assert (mention.id, mention.account) == (post["id"], "humas")
        assert mention.text == neutral(written)
        assert mention.url is not None and mention.url.endswith(f"/status/{post['id']}")


@pytest.mark.parametrize("value", ["1e309", "-0", "NaN", "9" * 400, "0x10"])
def test_ids_are_kept_as_the_strings_they_were(value: str) -> None:
    body = {"data": [{"id": value, "text": "t", "conversation_id": value}]}
    assert mentions_from_response(body, account_key="humas")[0].id == value
