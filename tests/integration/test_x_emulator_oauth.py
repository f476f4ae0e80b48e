"""Linking a person's X account against the emulator: OAuth 2.0 with PKCE and the PIN flow.

The clients are the ones the bridge uses (httpx/aiohttp form posts, oauthlib's OAuth 1.0a signer,
tweepy) over real HTTP, so a flow that passes here is a flow the bridge can run.
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import base64
import hashlib
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import aiohttp
import httpx
import pytest
import requests
import tweepy
from oauthlib.oauth1 import Client as OAuth1Signer
from requests_oauthlib import OAuth1Session
from tweepy.asynchronous import AsyncClient
from yarl import URL

from adapters.x.client import XClient
from app.httpserver import ThreadedServer
from bridge.errors import PermanentError
from emulators.x import XEmulator

APP_TOKEN = "app-bearer-token"
WEB_CLIENT = ("reachable-web", "web-client-secret")
PUBLIC_CLIENT = "reachable-public"
CONSUMER = ("ck-reachable", "cs-reachable")
STATIC_OAUTH1 = ("at-humas", "ats-humas")
REDIRECT_URI = "https://bridge.example/oauth/x/callback"
SCOPE = "tweet.read tweet.write users.read offline.access"
HOSTILE = "\"'><script>alert(1)</script>&amp;"
X_ORIGIN = "https://api.twitter.com"


class Clock:
    """The emulator's time, moved on by the tests."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return dict(parse_qsl(urlsplit(location).query))


class Linking:
    """The person's browser and the app's back end, both talking to the emulator."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.url = url
        self.clock = clock
        self.http = httpx.Client(base_url=url, trust_env=False, timeout=10)

    # OAuth 2.0 ---------------------------------------------------------------------------------

    def authorize_params(self, challenge: str, **overrides: str) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": WEB_CLIENT[0],
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": "state-" + secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return {**params, **overrides}

    def decide(
        self, params: dict[str, str], username: str, decision: str = "authorize"
    ) -> httpx.Response:
        form = {**params, "username": username, "decision": decision}
        return self.http.post("/i/oauth2/authorize", data=form)

    def authorize(self, username: str, **overrides: str) -> tuple[str, str]:
        """Approve as ``username``; returns (code, verifier)."""
        verifier, challenge = pkce_pair()
        params = self.authorize_params(challenge, **overrides)
        assert self.http.get("/i/oauth2/authorize", params=params).status_code == 200
        answer = redirect_params(self.decide(params, username))
        assert answer["state"] == params["state"]
        return answer["code"], verifier

    def token(self, form: dict[str, str], client: str = "web") -> httpx.Response:
        if client == "web":
            return self.http.post("/2/oauth2/token", data=form, auth=WEB_CLIENT)
        return self.http.post("/2/oauth2/token", data={**form, "client_id": PUBLIC_CLIENT})

    def exchange(
        self, code: str, verifier: str, client: str = "web", **extra: str
    ) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            **extra,
        }
        return self.token(form, client)

    def refresh(self, refresh_token: str, client: str = "web") -> httpx.Response:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token}, client)

    def link(self, username: str, client: str = "web", scope: str = SCOPE) -> dict[str, Any]:
        client_id = WEB_CLIENT[0] if client == "web" else PUBLIC_CLIENT
        code, verifier = self.authorize(username, client_id=client_id, scope=scope)
        response = self.exchange(code, verifier, client)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def me(self, access_token: str) -> httpx.Response:
        return self.http.get("/2/users/me", headers={"Authorization": f"Bearer {access_token}"})

    # OAuth 1.0a PIN ----------------------------------------------------------------------------

    def request_token(self) -> dict[str, str]:
        signer = OAuth1Signer(CONSUMER[0], client_secret=CONSUMER[1], callback_uri="oob")
        url, headers, _ = signer.sign(f"{self.url}/oauth/request_token", http_method="POST")
        response = self.http.post(url, headers=headers)
        assert response.status_code == 200, response.text
        return dict(parse_qsl(response.text))

    def pin_for(self, request_token: str, username: str) -> str:
        page = self.http.get("/oauth/authorize", params={"oauth_token": request_token})
        assert page.status_code == 200, page.text
        answer = self.http.post(
            "/oauth/authorize", data={"oauth_token": request_token, "username": username}
        )
        assert answer.status_code == 200, answer.text
        return pin_in(answer.text)

    def access_token(self, request: dict[str, str], pin: str) -> httpx.Response:
        signer = OAuth1Signer(
            CONSUMER[0],
            client_secret=CONSUMER[1],
            resource_owner_key=request["oauth_token"],
            resource_owner_secret=request["oauth_token_secret"],
            verifier=pin,
        )
        url, headers, _ = signer.sign(f"{self.url}/oauth/access_token", http_method="POST")
        return self.http.post(url, headers=headers)

    def link_with_pin(self, username: str) -> dict[str, str]:
        request = self.request_token()
        response = self.access_token(request, self.pin_for(request["oauth_token"], username))
        assert response.status_code == 200, response.text
        return dict(parse_qsl(response.text))

    # control -----------------------------------------------------------------------------------

    def live_tokens(self, username: str) -> dict[str, Any]:
        response = self.http.get("/_emulator/tokens", params={"username": username})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def calls(self) -> list[dict[str, Any]]:
        return list(self.http.get("/_emulator/calls").json()["calls"])


def pin_in(page: str) -> str:
    match = re.search(r'<code id="pin">(\d+)</code>', page)
    assert match, page
    return match.group(1)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[XEmulator, str, Clock]]:
    clock = Clock()
    emu = XEmulator(
        bearer_tokens={APP_TOKEN},
        oauth1_consumers={CONSUMER[0]: CONSUMER[1]},
        oauth1_tokens={STATIC_OAUTH1[0]: (STATIC_OAUTH1[1], "humas_demo")},
        oauth2_clients={WEB_CLIENT[0]: WEB_CLIENT[1], PUBLIC_CLIENT: None},
        oauth2_callbacks={
            WEB_CLIENT[0]: [REDIRECT_URI, REDIRECT_URI + "?team=T1"],
            PUBLIC_CLIENT: [REDIRECT_URI],
        },
        users=[{"username": "humas_demo", "name": "Humas Demo"}],
        clock=clock,
    )
    server = ThreadedServer(emu.app).start()
    yield emu, server.url, clock
    server.stop()


@pytest.fixture
def x(served: tuple[XEmulator, str, Clock]) -> Iterator[Linking]:
    emu, url, clock = served
    emu.reset()
    linking = Linking(url, clock)
    yield linking
    linking.http.close()


def _to_emulator(url: str) -> aiohttp.ClientMiddlewareType:
    target = URL(url)

    async def rewrite(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        request.url = request.url.with_scheme(target.scheme).with_host(target.raw_host or "")
        request.url = request.url.with_port(target.port)
        return await handler(request)

    return rewrite


@asynccontextmanager
async def tweepy_client(url: str, **credentials: str) -> AsyncIterator[AsyncClient]:
    """tweepy's AsyncClient, aimed at the emulator the way XClient aims it."""
    async with aiohttp.ClientSession(middlewares=(_to_emulator(url),)) as session:
        client = AsyncClient(**credentials)
        client.session = session
        yield client


class _ToEmulator(requests.adapters.HTTPAdapter):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        request.url = request.url.replace(X_ORIGIN, self.url, 1)
        return super().send(request, **kwargs)


# -- OAuth 2.0 with PKCE -------------------------------------------------------------------------


