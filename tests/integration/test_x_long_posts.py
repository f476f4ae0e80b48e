"""Long posts and posts of only photos, as X returns them and as Reachable reads them.

X v2 returns a long post (X Premium, up to 25,000 characters) with only its start in ``text``;
the whole text is in ``note_tweet.text``, and only when ``tweet.fields`` asks for ``note_tweet``
(the X API v2 OpenAPI spec 2.159, ``Tweet.note_tweet``: "The full-content of the Tweet,
including text beyond 280 characters"). Attachments add a ``t.co`` link to ``text``, which
``display_text_range`` leaves out (recorded payloads in public repositories show the link, with
a ``urls`` entity naming the ``media_key``).
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from twitter_text import parse_tweet

from adapters.x.client import XClient
from app.httpserver import ThreadedServer
from emulators.x import XEmulator
from emulators.x.model import head_of

APP_TOKEN = "app-bearer-token"

# The real payload of xdevplatform/samples#202 (October 2025): a 283-character post came back
# from GET /2/tweets with its `text` cut at 270 characters, before its last word, with no
# ellipsis and no link.
RECORDED_FULL = (
    "It is heartening to see 210 Naxalites lay down their arms - a step long overdue. The "
    "efforts of the Hon’ble Home Minister @AmitShah and @PMOIndia have paved the way for "
    "greater peace and prosperity. Congratulations to @PMOIndia and Hon’ble @AmitShah for this "
    "commendable achievement."
)
RECORDED_TEXT = RECORDED_FULL.removesuffix(" achievement.")


def long_text(characters: int) -> str:
    """A mention of @humas_demo of exactly ``characters`` characters, its words numbered so
    their order shows."""
    words = ["@humas_demo"]
    while sum(len(w) + 1 for w in words) < characters:
        words.append(f"kata{len(words)}")
    return " ".join(words)[:characters]


class Control:
    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, trust_env=False, timeout=10)

    def post(self, author: str, text: str | None = None, **extra: Any) -> httpx.Response:
        body = {"author": author, **({"text": text} if text is not None else {}), **extra}
        return self.http.post("/_emulator/posts", json=body)

    def api(self, path: str, **params: str) -> dict[str, Any]:
        response = self.http.get(
            path, params=params, headers={"Authorization": f"Bearer {APP_TOKEN}"}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def user_id(self, username: str) -> str:
        return str(self.api(f"/2/users/by/username/{username}")["data"]["id"])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[XEmulator, str]]:
    emulator = XEmulator(bearer_tokens={APP_TOKEN}, users=[{"username": "humas_demo"}])
    running = ThreadedServer(emulator.app).start()
    yield emulator, running.url
    running.stop()


@pytest.fixture
def x(server: tuple[XEmulator, str]) -> Iterator[Control]:
    emulator, url = server
    emulator.reset()
    control = Control(url)
    yield control
    control.http.close()


@pytest.fixture
async def client(server: tuple[XEmulator, str], x: Control) -> AsyncIterator[XClient]:
    async with XClient(bearer_token=APP_TOKEN, api_url=server[1]) as xc:
        yield xc


def test_x_cuts_a_long_post_before_its_last_word_as_the_recorded_payload_shows() -> None:
    assert head_of(RECORDED_FULL) == RECORDED_TEXT
    assert head_of(RECORDED_TEXT) == RECORDED_TEXT  # within 280: whole
    # CJK characters count two: 140 of them fill the 280.
    assert head_of("字" * 400) == "字" * 140


def test_a_long_post_holds_its_start_in_text_and_all_of_it_in_note_tweet_only_on_request(
    x: Control,
) -> None:
    whole = long_text(10_000)
    posted = x.post("warga_panjang", whole).json()
    humas, author = x.user_id("humas_demo"), x.user_id("warga_panjang")

    plain = x.api(f"/2/users/{humas}/mentions")["data"][0]
    assert set(plain) == {"edit_history_tweet_ids", "id", "text"}
    start = plain["text"]
    assert whole.startswith(start) and whole[len(start)] == " "
    assert 270 <= parse_tweet(start).weightedLength <= 280

    asked = x.api(f"/2/users/{humas}/mentions", **{"tweet.fields": "note_tweet,entities"})
    post = asked["data"][0]
    assert post["text"] == start
    assert post["note_tweet"]["text"] == whole
    assert post["note_tweet"]["entities"]["mentions"][0]["username"] == "humas_demo"

    timeline = x.api(f"/2/users/{author}/tweets", **{"tweet.fields": "note_tweet"})["data"]
    assert timeline[0]["note_tweet"]["text"] == whole

    # A reply quoting it through expansions carries the whole text too.
    x.post("humas_demo", "Terima kasih, kami cek.", in_reply_to=posted["id"])
    replies = x.api(
        f"/2/users/{author}/mentions",
        **{"tweet.fields": "note_tweet", "expansions": "referenced_tweets.id"},
    )
    assert replies["includes"]["tweets"][0]["note_tweet"]["text"] == whole


def test_a_post_within_280_has_no_note_tweet_even_when_asked(x: Control) -> None:
    x.post("warga", "@humas_demo " + "a" * 268)
    humas = x.user_id("humas_demo")
    post = x.api(f"/2/users/{humas}/mentions", **{"tweet.fields": "note_tweet"})["data"][0]
    assert "note_tweet" not in post and post["text"] == "@humas_demo " + "a" * 268


def test_25000_characters_are_the_most_a_post_holds(x: Control) -> None:
    assert x.post("warga", long_text(25_000)).status_code == 200
    refused = x.post("warga2", long_text(25_001))
    assert refused.status_code == 400
    assert "25000" in refused.json()["error"] and "25001" in refused.json()["error"]
    assert x.http.get("/_emulator/posts", params={"author": "warga2"}).json()["posts"] == []


def test_a_reply_of_only_photos_displays_nothing_but_its_attachments(x: Control) -> None:
    root = x.post("humas_demo", "Jalan di depan pasar sudah diperbaiki.").json()
    photos = [{"type": "photo"}, {"type": "photo"}]
    assert x.post("warga_foto", media=photos, in_reply_to=root["id"]).status_code == 200
    humas = x.user_id("humas_demo")

    fields = "display_text_range,entities,attachments"
    post = x.api(f"/2/users/{humas}/mentions", **{"tweet.fields": fields})["data"][0]

    link = post["entities"]["urls"][0]["url"]
    assert post["text"] == f"@humas_demo {link}" and link.startswith("https://t.co/")
    assert post["display_text_range"] == [11, 11]
    assert [u["media_key"] for u in post["entities"]["urls"]] == post["attachments"]["media_keys"]
    assert all(key.startswith("3_") for key in post["attachments"]["media_keys"])


@pytest.mark.parametrize(
    "body",
    [
        {"author": "warga"},
        {"author": "warga", "text": "   "},
        {"author": "warga", "text": "x", "media": [{"type": "photo"}] * 5},
        {"author": "warga", "text": "x", "media": [{"type": "video"}, {"type": "photo"}]},
    ],
)
def test_a_post_x_would_refuse_is_a_clear_400(x: Control, body: dict[str, Any]) -> None:
    response = x.http.post("/_emulator/posts", json=body)
    assert response.status_code == 400 and response.json()["error"]
    assert x.http.get("/_emulator/posts", params={"author": "warga"}).json()["posts"] == []


async def test_mentions_of_10000_and_25000_characters_reach_reachable_whole(
    x: Control, client: XClient
) -> None:
    texts = [long_text(10_000), long_text(25_000)]
    for number, text in enumerate(texts):
        assert x.post(f"warga_panjang{number}", text).status_code == 200
    humas = await client.user_id_for("humas_demo")

    page = await client.mentions_page(user_id=humas, account_key="humas", since_id=None)

    assert [m.text for m in page.mentions] == list(reversed(texts))


async def test_a_reply_of_only_photos_is_a_mention_with_no_text_and_two_photos(
    x: Control, client: XClient
) -> None:
    root = x.post("humas_demo", "Jalan di depan pasar sudah diperbaiki.").json()
    x.post("warga_foto", media=[{"type": "photo"}, {"type": "photo"}], in_reply_to=root["id"])
    x.post("warga_lain", "@humas_demo lihat ini", media=[{"type": "video"}])
    humas = await client.user_id_for("humas_demo")

    page = await client.mentions_page(user_id=humas, account_key="humas", since_id=None)

    with_words, only_photos = page.mentions
    assert (only_photos.text, [m.kind for m in only_photos.media]) == ("", ["photo", "photo"])
    # The t.co link X appends for the video is not the author's text; the video is media.
    assert (with_words.text, [m.kind for m in with_words.media]) == (
        "@humas_demo lihat ini",
        ["video"],
    )
