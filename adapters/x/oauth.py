"""X's side of linking a person's account: OAuth 2.0 with PKCE, and the OAuth 1.0a PIN flow.

tweepy's handlers for these are synchronous ``requests`` sessions with X's hosts written in; the
flows are two or three form posts each, so they are made here with aiohttp (as the rest of the X
adapter is) and oauthlib's signer (the one tweepy signs with), against ``REACHABLE_X_API_URL``.
Tokens never reach a log line: errors carry X's ``error_description`` only.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import aiohttp
from oauthlib.oauth1 import Client as OAuth1Signer
from pydantic import SecretStr

from adapters.x.client import X_API_URL, XClient
from adapters.x.settings import XSettings, x_settings
from bridge.desks.linking import LinkGrant, PinRequest
from bridge.errors import CredentialsRejected, PermanentError, RateLimited, TransientError
from bridge.settings import Settings
from bridge.store.vault import Credentials

log = logging.getLogger(__name__)

NETWORK = "x"
X_WEB_URL = "https://x.com"
# offline.access brings a refresh token; without it the link would die with the access token.
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access")
TIMEOUT = aiohttp.ClientTimeout(total=30)


class XLinker:
    network = NETWORK

    def __init__(self, settings: XSettings) -> None:
        self.api_url = settings.x_api_url.rstrip("/")
        # Browsers approve on x.com; an emulator serves both pages and API on one address.
        self.web_url = X_WEB_URL if self.api_url == X_API_URL else self.api_url
        self.client_id = settings.x_oauth_client_id
        self.client_secret = settings.x_oauth_client_secret
        key, secret = settings.x_consumer_key, settings.x_consumer_secret
        self.consumer = (
            (key.get_secret_value(), secret.get_secret_value()) if key and secret else None
        )
        bearer = settings.x_bearer_token
        self.app_bearer = bearer.get_secret_value() if bearer else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> XLinker:
        """From the bridge's composed settings (the core's and X's)."""
        return cls(x_settings(settings))

    def can_link_on_web(self) -> bool:
        return self.client_id is not None

    def can_link_with_pin(self) -> bool:
        return self.consumer is not None

    # -- OAuth 2.0 with PKCE ---------------------------------------------------------------------

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id or "",
                "redirect_uri": redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            },
            quote_via=quote,
        )
        return f"{self.web_url}/i/oauth2/authorize?{query}"

    async def grant_from_code(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> LinkGrant:
        body = await self._token_call(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        credentials = _oauth2_credentials(body)
        async with self.client_for(credentials) as client:
            handle, user_id = await client.me()
        return LinkGrant(credentials=credentials, handle=handle, user_id=user_id)

    async def refresh(self, credentials: Credentials) -> Credentials:
        if credentials.refresh_token is None:
            raise CredentialsRejected(NETWORK, "the link has no refresh token")
        try:
            body = await self._token_call(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": credentials.refresh_token.get_secret_value(),
                }
            )
        except CredentialsRejected:
            raise
        except PermanentError as exc:
            # A refused refresh token is a link that is gone (revoked, or lost in a race).
            raise CredentialsRejected(NETWORK, exc.detail) from None
        return _oauth2_credentials(body)

    async def _token_call(self, form: dict[str, str]) -> dict[str, Any]:
        if self.client_id is None:
            raise PermanentError(NETWORK, "no OAuth 2.0 client id (REACHABLE_X_OAUTH_CLIENT_ID)")
        headers = {}
        if self.client_secret is not None:
            headers["Authorization"] = _basic_auth(
                self.client_id, self.client_secret.get_secret_value()
            )
        else:
            form = {**form, "client_id": self.client_id}
        status, body = await _post(f"{self.api_url}/2/oauth2/token", data=form, headers=headers)
        if status != 200:
            raise _token_error(status, body)
        try:
            return dict(_json(body))
        except ValueError:
            raise TransientError(NETWORK, "token endpoint answered without JSON") from None

    # -- OAuth 1.0a PIN --------------------------------------------------------------------------

    async def request_pin(self) -> PinRequest:
        key, secret = self._consumer()
        signer = OAuth1Signer(key, client_secret=secret, callback_uri="oob")
        answer = await self._signed_post(signer, "/oauth/request_token")
        token, token_secret = answer.get("oauth_token"), answer.get("oauth_token_secret")
        if not token or not token_secret:
            raise TransientError(NETWORK, "request_token answered without a token")
        return PinRequest(
            url=f"{self.api_url}/oauth/authorize?oauth_token={quote(token)}",
            request_token=token,
            request_secret=token_secret,
        )

    async def grant_from_pin(
        self, *, request_token: str, request_secret: str, pin: str
    ) -> LinkGrant:
        key, secret = self._consumer()
        signer = OAuth1Signer(
            key,
            client_secret=secret,
            resource_owner_key=request_token,
            resource_owner_secret=request_secret,
            verifier=pin,
        )
        answer = await self._signed_post(signer, "/oauth/access_token")
        token, token_secret = answer.get("oauth_token"), answer.get("oauth_token_secret")
        handle, user_id = answer.get("screen_name"), answer.get("user_id")
        if not (token and token_secret and handle and user_id):
            raise TransientError(NETWORK, "access_token answered without the account")
        credentials = Credentials(
            method="oauth1", access_token=SecretStr(token), token_secret=SecretStr(token_secret)
        )
        return LinkGrant(credentials=credentials, handle=handle, user_id=user_id)

    def _consumer(self) -> tuple[str, str]:
        if self.consumer is None:
            raise PermanentError(NETWORK, "no consumer keys (REACHABLE_X_CONSUMER_KEY/SECRET)")
        return self.consumer

    async def _signed_post(self, signer: OAuth1Signer, path: str) -> dict[str, str]:
        url, headers, _ = signer.sign(f"{self.api_url}{path}", http_method="POST")
        status, body = await _post(url, headers=headers)
        if status == 429:
            raise RateLimited(NETWORK, "OAuth: too many requests", retry_after=60.0)
        if status >= 500:
            raise TransientError(NETWORK, f"OAuth: HTTP {status}")
        if status != 200:
            raise PermanentError(NETWORK, _oauth1_error(status, body))
        return dict(parse_qsl(body.decode("utf-8", "replace")))

    # -- posting as the person -------------------------------------------------------------------

    def client_for(self, credentials: Credentials) -> XClient:
        """An X client acting as the linked person (close it after use)."""
        if credentials.method == "oauth2":
            return XClient(
                bearer_token=credentials.access_token.get_secret_value(),
                api_url=self.api_url,
                bearer_is_user=True,
            )
        key, secret = self._consumer()
        assert credentials.token_secret is not None
        return XClient(
            bearer_token=self.app_bearer,
            api_url=self.api_url,
            consumer_key=key,
            consumer_secret=secret,
            access_token=credentials.access_token.get_secret_value(),
            access_token_secret=credentials.token_secret.get_secret_value(),
        )


async def _post(
    url: str,
    *,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, data=data, headers=headers) as response,
        ):
            return response.status, await response.read()
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise TransientError(NETWORK, f"{type(exc).__name__}: {exc}") from None