async def test_consent_code_and_token_let_the_person_post_with_tweepy(x: Linking) -> None:
    verifier, challenge = pkce_pair()
    params = x.authorize_params(challenge)
    page = x.http.get("/i/oauth2/authorize", params=params)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Authorize reachable-web to use your account?" in page.text
    for name, value in params.items():
        assert f'name="{name}" value="{value}"' in page.text
    assert 'name="decision" value="authorize"' in page.text
    assert 'name="decision" value="cancel"' in page.text

    answer = redirect_params(x.decide(params, "warga_baru"))
    assert list(answer) == ["state", "code"]
    assert answer["state"] == params["state"]
    response = x.exchange(answer["code"], verifier)

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "access_token", "scope", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 7200)
    assert set(body["scope"].split()) == set(SCOPE.split())
    assert response.headers["cache-control"] == "no-store"
    me = x.me(body["access_token"]).json()["data"]
    assert me["username"] == "warga_baru"
    async with tweepy_client(x.url, bearer_token=body["access_token"]) as client:
        posted = await client.create_tweet(text="Saya tautkan akun saya.", user_auth=False)
        fetched = await client.get_me(user_auth=False)
    assert fetched.data.username == "warga_baru"
    [mine] = x.http.get("/_emulator/posts", params={"author": "warga_baru"}).json()["posts"]
    assert mine["id"] == posted.data["id"]


async def test_a_public_client_names_itself_and_gets_no_refresh_without_offline_access(
    x: Linking,
) -> None:
    body = x.link("warga", client="public", scope="tweet.read users.read")

    assert "refresh_token" not in body
    assert body["scope"] == "tweet.read users.read"
    assert x.me(body["access_token"]).json()["data"]["username"] == "warga"
    assert x.live_tokens("warga")["oauth2_refresh"] == 0


async def test_the_bridge_linker_s_aiohttp_exchange_works(x: Linking) -> None:
    code, verifier = x.authorize("warga")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{x.url}/2/oauth2/token",
            data=form,
            headers={"Authorization": aiohttp.encode_basic_auth(*WEB_CLIENT)},
        ) as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert x.me(body["access_token"]).status_code == 200


def test_tweepy_oauth2_user_handler_links_and_refreshes(x: Linking) -> None:
    handler = tweepy.OAuth2UserHandler(
        client_id=WEB_CLIENT[0],
        redirect_uri=REDIRECT_URI,
        scope=SCOPE.split(),
        client_secret=WEB_CLIENT[1],
    )
    handler.mount(X_ORIGIN + "/", _ToEmulator(x.url))
    query = urlsplit(handler.get_authorization_url()).query
    assert x.http.get(f"/i/oauth2/authorize?{query}").status_code == 200
    decision = x.decide(dict(parse_qsl(query)), "warga_tweepy")

    token = handler.fetch_token(decision.headers["location"])
    refreshed = handler.refresh_token(
        X_ORIGIN + "/2/oauth2/token", refresh_token=token["refresh_token"], auth=handler.auth
    )

    assert refreshed["access_token"] != token["access_token"]
    assert x.me(refreshed["access_token"]).json()["data"]["username"] == "warga_tweepy"
    assert x.refresh(token["refresh_token"]).status_code == 400


async def test_refresh_rotates_and_the_old_refresh_token_is_refused(x: Linking) -> None:
    first = x.link("warga")

    second = x.refresh(first["refresh_token"])
    reused = x.refresh(first["refresh_token"])

    assert second.status_code == 200, second.text
    new = second.json()
    assert new["refresh_token"] != first["refresh_token"]
    assert new["access_token"] != first["access_token"]
    assert new["scope"] == first["scope"]
    assert reused.status_code == 400
    assert reused.json() == {
        "error": "invalid_request",
        "error_description": "Value passed for the token was invalid.",
    }
    assert x.me(new["access_token"]).status_code == 200
    assert x.me(first["access_token"]).status_code == 200
    assert x.refresh(new["refresh_token"]).status_code == 200
    assert x.refresh(new["refresh_token"], client="public").status_code == 400


INVALID_CODE = {
    "error": "invalid_request",
    "error_description": "Value passed for the authorization code was invalid.",
}


async def test_a_code_works_once(x: Linking) -> None:
    code, verifier = x.authorize("warga")

    assert x.exchange(code, verifier).status_code == 200
    again = x.exchange(code, verifier)

    assert (again.status_code, again.json()) == (400, INVALID_CODE)


async def test_a_code_expires_after_30_seconds(x: Linking) -> None:
    code, verifier = x.authorize("warga")
    x.clock.advance(31)

    response = x.exchange(code, verifier)

    assert (response.status_code, response.json()) == (400, INVALID_CODE)


