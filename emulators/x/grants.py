"""What the X emulator's linking flows issued, and the OAuth 1.0a signature.

:class:`OAuthGrants` keeps the OAuth 2.0 codes and tokens and the OAuth 1.0a request and access
tokens (their lifetimes are X's, see :mod:`emulators.x.oauth`); :func:`oauth1_signature` is the
HMAC-SHA1 that both the API's authentication and the PIN flow's endpoints check. It needs only
the data records, so the emulator's state can hold a store without importing the endpoints.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote

from starlette.responses import JSONResponse, Response

from emulators.x.model import Json, User

AUTH_CODE_TTL_S = 30.0
ACCESS_TOKEN_TTL_S = 7200
REQUEST_TOKEN_TTL_S = 900.0
PIN_DIGITS = 7
OFFLINE_ACCESS = "offline.access"

INVALID_CODE = "Value passed for the authorization code was invalid."
VERIFIER_MISMATCH = "Value passed for the code verifier did not match the code challenge."
INVALID_TOKEN = "Value passed for the token was invalid."


class OAuthError(Exception):
    """A refusal of the OAuth 2.0 token endpoints."""

    def __init__(self, description: str, error: str = "invalid_request", status: int = 400):
        super().__init__(description)
        self.description = description
        self.error = error
        self.status = status

    def response(self) -> Response:
        return no_store_json(
            {"error": self.error, "error_description": self.description}, self.status
        )


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def secrets_equal(a: str, b: str) -> bool:
    """Constant-time, and safe with non-ASCII input (``compare_digest`` on str is not)."""
    return hmac.compare_digest(a.encode(), b.encode())


def no_store_json(body: Json, status: int = 200) -> Response:
    headers = {"cache-control": "no-store", "pragma": "no-cache"}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/json; charset=utf-8"
    )


# -- state ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What a person allowed one OAuth 2.0 client; every token of the grant carries it."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class PendingCode:
    grant: Grant
    redirect_uri: str
    code_challenge: str
    expires_at: float


@dataclass(frozen=True)
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass(frozen=True)
class RequestToken:
    """An OAuth 1.0a request token; ``approval`` is set once the person typed a username."""

    consumer_key: str
    secret: str
    expires_at: float
    approval: tuple[User, str] | None = None


@dataclass(frozen=True)
class UserToken:
    """An OAuth 1.0a access token from the PIN flow."""

    consumer_key: str
    secret: str
    user_id: str
    username: str


class OAuthGrants:
    """Codes and tokens the linking flows issued. Reset forgets them; the clients stay."""

    def __init__(
        self,
        clients: Mapping[str, str | None],
        clock: Callable[[], float],
        callbacks: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.clients = dict(clients)
        self.callbacks = {client: frozenset(uris) for client, uris in (callbacks or {}).items()}
        self._clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._codes: dict[str, PendingCode] = {}
            self._access: dict[str, AccessToken] = {}
            self._refresh: dict[str, Grant] = {}
            self._request_tokens: dict[str, RequestToken] = {}
            self._user_tokens: dict[str, UserToken] = {}
            self._issued: dict[str, list[str]] = {}

    def issued_to(self, user_id: str) -> list[str]:
        """Every token and secret ever issued to the user, even revoked ones: what tests search
        a client's storage and logs for."""
        with self._lock:
            return list(self._issued.get(user_id, []))

    # OAuth 2.0 ---------------------------------------------------------------------------------

    def issue_code(self, grant: Grant, *, redirect_uri: str, code_challenge: str) -> str:
        code = secrets.token_urlsafe(32)
        expires_at = self._clock() + AUTH_CODE_TTL_S
        with self._lock:
            self._codes[code] = PendingCode(grant, redirect_uri, code_challenge, expires_at)
        return code

    def redeem_code(
        self, code: str, *, client_id: str, redirect_uri: str, code_verifier: str
    ) -> Json:
        with self._lock:
            pending = self._codes.pop(code, None)
        if (
            pending is None
            or pending.expires_at <= self._clock()
            or pending.grant.client_id != client_id
            or pending.redirect_uri != redirect_uri
        ):
            raise OAuthError(INVALID_CODE)
        if not secrets_equal(_s256(code_verifier), pending.code_challenge):
            raise OAuthError(VERIFIER_MISMATCH)
        return self._issue_tokens(pending.grant)

    def refresh(self, refresh_token: str, *, client_id: str) -> Json:
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if grant is None or grant.client_id != client_id:
                raise OAuthError(INVALID_TOKEN)
            del self._refresh[refresh_token]
        return self._issue_tokens(grant)

    def _issue_tokens(self, grant: Grant) -> Json:
        """X's token response; a refresh token only when the grant includes offline access."""
        access = secrets.token_urlsafe(32)
        body: Json = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL_S,
            "access_token": access,
            "scope": " ".join(grant.scopes),
        }
        with self._lock:
            self._access[access] = AccessToken(grant, self._clock() + ACCESS_TOKEN_TTL_S)
            issued = self._issued.setdefault(grant.user_id, [])
            issued.append(access)
            if OFFLINE_ACCESS in grant.scopes:
                body["refresh_token"] = refresh = secrets.token_urlsafe(32)
                self._refresh[refresh] = grant
                issued.append(refresh)
        return body

    def revoke_token(self, token: str, *, client_id: str) -> None:
        with self._lock:
            access = self._access.get(token)
            if access is not None and access.grant.client_id == client_id:
                del self._access[token]
            grant = self._refresh.get(token)
            if grant is not None and grant.client_id == client_id:
                del self._refresh[token]

    def user_for_access_token(self, token: str) -> str | None:
        with self._lock:
            access = self._access.get(token)
        if access is None or access.expires_at <= self._clock():
            return None
        return access.grant.user_id

    # OAuth 1.0a --------------------------------------------------------------------------------

    def issue_request_token(self, consumer_key: str) -> tuple[str, str]:
        token, secret = secrets.token_urlsafe(20), secrets.token_urlsafe(32)
        expires_at = self._clock() + REQUEST_TOKEN_TTL_S
        with self._lock:
            self._request_tokens[token] = RequestToken(consumer_key, secret, expires_at)
        return token, secret

    def live_request_token(self, token: str) -> RequestToken | None:
        with self._lock:
            found = self._request_tokens.get(token)
            return found if found is not None and found.expires_at > self._clock() else None

    def approve_request_token(self, token: str, user: User) -> str | None:
        """Record who approved; the PIN to show them, or None if the token awaits no approval."""
        pin = f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
        with self._lock:
            found = self.live_request_token(token)
            if found is None or found.approval is not None:
                return None
            self._request_tokens[token] = replace(found, approval=(user, pin))
        return pin

    def deny_request_token(self, token: str) -> None:
        with self._lock:
            self._request_tokens.pop(token, None)

    def exchange_request_token(self, token: str, verifier: str) -> tuple[str, UserToken] | None:
        """A new access token and its record, for an approved request token and its PIN."""
        with self._lock:
            found = self.live_request_token(token)
            if (
                found is None
                or found.approval is None
                or not secrets_equal(found.approval[1], verifier)
            ):
                return None
            del self._request_tokens[token]
            user = found.approval[0]
            # X's access tokens start with the user's id.
            access = f"{user.id}-{secrets.token_urlsafe(30)}"
            record = UserToken(
                found.consumer_key, secrets.token_urlsafe(32), user.id, user.username
            )
            self._user_tokens[access] = record
            self._issued.setdefault(user.id, []).extend((access, record.secret))
        return access, record

    def oauth1_token(self, token: str, consumer_key: str) -> tuple[str, str] | None:
        """``(token secret, username)`` of a PIN-flow token of this consumer, else None."""
        with self._lock:
            found = self._user_tokens.get(token)
        if found is None or found.consumer_key != consumer_key:
            return None
        return found.secret, found.username

    # control -----------------------------------------------------------------------------------

    def expire_access_tokens(self, user_id: str) -> int:
        now = self._clock()
        with self._lock:
            live = [
                token
                for token, access in self._access.items()
                if access.grant.user_id == user_id and access.expires_at > now
            ]
            for token in live:
                self._access[token] = AccessToken(self._access[token].grant, now)
        return len(live)

    def revoke_user(self, user_id: str) -> dict[str, int]:
        """End every token of the person, as revoking the app's access on X does."""
        with self._lock:
            live = self.live_tokens(user_id)
            self._access = {t: a for t, a in self._access.items() if a.grant.user_id != user_id}
            self._refresh = {t: g for t, g in self._refresh.items() if g.user_id != user_id}
            self._user_tokens = {t: u for t, u in self._user_tokens.items() if u.user_id != user_id}
        return {kind: live[kind] for kind in ("oauth2_access", "oauth2_refresh", "oauth1_access")}

    def live_tokens(self, user_id: str) -> Json:
        now = self._clock()
        with self._lock:
            expiries = sorted(
                a.expires_at
                for a in self._access.values()
                if a.grant.user_id == user_id and a.expires_at > now
            )
            refresh = sum(1 for g in self._refresh.values() if g.user_id == user_id)
            oauth1 = sum(1 for u in self._user_tokens.values() if u.user_id == user_id)
        return {
            "oauth2_access": len(expiries),
            "oauth2_refresh": refresh,
            "oauth1_access": oauth1,
            "oauth2_access_expires_at": expiries,
        }


# -- OAuth 1.0a signatures -----------------------------------------------------------------------


def _oauth_percent(value: str) -> str:
    return quote(value, safe="~")


def oauth1_signature(
    method: str,
    base_url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """HMAC-SHA1 as RFC 5849 defines it; tweepy signs with oauthlib, so this must match it."""
    pairs = sorted((_oauth_percent(k), _oauth_percent(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join((method.upper(), _oauth_percent(base_url), _oauth_percent(normalized)))
    key = f"{_oauth_percent(consumer_secret)}&{_oauth_percent(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in filter(None, raw_query.split("&")):
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs
