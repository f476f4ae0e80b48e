"""The real tweepy client, through XClient, against the X emulator over real HTTP."""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.x.client import XClient
from adapters.x.convert import mentions_from_response
from app.httpserver import ThreadedServer
from bridge.errors import PermanentError, RateLimited, TransientError
from emulators.x import PostSpec, XEmulator

APP_TOKEN = "app-bearer-token"
OAUTH = {
    "consumer_key": "ck-reachable",
    "consumer_secret": "cs-reachable",
    "access_token": "at-humas",
    "access_token_secret": "ats-humas",
}
FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "x" / "get_users_mentions.response.json"
)


class Control:
    """The emulator's control API and raw X calls, for what XClient deliberately hides."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, trust_env=False, timeout=10)

    def post(self, author: str, text: str, **extra: Any) -> dict[str, Any]:
        response = self.http.post(
            "/_emulator/posts", json={"author": author, "text": text, **extra}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def posts_by(self, author: str) -> list[dict[str, Any]]:
        return list(self.http.get("/_emulator/posts", params={"author": author}).json()["posts"])

    def api(self, path: str, token: str = APP_TOKEN, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[XEmulator, str]]:
    emu = XEmulator(
        bearer_tokens={APP_TOKEN},
        oauth1_consumers={OAUTH["consumer_key"]: OAUTH["consumer_secret"]},
        oauth1_tokens={OAUTH["access_token"]: (OAUTH["access_token_secret"], "humas_demo")},
        users=[{"username": "humas_demo", "name": "Humas Demo", "verified": True, "followers": 9}],
    )
    server = ThreadedServer(emu.app).start()
    yield emu, server.url
    server.stop()


@pytest.fixture
def x(emulator: tuple[XEmulator, str]) -> Iterator[Control]:
    emu, url = emulator
    emu.reset()
    control = Control(url)
    yield control
    control.http.close()


@pytest.fixture
async def client(x: Control) -> AsyncIterator[XClient]:
    async with XClient(bearer_token=APP_TOKEN, api_url=x.url) as xc:
        yield xc


@pytest.fixture
async def poster(x: Control) -> AsyncIterator[XClient]:
    async with XClient(bearer_token=APP_TOKEN, api_url=x.url, **OAUTH) as xc:
        yield xc


async def test_since_id_and_paging_across_250_mentions(x: Control, client: XClient) -> None:
    humas = await client.user_id_for("humas_demo")
    posted = [x.post(f"warga{i % 7}", f"@humas_demo laporan nomor {i}")["id"] for i in range(250)]
    x.post("someone", "no mention here")

    pages, token = [], None
    while True:
        page = await client.mentions_page(
            user_id=humas, account_key="humas", since_id=None, pagination_token=token
        )
        pages.append(page)
        token = page.next_token
        if token is None:
            break

    assert [len(p.mentions) for p in pages] == [100, 100, 50]
    ids = [m.id for p in pages for m in p.mentions]
    assert ids == list(reversed(posted))
    assert pages[0].newest_id == posted[-1]

    newer = [x.post("warga1", f"@humas_demo baru {i}")["id"] for i in range(3)]
    page = await client.mentions_page(user_id=humas, account_key="humas", since_id=posted[-1])
    assert [m.id for m in page.mentions] == list(reversed(newer))
    assert page.next_token is None
    empty = await client.mentions_page(user_id=humas, account_key="humas", since_id=newer[-1])
    assert (empty.mentions, empty.newest_id) == ([], None)


async def test_only_the_800_most_recent_mentions_are_reachable(
    emulator: tuple[XEmulator, str], x: Control, client: XClient
) -> None:
    emu, _ = emulator
    ids = [emu.add_post(PostSpec("warga", f"@humas_demo {i}")).id for i in range(805)]
    humas = await client.user_id_for("humas_demo")
    seen, token = [], None
    while True:
        page = await client.mentions_page(
            user_id=humas, account_key="humas", since_id=None, pagination_token=token
        )
        seen += [m.id for m in page.mentions]
        if (token := page.next_token) is None:
            break
    assert seen == list(reversed(ids))[:800]


async def test_requested_fields_come_back_filled(x: Control, client: XClient) -> None:
    x.http.post(
        "/_emulator/users",
        json={"username": "warga_baik", "name": "Warga Baik", "verified": True, "followers": 321},
    )
    root = x.post(
        "warga_baik",
        "@humas_demo jalan rusak di depan sekolah",
        created_at="2025-03-04T05:06:07Z",
        media=[{"type": "photo", "url": "https://pbs.example/a.jpg"}],
    )
    reply = x.post("tetangga", "benar, sudah lama rusak @humas_demo", in_reply_to=root["id"])
    assert root["conversation_id"] == root["id"]
    assert reply["conversation_id"] == root["id"]

    humas = await client.user_id_for("humas_demo")
    page = await client.mentions_page(user_id=humas, account_key="humas", since_id=None)

    newest, oldest = page.mentions
    assert oldest.id == root["id"]
    assert oldest.author is not None
    assert (oldest.author.handle, oldest.author.name) == ("warga_baik", "Warga Baik")
    assert (oldest.author.verified, oldest.author.followers) == (True, 321)
    assert oldest.created_at == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert oldest.lang == "in"
    assert oldest.url == f"https://x.com/warga_baik/status/{root['id']}"
    assert [(m.kind, m.url) for m in oldest.media] == [("photo", "https://pbs.example/a.jpg")]
    assert newest.conversation_id == root["id"]
    assert newest.in_reply_to_id == root["id"]
    # X prefixes a reply with the replied-to author's handle.
    assert newest.text == "@warga_baik benar, sudah lama rusak @humas_demo"
    assert newest.author is not None and newest.author.handle == "tetangga"
    assert newest.created_at is not None and newest.lang is not None
    unfilled = {k for k, v in newest.model_dump().items() if v in (None, ())}
    assert unfilled == {"media"}


async def test_default_shape_matches_the_recorded_fixture(x: Control, client: XClient) -> None:
    recorded = json.loads(FIXTURE.read_text())
    x.post("warga", "@humas_demo halo")
    humas = await client.user_id_for("humas_demo")

    response = x.api(f"/2/users/{humas}/mentions")

    assert response.status_code == 200
    body = response.json()
    assert body["data"][0].keys() == recorded["body"]["data"][0].keys()
    assert set(body["meta"]) == set(recorded["body"]["meta"]) - {"next_token"}
    assert set(response.headers) >= set(recorded["headers"])
    assert response.headers["x-rate-limit-limit"] == recorded["headers"]["x-rate-limit-limit"]
    ours = mentions_from_response(body, account_key="humas")[0]
    theirs = mentions_from_response(recorded["body"], account_key="humas")[0]
    filled = lambda m: {k for k, v in m.model_dump().items() if v not in (None, ())}  # noqa: E731
    assert filled(ours) == filled(theirs)


async def test_wrong_bearer_token_is_permanent(x: Control) -> None:
    async with XClient(bearer_token="not-the-token", api_url=x.url) as wrong:
        with pytest.raises(PermanentError, match="401"):
            await wrong.user_id_for("humas_demo")
    raw = x.api("/2/users/by/username/humas_demo", token="nope")
    assert raw.status_code == 401
    assert raw.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


async def test_unknown_handle_names_the_handle(x: Control, client: XClient) -> None:
    with pytest.raises(PermanentError, match="@nobody_here"):
        await client.user_id_for("nobody_here")
    raw = x.api("/2/users/by/username/nobody_here")
    assert raw.status_code == 200
    assert raw.json()["errors"][0]["title"] == "Not Found Error"


async def test_rate_limit_exhaustion_is_rate_limited_until_reset(
    x: Control, client: XClient
) -> None:
    x.http.post("/_emulator/limits", json={"endpoint": "mentions", "limit": 2, "window_s": 120})
    humas = await client.user_id_for("humas_demo")

    first = await client.mentions_page(user_id=humas, account_key="humas", since_id=None)
    second = await client.mentions_page(user_id=humas, account_key="humas", since_id=None)
    with pytest.raises(RateLimited) as caught:
        await client.mentions_page(user_id=humas, account_key="humas", since_id=None)

    assert (first.budget.limit, first.budget.remaining, second.budget.remaining) == (2, 1, 0)
    assert second.budget.reset_at is not None
    assert 100 <= caught.value.retry_after <= 121
    assert abs(caught.value.retry_after - (second.budget.reset_at - time.time())) <= 2
    x.http.post("/_emulator/limits", json={"enabled": False})
    await client.mentions_page(user_id=humas, account_key="humas", since_id=None)


async def test_injected_faults_become_transient_or_rate_limited(
    x: Control, client: XClient
) -> None:
    humas = await client.user_id_for("humas_demo")
    x.http.post("/_emulator/faults", json={"path": "/2/users/*/mentions", "status": 503})
    with pytest.raises(TransientError, match="503"):
        await client.mentions_page(user_id=humas, account_key="humas", since_id=None)
    x.http.post(
        "/_emulator/faults", json={"path": "/2/users/*/mentions", "status": 429, "retry_after": 30}
    )
    with pytest.raises(RateLimited) as caught:
        await client.mentions_page(user_id=humas, account_key="humas", since_id=None)
    assert 25 <= caught.value.retry_after <= 31
    page = await client.mentions_page(user_id=humas, account_key="humas", since_id=None)
    assert page.mentions == []
    statuses = [c["status"] for c in x.http.get("/_emulator/calls").json()["calls"]]
    assert statuses[-3:] == [503, 429, 200]


async def test_big_ids_round_trip_exactly(x: Control, client: XClient, poster: XClient) -> None:
    first = x.post("warga", "@humas_demo satu")["id"]
    second = x.post("warga", "@humas_demo dua")["id"]
    assert int(first) > 2**53
    humas = await client.user_id_for("humas_demo")
    assert int(humas) > 2**53

    # One below the newest id: a float round-trip would blur this boundary.
    page = await client.mentions_page(
        user_id=humas, account_key="humas", since_id=str(int(second) - 1)
    )
    assert [m.id for m in page.mentions] == [second]
    posted = await poster.create_post(text="Terima kasih, kami cek.", in_reply_to=second)
    assert int(posted) > int(second)
    [mine] = x.posts_by("humas_demo")
    assert (mine["id"], mine["in_reply_to"], mine["conversation_id"]) == (posted, second, second)
    assert mine["text"] == "@warga Terima kasih, kami cek."


async def test_duplicate_post_and_unknown_reply_are_permanent(
    x: Control, poster: XClient, client: XClient
) -> None:
    await poster.create_post(text="Kami sedang memeriksa.", in_reply_to=None)
    with pytest.raises(PermanentError, match="duplicate content"):
        await poster.create_post(text="Kami sedang memeriksa.", in_reply_to=None)
    with pytest.raises(PermanentError, match="deleted or is not visible"):
        await poster.create_post(text="Balasan", in_reply_to="1999999999999999999")
    with pytest.raises(PermanentError, match="a user's credentials"):
        await client.create_post(text="no user keys", in_reply_to=None)
    assert len(x.posts_by("humas_demo")) == 1


async def test_app_only_token_cannot_use_user_context_endpoints(x: Control) -> None:
    response = x.api("/2/users/me")
    assert response.status_code == 403
    assert response.json()["title"] == "Unsupported Authentication"
    posted = x.http.post(
        "/2/tweets", json={"text": "hi"}, headers={"Authorization": f"Bearer {APP_TOKEN}"}
    )
    assert posted.status_code == 403


async def test_wrong_oauth1_secret_fails_signature_check(x: Control) -> None:
    forged = {**OAUTH, "access_token_secret": "guessed"}
    async with XClient(bearer_token=APP_TOKEN, api_url=x.url, **forged) as bad:
        with pytest.raises(PermanentError, match="401"):
            await bad.create_post(text="forged", in_reply_to=None)
    assert x.posts_by("humas_demo") == []


async def test_max_results_out_of_range_is_x_invalid_request(x: Control, client: XClient) -> None:
    humas = await client.user_id_for("humas_demo")
    raw = x.api(f"/2/users/{humas}/mentions", max_results=101)
    assert raw.status_code == 400
    assert raw.json()["title"] == "Invalid Request"
    assert "not between 5 and 100" in raw.json()["errors"][0]["message"]
    with pytest.raises(PermanentError, match="not between 5 and 100"):
        await client.mentions_page(user_id=humas, account_key="humas", since_id=None, max_results=2)


@pytest.mark.parametrize(
    "body",
    [
        {"text": "no author"},
        {"author": "warga", "text": ""},
        {"author": "bad handle!", "text": "hi"},
        {"author": "warga", "text": "hi", "in_reply_to": "1999999999999999999"},
        {"author": "warga", "text": "hi", "in_reply_to": "abc"},
        {"author": "warga", "text": "hi", "created_at": "yesterday"},
        {"author": "warga", "text": "hi", "followers": "many"},
        {"author": "warga", "text": "hi", "surprise": True},
    ],
)
async def test_bad_control_input_is_400_and_changes_nothing(
    x: Control, body: dict[str, Any]
) -> None:
    response = x.http.post("/_emulator/posts", json=body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert x.posts_by("warga") == []
    assert x.api("/2/users/by/username/warga").json().get("data") is None


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/_emulator/posts", b"not json"),
        ("/_emulator/users", b'{"username": "way_too_long_for_x_handles"}'),
        ("/_emulator/limits", b'{"endpoint": "nope", "limit": 1}'),
        ("/_emulator/limits", b'{"endpoint": "mentions", "limit": -1}'),
    ],
)
async def test_bad_control_bodies_are_400(x: Control, path: str, payload: bytes) -> None:
    response = x.http.post(path, content=payload)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_tokens_never_reach_the_logs(
    x: Control, poster: XClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await poster.user_id_for("humas_demo")
    await poster.create_post(text="logged?", in_reply_to=None)
    assert "Making API request" in caplog.text
    for secret in (APP_TOKEN, *OAUTH.values()):
        assert secret not in caplog.text