@pytest.mark.parametrize(
    ("change", "description", "then"),
    [
        ({"code_verifier": "wrong-" + "v" * 50}, "did not match the code challenge", 400),
        ({"redirect_uri": "https://elsewhere.example/cb"}, "authorization code was invalid", 400),
        ({"code": "made-up"}, "authorization code was invalid", 200),
        ({"code_verifier": ""}, "Missing required parameter [code_verifier].", 200),
        ({"grant_type": "password"}, "grant type was invalid", 200),
    ],
)
async def test_a_bad_exchange_is_refused_and_a_looked_up_code_is_spent(
    x: Linking, change: dict[str, str], description: str, then: int
) -> None:
    code, verifier = x.authorize("warga")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }

    refused = x.token({**form, **change})

    assert refused.status_code == 400
    assert refused.json()["error"] == (
        "unsupported_grant_type" if "grant_type" in change else "invalid_request"
    )
    assert description in refused.json()["error_description"]
    assert x.token(form).status_code == then


async def test_a_code_belongs_to_the_client_it_was_issued_to(x: Linking) -> None:
    code, verifier = x.authorize("warga", client_id=PUBLIC_CLIENT)

    response = x.exchange(code, verifier, client="web")

    assert (response.status_code, response.json()) == (400, INVALID_CODE)


@pytest.mark.parametrize(
    ("auth", "extra"),
    [
        ((WEB_CLIENT[0], "wrong-secret"), {}),
        (("nobody", "secret"), {}),
        (None, {"client_id": WEB_CLIENT[0]}),
        (None, {"client_id": "nobody"}),
        (None, {}),
        ((WEB_CLIENT[0], WEB_CLIENT[1]), {"client_id": PUBLIC_CLIENT}),
    ],
)
async def test_bad_client_credentials_are_401(
    x: Linking, auth: tuple[str, str] | None, extra: dict[str, str]
) -> None:
    code, verifier = x.authorize("warga")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        **extra,
    }

    response = x.http.post("/2/oauth2/token", data=form, auth=auth)

    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "Missing valid authorization header",
    }
    assert x.exchange(code, verifier).status_code == 200


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"client_id": "nobody"}, "client_id"),
        ({"state": ""}, "state is missing"),
        ({"code_challenge": ""}, "code_challenge"),
        ({"code_challenge_method": "plain"}, "code_challenge_method must be"),
        ({"scope": "tweet.read space.travel"}, "unknown values: space.travel"),
        ({"scope": ""}, "scope is missing"),
        ({"code_challenge": "x" * 43 + "\n"}, "code_challenge"),
        ({"response_type": "token"}, "response_type"),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri"),
        ({"redirect_uri": "https://evil.example/cb"}, "not a callback URL registered"),
        ({"redirect_uri": REDIRECT_URI + "/"}, "not a callback URL registered"),
        ({"redirect_uri": REDIRECT_URI.replace("https:", "http:")}, "not a callback URL"),
    ],
)
async def test_bad_authorize_parameters_get_a_400_page_saying_what_is_wrong(
    x: Linking, override: dict[str, str], complaint: str
) -> None:
    _, challenge = pkce_pair()
    params = x.authorize_params(challenge, **override)

    page = x.http.get("/i/oauth2/authorize", params=params)
    decided = x.decide(params, "warga")

    for response in (page, decided):
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert complaint in response.text.replace("&#x27;", "'")


async def test_cancel_redirects_with_access_denied_and_the_state(x: Linking) -> None:
    _, challenge = pkce_pair()
    params = x.authorize_params(challenge, state=HOSTILE)

    answer = redirect_params(x.decide(params, "warga", decision="cancel"))

    assert answer == {"error": "access_denied", "state": HOSTILE}
    assert x.live_tokens("humas_demo")["oauth2_access"] == 0


async def test_each_consent_issues_its_own_code_and_echoes_its_own_state(x: Linking) -> None:
    verifier, challenge = pkce_pair()
    params = x.authorize_params(challenge)
    first = redirect_params(x.decide(params, "warga"))
    second = redirect_params(x.decide({**params, "state": "other"}, "warga"))

    assert first["code"] != second["code"]
    assert (first["state"], second["state"]) == (params["state"], "other")
    assert x.exchange(first["code"], verifier).status_code == 200
    assert x.exchange(second["code"], verifier).status_code == 200
    assert x.exchange(first["code"], verifier).status_code == 400


async def test_the_redirect_keeps_the_callback_s_own_query(x: Linking) -> None:
    _, challenge = pkce_pair()
    params = x.authorize_params(challenge, redirect_uri=REDIRECT_URI + "?team=T1")

    location = x.decide(params, "warga").headers["location"]

    query = parse_qs(urlsplit(location).query)
    assert query["team"] == ["T1"] and query["state"] == [params["state"]]


async def test_html_echoes_are_escaped(x: Linking) -> None:
    _, challenge = pkce_pair()
    params = x.authorize_params(challenge, state=HOSTILE)

    consent = x.http.get("/i/oauth2/authorize", params=params)
    bad_user = x.decide(params, "<img src=x onerror=alert(1)>")
    bad_client = x.http.get("/i/oauth2/authorize", params={**params, "client_id": "<b>evil</b>"})
    pin_page = x.http.post(
        "/oauth/authorize",
        data={"oauth_token": x.request_token()["oauth_token"], "username": "<i>x</i>"},
    )

    assert consent.status_code == 200
    assert "&quot;&#x27;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;amp;" in consent.text
    assert bad_user.status_code == 400
    assert "&lt;img src=x onerror=alert(1)&gt;" in bad_user.text
    assert bad_client.status_code == 400 and "&lt;b&gt;evil&lt;/b&gt;" in bad_client.text
    assert pin_page.status_code == 400 and "&lt;i&gt;x&lt;/i&gt;" in pin_page.text
    for page in (consent, bad_user, bad_client, pin_page):
        assert "<script>" not in page.text
        assert "<img" not in page.text and "<b>" not in page.text and "<i>" not in page.text


async def test_access_tokens_expire_after_7200_seconds_but_refresh_still_works(
    x: Linking,
) -> None:
    tokens = x.link("warga")
    x.clock.advance(7199)
    assert x.me(tokens["access_token"]).status_code == 200

    x.clock.advance(2)
    expired = x.me(tokens["access_token"])

    assert expired.status_code == 401
    assert expired.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }
    refreshed = x.refresh(tokens["refresh_token"]).json()
    assert x.me(refreshed["access_token"]).status_code == 200


async def test_control_expire_ends_access_tokens_now(x: Linking) -> None:
    tokens = x.link("warga")
    other = x.link("tetangga")

    response = x.http.post("/_emulator/tokens/expire", json={"username": "@warga"})

    assert response.json() == {"username": "warga", "expired": {"oauth2_access": 1}}
    assert x.me(tokens["access_token"]).status_code == 401
    assert x.me(other["access_token"]).status_code == 200
    assert x.live_tokens("warga")["oauth2_access"] == 0
    assert x.refresh(tokens["refresh_token"]).status_code == 200


async def test_control_revoke_ends_every_token_of_the_person(x: Linking) -> None:
    oauth2 = x.link("warga")
    oauth1 = x.link_with_pin("warga")
    before = x.live_tokens("warga")
    assert before["oauth2_access_expires_at"] == [pytest.approx(x.clock.now + 7200)]

    response = x.http.post("/_emulator/tokens/revoke", json={"username": "warga"})

    counts = {"oauth2_access": 1, "oauth2_refresh": 1, "oauth1_access": 1}
    assert {k: before[k] for k in counts} == counts
    assert response.json() == {"username": "warga", "revoked": counts}
    assert x.me(oauth2["access_token"]).status_code == 401
    assert x.refresh(oauth2["refresh_token"]).json()["error_description"] == (
        "Value passed for the token was invalid."
    )
    async with XClient(
        bearer_token=APP_TOKEN,
        api_url=x.url,
        consumer_key=CONSUMER[0],
        consumer_secret=CONSUMER[1],
        access_token=oauth1["oauth_token"],
        access_token_secret=oauth1["oauth_token_secret"],
    ) as client:
        with pytest.raises(PermanentError, match="401"):
            await client.create_post(text="after revoke", in_reply_to=None)
    assert x.live_tokens("warga") == {
        "username": "warga",
        "oauth2_access": 0,
        "oauth2_refresh": 0,
        "oauth1_access": 0,
        "oauth2_access_expires_at": [],
    }