def _basic_auth(client_id: str, client_secret: str) -> str:
    """RFC 6749 section 2.3.1: both parts form-encoded, then HTTP Basic."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


def _json(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _token_error(status: int, body: bytes) -> Exception:
    try:
        answer = _json(body)
        detail = str(answer.get("error_description") or answer.get("error") or "")
    except ValueError:
        detail = ""
    detail = f"HTTP {status}: {detail or 'error'}"
    if status == 429:
        return RateLimited(NETWORK, detail, retry_after=60.0)
    if status >= 500:
        return TransientError(NETWORK, detail)
    if status == 401:
        return CredentialsRejected(NETWORK, detail)
    return PermanentError(NETWORK, detail)


def _oauth1_error(status: int, body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    try:
        errors = _json(body).get("errors") or []
        text = "; ".join(str(e.get("message", "")) for e in errors) or text
    except ValueError:
        pass
    return f"HTTP {status}: {text.strip()[:200] or 'error'}"


def _oauth2_credentials(body: dict[str, Any]) -> Credentials:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise TransientError(NETWORK, "token endpoint answered without an access token")
    refresh = body.get("refresh_token")
    expires_in = body.get("expires_in")
    return Credentials(
        method="oauth2",
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) and refresh else None,
        expires_at=time.time() + float(expires_in) if isinstance(expires_in, int | float) else None,
    )
