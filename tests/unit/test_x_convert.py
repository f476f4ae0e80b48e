"""Real recorded X payloads, and X-shaped expanded ones, become domain mentions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.x.convert import mention_from_tweet, mentions_from_response, post_text
from bridge.domain.models import Author, Media

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"


def _mention_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*mentions*.json"))


@pytest.mark.parametrize("path", _mention_fixtures(), ids=lambda p: p.name)
def test_every_recorded_mentions_page_parses(path: Path) -> None:
    body = json.loads(path.read_text())["body"]

    mentions = mentions_from_response(body, account_key="twitter")

    assert len(mentions) == body["meta"]["result_count"] == len(body["data"])
    assert [m.id for m in mentions] == [t["id"] for t in body["data"]]
    assert mentions[0].id == body["meta"]["newest_id"]
    for mention, tweet in zip(mentions, body["data"], strict=True):
        assert mention.network == "x"
        assert mention.account == "twitter"
        assert mention.text == tweet["text"]
        # Default fields only: X sent no author_id, so there is no author and no handle URL.
        assert mention.author is None
        assert mention.url == f"https://x.com/i/web/status/{tweet['id']}"
        assert mention.conversation_id == tweet["id"]
        assert mention.in_reply_to_id is None
        assert mention.created_at is None
        assert mention.media == ()


def test_fixture_folder_has_mentions_pages() -> None:
    assert _mention_fixtures(), "expected at least one *mentions*.json fixture"


EXPANDED: dict[str, Any] = {
    "data": [
        {
            "author_id": "1900000000000000123",
            "conversation_id": "1900000000000000456",
            "created_at": "2025-03-04T05:06:07.000Z",
            "edit_history_tweet_ids": ["1900000000000000789"],
            "id": "1900000000000000789",
            "in_reply_to_user_id": "1900000000000000001",
            "lang": "id",
            "referenced_tweets": [
                {"type": "quoted", "id": "1900000000000000111"},
                {"type": "replied_to", "id": "1900000000000000456"},
            ],
            "attachments": {"media_keys": ["3_1900000000000000999", "7_1900000000000000998"]},
            "text": "@humas_demo jalan rusak di depan sekolah",
        }
    ],
    "includes": {
        "users": [
            {
                "id": "1900000000000000123",
                "name": "Warga Baik",
                "username": "warga_baik",
                "verified": True,
                "public_metrics": {"followers_count": 321, "following_count": 5},
            }
        ],
        "media": [
            {
                "media_key": "3_1900000000000000999",
                "type": "photo",
                "url": "https://pbs.twimg.com/media/abc.jpg",
            }
        ],
    },
    "meta": {"result_count": 1, "newest_id": "1900000000000000789"},
}


def test_expanded_post_fills_every_field() -> None:
    [mention] = mentions_from_response(EXPANDED, account_key="humas")

    assert mention.id == "1900000000000000789"
    assert mention.author == Author(
        id="1900000000000000123",
        handle="warga_baik",
        name="Warga Baik",
        verified=True,
        followers=321,
    )
    assert mention.url == "https://x.com/warga_baik/status/1900000000000000789"
    assert mention.conversation_id == "1900000000000000456"
    assert mention.in_reply_to_id == "1900000000000000456"
    assert mention.lang == "id"
    assert mention.created_at == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    # The video was not in includes.media: its kind still comes from the media key.
    assert mention.media == (
        Media(kind="photo", url="https://pbs.twimg.com/media/abc.jpg"),
        Media(kind="video"),
    )


def test_author_missing_from_includes_gives_no_author() -> None:
    tweet = {"id": "1900000000000000001", "text": "hi @humas_demo", "author_id": "42"}

    mention = mention_from_tweet(tweet, {}, account_key="humas")

    assert mention.author is None
    assert mention.url == "https://x.com/i/web/status/1900000000000000001"


def test_empty_page_gives_no_mentions() -> None:
    assert mentions_from_response({"meta": {"result_count": 0}}, account_key="humas") == []


def test_numeric_id_is_refused_rather_than_trusted() -> None:
    with pytest.raises(ValueError, match="string 'id'"):
        mention_from_tweet({"id": 1900000000000000001, "text": "x"}, {}, account_key="humas")


def test_the_post_s_own_text_is_the_whole_note_without_the_attachments_link() -> None:
    link = "https://t.co/AANcaaGF4d"
    base = {"id": "1774392944910627276", "author_id": "7"}
    assert post_text({**base, "text": "start…", "note_tweet": {"text": "all of it"}}) == "all of it"
    # The text and entity as recorded from X v2 (the photo's link starts at code point 19);
    # the display range ends before the link.
    entities = {
        "urls": [{"start": 19, "end": 42, "url": link, "media_key": "3_1774392936677175296"}]
    }
    photo = {
        **base,
        "text": f"Thank you, Osaka!📐 {link}",
        "display_text_range": [0, 18],
        "entities": entities,
    }
    assert post_text(photo) == "Thank you, Osaka!📐"
    only_photos = {
        **base,
        "text": f"@humas_demo {link}",
        "display_text_range": [11, 11],
        "entities": entities,
    }
    assert post_text(only_photos) == ""
    # A quoted post's link is no attachment: it stays, for staff to open.
    quoting = {**only_photos, "entities": {"urls": [{"url": link}]}}
    assert post_text(quoting) == f"@humas_demo {link}"
    # A range that does not fit the text is X's mistake, not a reason to lose the text.
    assert post_text({**base, "text": "halo", "display_text_range": [0, 99]}) == "halo"
    assert post_text({**base, "text": "halo"}) == "halo"