async def test_the_revoke_endpoint_ends_one_token(x: Linking) -> None:
    tokens = x.link("warga")

    response = x.http.post(
        "/2/oauth2/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "access_token"},
        auth=WEB_CLIENT,
    )
    foreign = x.http.post(
        "/2/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": PUBLIC_CLIENT}
    )

    assert response.json() == {"revoked": True}
    assert x.me(tokens["access_token"]).status_code == 401
    assert foreign.json() == {"revoked": True}
    assert x.refresh(tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/_emulator/tokens/expire", b"not json"),
        ("POST", "/_emulator/tokens/expire", b"{}"),
        ("POST", "/_emulator/tokens/revoke", b'{"username": "nobody_here"}'),
        ("POST", "/_emulator/tokens/revoke", b'{"username": "warga", "all": true}'),
        ("POST", "/_emulator/tokens/revoke", b'{"username": 7}'),
        ("GET", "/_emulator/tokens", b""),
        ("GET", "/_emulator/tokens?username=bad%20name", b""),
    ],
)
async def test_bad_token_control_input_is_400(
    x: Linking, method: str, path: str, body: bytes
) -> None:
    x.link("warga")

    response = x.http.request(method, path, content=body)

    assert response.status_code == 400
    assert response.json()["error"]
    assert x.live_tokens("warga")["oauth2_access"] == 1


# -- OAuth 1.0a PIN ------------------------------------------------------------------------------


