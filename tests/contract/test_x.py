"""The X emulator answers like X API v2 (spec 2.159), and Reachable asks what X understands.

Answers are produced with tweepy's ``AsyncClient`` (the library ``XClient`` wraps) and raw HTTP
for the linking flow, recorded on the client side, and checked against the spec: status, content
type, body schema and rate-limit headers. Requests are what the product's own ``XClient`` and
``XLinker`` send, read from the emulator's call log and checked against the methods' parameters.
Rate limits stay on; a 429 comes from the emulator's own limits shrunk to zero.
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
import tweepy
from tweepy.asynchronous import AsyncClient
from yarl import URL

from adapters.x.client import (
    MENTION_EXPANSIONS,
    MENTION_MEDIA_FIELDS,
    MENTION_TWEET_FIELDS,
    MENTION_USER_FIELDS,
    XClient,
)
from adapters.x.oauth import XLinker
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from emulators.x import XEmulator
from tests.contract.contracts import (
    contract,
    x_rate_limit_errors,
    x_request_errors,
    x_response_errors,
)
from tests.contract.methods import called_methods
from tests.integration.test_x_emulator_oauth import (
    APP_TOKEN,
    CONSUMER,
    REDIRECT_URI,
    STATIC_OAUTH1,
    WEB_CLIENT,
    Clock,
    Linking,
)

X_ORIGIN = "api.twitter.com"


@dataclass
class Answer:
    method: str
    path: str
    status: int
    headers: dict[str, str]
    body: Any


class Recorder:
    """tweepy's AsyncClient aimed at the emulator, keeping every answer as it arrived."""

    def __init__(self, url: str) -> None:
        self.target = URL(url)
        self.answers: list[Answer] = []

    async def middleware(
        self, request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if request.url.host == X_ORIGIN:
            request.url = (
                request.url.with_scheme("http")
                .with_host(self.target.host or "")
                .with_port(self.target.port)
            )
        response = await handler(request)
        raw = await response.read()
        body = json.loads(raw) if "json" in response.content_type else raw.decode()
        self.answers.append(
            Answer(request.method, request.url.path, response.status, dict(response.headers), body)
        )
        return response

    def client(self, session: aiohttp.ClientSession, **credentials: str) -> AsyncClient:
        client = AsyncClient(
            **credentials, return_type=aiohttp.ClientResponse, wait_on_rate_limit=False
        )
        client.session = session
        return client


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[XEmulator, str]]:
    emulator = XEmulator(
        bearer_tokens={APP_TOKEN},
        oauth1_consumers={CONSUMER[0]: CONSUMER[1]},
        oauth1_tokens={STATIC_OAUTH1[0]: (STATIC_OAUTH1[1], "humas_demo")},
        oauth2_clients={WEB_CLIENT[0]: WEB_CLIENT[1]},
        oauth2_callbacks={WEB_CLIENT[0]: [REDIRECT_URI]},
        users=[{"username": "humas_demo", "name": "Humas Demo", "verified": True}],
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@pytest.fixture
def x(served: tuple[XEmulator, str]) -> Iterator[Linking]:
    served[0].reset()
    linking = Linking(served[1], Clock())
    yield linking
    linking.http.close()


@pytest.fixture
async def recorder(x: Linking) -> AsyncIterator[tuple[Recorder, aiohttp.ClientSession]]:
    recorder = Recorder(x.url)
    async with aiohttp.ClientSession(middlewares=(recorder.middleware,)) as session:
        yield recorder, session


def method_of(http_method: str, path: str) -> str:
    """The spec's name for a logged call, among the methods the adapters call."""
    for platform, method in called_methods():
        verb, template = method.split(" ", 1)
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if platform == "x" and verb == http_method and re.fullmatch(pattern, path):
            return method
    raise AssertionError(f"{http_method} {path} is not a method the adapters call")


def assert_answers_keep_the_contract(answers: list[Answer], *, statuses: set[int]) -> None:
    problems = []
    for answer in answers:
        method = method_of(answer.method, answer.path)
        content_type = answer.headers.get("Content-Type", "")
        found = x_response_errors(
            method, status=answer.status, content_type=content_type, body=answer.body
        )
        if answer.status < 300 or answer.status == 429:
            found += x_rate_limit_errors({k.lower(): v for k, v in answer.headers.items()})
        problems += [f"{method} {answer.status}: {p}" for p in found]
    assert {a.status for a in answers} == statuses
    assert not problems, "\n".join(problems)


def assert_requests_keep_the_contract(x: Linking, path_glob: str = "/*") -> None:
    calls = [c for c in x.calls() if not c["path"].startswith("/_emulator")]
    problems = [
        f"{call['method']} {call['path']}: {problem}"
        for call in calls
        if call["path"] not in ("/i/oauth2/authorize", "/oauth/authorize")
        for problem in x_request_errors(method_of(call["method"], call["path"]), call)
    ]
    assert calls
    assert not problems, "\n".join(problems)


def shrink_limit(x: Linking, endpoint: str) -> None:
    answer = x.http.post("/_emulator/limits", json={"endpoint": endpoint, "limit": 0})
    assert answer.status_code == 200, answer.text


@contract("x", "GET /2/users/{id}/mentions", "GET /2/users/by/username/{username}")
async def test_reading_mentions_answers_like_x(
    x: Linking, recorder: tuple[Recorder, aiohttp.ClientSession]
) -> None:
    record, session = recorder
    first = x.http.post(
        "/_emulator/posts",
        json={
            "author": "warga_budi",
            "text": "@humas_demo jalan rusak #lapor",
            "media": [{"type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"}],
        },
    ).json()
    for n in range(6):
        text = f"@warga_budi @humas_demo ikut lapor {n}"
        x.http.post("/_emulator/posts", json={"author": f"warga{n}", "text": text})
    x.http.post(
        "/_emulator/posts",
        json={"author": "siti", "text": "@humas_demo video", "media": [{"type": "video"}]},
    )
    x.http.post(
        "/_emulator/posts",
        json={"author": "budi", "text": "@humas_demo setuju", "in_reply_to": first["id"]},
    )
    reader = record.client(session, bearer_token=APP_TOKEN)
    fields = {
        "expansions": MENTION_EXPANSIONS,
        "tweet_fields": MENTION_TWEET_FIELDS,
        "user_fields": MENTION_USER_FIELDS,
        "media_fields": MENTION_MEDIA_FIELDS,
    }

    found = await (await reader.get_user(username="humas_demo")).json()
    humas = found["data"]["id"]
    page = await (await reader.get_users_mentions(humas, max_results=5, **fields)).json()
    await reader.get_users_mentions(
        humas, pagination_token=page["meta"]["next_token"], max_results=5, **fields
    )
    await reader.get_users_mentions(humas, since_id=page["meta"]["newest_id"], **fields)
    await reader.get_user(username="nobody_here")
    await reader.get_users_mentions("1234567", **fields)
    with pytest.raises(tweepy.BadRequest):
        await reader.get_users_mentions(humas, pagination_token="not-a-token")
    with pytest.raises(tweepy.Unauthorized):
        await record.client(session, bearer_token="wrong").get_users_mentions(humas)
    shrink_limit(x, "mentions")
    with pytest.raises(tweepy.TooManyRequests):
        await reader.get_users_mentions(humas, **fields)

    assert_answers_keep_the_contract(record.answers, statuses={200, 400, 401, 429})


@contract("x", "GET /2/users/{id}/tweets", "GET /2/users/me", "POST /2/tweets")
async def test_posting_a_reply_answers_like_x(
    x: Linking, recorder: tuple[Recorder, aiohttp.ClientSession]
) -> None:
    record, session = recorder
    mention = x.http.post(
        "/_emulator/posts", json={"author": "warga_budi", "text": "@humas_demo halo"}
    ).json()
    gone = x.http.post("/_emulator/posts", json={"author": "siti", "text": "hapus"}).json()
    credentials = {
        "bearer_token": APP_TOKEN,
        "consumer_key": CONSUMER[0],
        "consumer_secret": CONSUMER[1],
        "access_token": STATIC_OAUTH1[0],
        "access_token_secret": STATIC_OAUTH1[1],
    }
    humas = record.client(session, **credentials)

    me = await (await humas.get_me(user_auth=True)).json()
    await humas.create_tweet(text="Terima kasih", in_reply_to_tweet_id=mention["id"])
    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        await humas.create_tweet(text="Terima kasih", in_reply_to_tweet_id=mention["id"])
    with pytest.raises(tweepy.Forbidden, match="too long"):
        await humas.create_tweet(text="a" * 281)
    x.http.post("/_emulator/reset")
    with pytest.raises(tweepy.BadRequest):
        await humas.create_tweet(text="ke yang hilang", in_reply_to_tweet_id=gone["id"])
    with pytest.raises(tweepy.Forbidden, match="Application-Only"):
        await record.client(session, bearer_token=APP_TOKEN).get_me(user_auth=False)
    x.http.post("/_emulator/users", json={"username": "humas_demo"})
    await humas.get_users_tweets(
        me["data"]["id"], tweet_fields=["referenced_tweets", "created_at"], user_auth=False
    )
    shrink_limit(x, "post")
    with pytest.raises(tweepy.TooManyRequests):
        await humas.create_tweet(text="satu lagi")

    assert_answers_keep_the_contract(record.answers, statuses={200, 201, 400, 403, 429})


@contract("x", "POST /2/oauth2/token", "POST /oauth/request_token", "POST /oauth/access_token")
def test_linking_an_account_answers_like_x(x: Linking) -> None:
    code, verifier = x.authorize("rina_personal")
    answers = [
        ("POST /2/oauth2/token", x.exchange(code, verifier)),
        ("POST /2/oauth2/token", x.exchange(code, verifier)),
        ("POST /2/oauth2/token", x.refresh("not-a-refresh-token")),
        ("POST /2/oauth2/token", x.http.post("/2/oauth2/token", data={"grant_type": "x"})),
    ]
    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "rina_personal")
    answers += [
        ("POST /oauth/access_token", x.access_token(request, "0000000")),
        ("POST /oauth/access_token", x.access_token(request, pin)),
        ("POST /oauth/request_token", x.http.post("/oauth/request_token")),
    ]
    problems = []
    for method, response in answers:
        media = response.headers.get("content-type", "")
        body: Any = response.json() if "json" in media else response.text
        if media.startswith("text/html"):
            body = dict(parse_qsl(response.text, keep_blank_values=True))
        problems += [
            f"{method} {response.status_code}: {p}"
            for p in x_response_errors(
                method, status=response.status_code, content_type=media, body=body
            )
        ]
    assert [r.status_code for _, r in answers] == [200, 400, 400, 401, 401, 200, 401]
    assert not problems, "\n".join(problems)