async def test_the_pin_flow_links_and_the_token_posts_with_xclient(x: Linking) -> None:
    signer = OAuth1Signer(CONSUMER[0], client_secret=CONSUMER[1], callback_uri="oob")
    url, headers, _ = signer.sign(f"{x.url}/oauth/request_token", http_method="POST")
    answer = x.http.post(url, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    request = dict(parse_qsl(answer.text))
    assert request["oauth_callback_confirmed"] == "true"

    page = x.http.get("/oauth/authorize", params={"oauth_token": request["oauth_token"]})
    assert page.status_code == 200
    assert "Authorize ck-reachable to access your account?" in page.text
    assert 'name="username"' in page.text
    pin_page = x.http.post(
        "/oauth/authorize", data={"oauth_token": request["oauth_token"], "username": "warga_pin"}
    )
    pin = pin_in(pin_page.text)
    assert re.fullmatch(r"\d{7}", pin)
    assert "return to ck-reachable and enter this PIN" in pin_page.text

    exchanged = x.access_token(request, pin)
    assert exchanged.status_code == 200
    granted = dict(parse_qsl(exchanged.text))
    assert set(granted) == {"oauth_token", "oauth_token_secret", "user_id", "screen_name"}
    assert granted["screen_name"] == "warga_pin"
    assert granted["oauth_token"].startswith(granted["user_id"] + "-")

    keys = {"consumer_key": CONSUMER[0], "consumer_secret": CONSUMER[1]}
    user_keys = {
        "access_token": granted["oauth_token"],
        "access_token_secret": granted["oauth_token_secret"],
    }
    async with XClient(bearer_token=APP_TOKEN, api_url=x.url, **keys, **user_keys) as client:
        post_id = await client.create_post(text="Lewat PIN.", in_reply_to=None)
    async with tweepy_client(x.url, **keys, **user_keys) as tweepy_async:
        me = await tweepy_async.get_me(user_auth=True)
    assert me.data.username == "warga_pin" and str(me.data.id) == granted["user_id"]
    [mine] = x.http.get("/_emulator/posts", params={"author": "warga_pin"}).json()["posts"]
    assert mine["id"] == post_id


def test_tweepy_oauth1_user_handler_completes_the_pin_flow(
    x: Linking, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator_url = x.url

    class EmulatedSession(OAuth1Session):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.mount(X_ORIGIN + "/", _ToEmulator(emulator_url))

    monkeypatch.setattr(tweepy.auth, "OAuth1Session", EmulatedSession)
    handler = tweepy.OAuth1UserHandler(CONSUMER[0], CONSUMER[1], callback="oob")
    authorize_url = handler.get_authorization_url()
    request_token = parse_qs(urlsplit(authorize_url).query)["oauth_token"][0]

    token, secret = handler.get_access_token(x.pin_for(request_token, "warga_handler"))

    signer = OAuth1Signer(
        CONSUMER[0],
        client_secret=CONSUMER[1],
        resource_owner_key=token,
        resource_owner_secret=secret,
    )
    _, headers, _ = signer.sign(f"{x.url}/2/users/me")
    me = x.http.get("/2/users/me", headers=headers)
    assert me.json()["data"]["username"] == "warga_handler"


@pytest.mark.parametrize("where", ["body", "query"])
async def test_the_verifier_may_come_in_the_body_or_the_query(x: Linking, where: str) -> None:
    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "warga")
    signer = OAuth1Signer(
        CONSUMER[0],
        client_secret=CONSUMER[1],
        resource_owner_key=request["oauth_token"],
        resource_owner_secret=request["oauth_token_secret"],
    )
    url = f"{x.url}/oauth/access_token"
    if where == "body":
        form_type = {"Content-Type": "application/x-www-form-urlencoded"}
        signed_url, headers, body = signer.sign(
            url, http_method="POST", body=f"oauth_verifier={pin}", headers=form_type
        )
    else:
        signed_url, headers, body = signer.sign(f"{url}?oauth_verifier={pin}", http_method="POST")

    response = x.http.post(signed_url, headers=headers, content=body)

    assert response.status_code == 200, response.text
    assert dict(parse_qsl(response.text))["screen_name"] == "warga"


async def test_form_body_parameters_are_covered_by_the_signature(x: Linking) -> None:
    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "warga")
    signer = OAuth1Signer(
        CONSUMER[0],
        client_secret=CONSUMER[1],
        resource_owner_key=request["oauth_token"],
        resource_owner_secret=request["oauth_token_secret"],
        verifier=pin,
    )
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    url, headers, _ = signer.sign(
        f"{x.url}/oauth/access_token", http_method="POST", body="x_note=a", headers=form_type
    )

    tampered = x.http.post(url, headers=headers, content=b"x_note=b")

    assert tampered.status_code == 401
    assert tampered.json() == {"errors": [{"code": 32, "message": "Could not authenticate you."}]}
    assert x.access_token(request, pin).status_code == 200


async def test_a_wrong_pin_is_401_and_the_request_token_survives_it(x: Linking) -> None:
    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "warga")
    wrong = f"{(int(pin) + 1) % 10**7:07d}"

    refused = x.access_token(request, wrong)

    assert refused.status_code == 401
    assert refused.text == "Error processing your OAuth request: Invalid oauth_verifier parameter"
    assert x.access_token(request, pin).status_code == 200


async def test_a_request_token_works_once(x: Linking) -> None:
    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "warga")
    assert x.access_token(request, pin).status_code == 200

    again = x.access_token(request, pin)
    page = x.http.get("/oauth/authorize", params={"oauth_token": request["oauth_token"]})

    assert (again.status_code, again.text) == (401, "Invalid request token.")
    assert page.status_code == 400 and "Whoa there!" in page.text


async def test_a_request_token_is_approved_once(x: Linking) -> None:
    request = x.request_token()
    x.pin_for(request["oauth_token"], "warga")

    second = x.http.post(
        "/oauth/authorize", data={"oauth_token": request["oauth_token"], "username": "intruder"}
    )

    assert second.status_code == 400 and 'id="pin"' not in second.text


async def test_a_request_token_expires_after_15_minutes(x: Linking) -> None:
    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "warga")
    x.clock.advance(15 * 60 + 1)

    response = x.access_token(request, pin)

    assert (response.status_code, response.text) == (401, "Invalid request token.")


async def test_no_pin_before_approval_and_none_after_cancel(x: Linking) -> None:
    request = x.request_token()
    assert x.access_token(request, "1234567").status_code == 401

    cancelled = x.http.post(
        "/oauth/authorize",
        data={"oauth_token": request["oauth_token"], "username": "", "decision": "cancel"},
    )

    assert cancelled.status_code == 200 and 'id="pin"' not in cancelled.text
    assert x.access_token(request, "1234567").text == "Invalid request token."


@pytest.mark.parametrize(
    ("secret", "callback", "status", "code"),
    [
        ("wrong-secret", "oob", 401, 32),
        (CONSUMER[1], "https://evil.example/cb", 403, 415),
    ],
)
async def test_request_token_refusals_are_x_errors(
    x: Linking, secret: str, callback: str, status: int, code: int
) -> None:
    signer = OAuth1Signer(CONSUMER[0], client_secret=secret, callback_uri=callback)
    url, headers, _ = signer.sign(f"{x.url}/oauth/request_token", http_method="POST")

    response = x.http.post(url, headers=headers)

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code


async def test_unknown_consumer_and_wrong_request_secret_cannot_authenticate(x: Linking) -> None:
    stranger = OAuth1Signer("ck-unknown", client_secret="cs", callback_uri="oob")
    url, headers, _ = stranger.sign(f"{x.url}/oauth/request_token", http_method="POST")
    assert x.http.post(url, headers=headers).status_code == 401

    request = x.request_token()
    pin = x.pin_for(request["oauth_token"], "warga")
    forged = x.access_token({**request, "oauth_token_secret": "guessed"}, pin)

    assert forged.status_code == 401
    assert forged.json()["errors"][0]["message"] == "Could not authenticate you."
    assert x.access_token(request, pin).status_code == 200


# -- shared emulator behaviour -------------------------------------------------------------------


async def test_faults_and_the_call_log_cover_the_linking_routes(x: Linking) -> None:
    x.http.post("/_emulator/faults", json={"path": "/2/oauth2/token", "status": 503})
    x.http.post("/_emulator/faults", json={"path": "/oauth/request_token", "status": 429})
    code, verifier = x.authorize("warga")

    failed = x.exchange(code, verifier)
    signer = OAuth1Signer(CONSUMER[0], client_secret=CONSUMER[1], callback_uri="oob")
    url, headers, _ = signer.sign(f"{x.url}/oauth/request_token", http_method="POST")
    limited = x.http.post(url, headers=headers)

    assert (failed.status_code, failed.json()["title"]) == (503, "Service Unavailable")
    assert limited.status_code == 429 and "x-rate-limit-reset" in limited.headers
    assert x.exchange(code, verifier).status_code == 200
    x.link_with_pin("warga")
    logged = [(c["method"], c["path"], c["status"]) for c in x.calls()]
    assert logged[:4] == [
        ("GET", "/i/oauth2/authorize", 200),
        ("POST", "/i/oauth2/authorize", 302),
        ("POST", "/2/oauth2/token", 503),
        ("POST", "/oauth/request_token", 429),
    ]
    assert ("POST", "/oauth/access_token", 200) in logged


async def test_reset_forgets_issued_tokens_but_not_configured_credentials(x: Linking) -> None:
    oauth2 = x.link("warga")
    x.link_with_pin("warga")

    x.http.post("/_emulator/reset")

    assert x.me(oauth2["access_token"]).status_code == 401
    assert x.refresh(oauth2["refresh_token"]).status_code == 400
    assert x.http.get("/_emulator/tokens", params={"username": "warga"}).status_code == 400
    assert x.link("warga", client="public")["access_token"]
    async with XClient(
        bearer_token=APP_TOKEN,
        api_url=x.url,
        consumer_key=CONSUMER[0],
        consumer_secret=CONSUMER[1],
        access_token=STATIC_OAUTH1[0],
        access_token_secret=STATIC_OAUTH1[1],
    ) as humas:
        assert await humas.create_post(text="masih bisa", in_reply_to=None)