async def test_what_reachable_sends_to_x_is_what_x_documents(x: Linking) -> None:
    """Every call of the product's XClient and XLinker, as the emulator received it."""
    x.http.post("/_emulator/posts", json={"author": "warga_budi", "text": "@humas_demo halo"})
    settings = AppSettings(
        x_api_url=x.url,
        x_bearer_token=APP_TOKEN,
        x_consumer_key=CONSUMER[0],
        x_consumer_secret=CONSUMER[1],
        x_oauth_client_id=WEB_CLIENT[0],
        x_oauth_client_secret=WEB_CLIENT[1],
    )
    linker = XLinker(settings)
    async with XClient(
        bearer_token=APP_TOKEN,
        api_url=x.url,
        consumer_key=CONSUMER[0],
        consumer_secret=CONSUMER[1],
        access_token=STATIC_OAUTH1[0],
        access_token_secret=STATIC_OAUTH1[1],
    ) as humas:
        user_id = await humas.user_id_for("humas_demo")
        page = await humas.mentions_page(user_id=user_id, account_key="humas", since_id=None)
        await humas.mentions_page(user_id=user_id, account_key="humas", since_id=page.newest_id)
        await humas.create_post(text="Terima kasih", in_reply_to=page.mentions[0].id)
        await humas.own_replies_since(user_id=user_id, since_id=None)
        await humas.recent_replies(user_id=user_id)
        await humas.me()
    pin_request = await linker.request_pin()
    pin = x.pin_for(pin_request.request_token, "rina_personal")
    await linker.grant_from_pin(
        request_token=pin_request.request_token,
        request_secret=pin_request.request_secret,
        pin=pin,
    )
    code, verifier = x.authorize("sari_personal")
    grant = await linker.grant_from_code(
        code=code, code_verifier=verifier, redirect_uri=REDIRECT_URI
    )
    await linker.refresh(grant.credentials)

    assert_requests_keep_the_contract(x)
