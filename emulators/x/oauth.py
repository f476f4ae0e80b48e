"""Linking a person's own X account, as X runs it, for the X emulator.

Two flows, each ending in tokens that the emulator's API then accepts as that person:

- OAuth 2.0 Authorization Code with PKCE: a consent page at ``/i/oauth2/authorize`` (x.com on
  X; the emulator's own address here), then ``POST /2/oauth2/token`` for the code, and later for
  refreshes. ``POST /2/oauth2/revoke`` ends a token early.
- OAuth 1.0a out-of-band ("PIN"): ``POST /oauth/request_token``, a consent page at
  ``/oauth/authorize`` that shows a 7-digit PIN, then ``POST /oauth/access_token``.

Behaviour worth knowing:

- Authorization codes live 30 s; an authenticated, complete exchange spends one even if it fails.
- Access tokens live 7200 s. Refresh tokens come only with ``offline.access`` and rotate: a
  refresh spends the old one. A refresh leaves earlier access tokens alive until they expire.
- Token-endpoint errors are ``{"error", "error_description"}`` JSON in X's wording.
- Request tokens live 15 minutes, are spent by a successful exchange, and survive a wrong PIN.
  OAuth 1.0a access tokens do not expire, as on X.
- Only ``S256`` PKCE is accepted (X also takes ``plain``; a client here should not use it).
- Scopes are checked on the consent page but not enforced on API calls.
- Nobody logs in: whoever types a valid username approves as that person, who is created if the
  emulator has not seen them yet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from emulators.core import MAX_BODY_BYTES, bad_request, json_endpoint
from emulators.x.api import (
    API_ORIGIN,
    USERNAME_RE,
    User,
    _query_pairs,
    _words,
    oauth1_signature,
)

if TYPE_CHECKING:
    from emulators.x.api import XEmulator

Json = dict[str, Any]

AUTH_CODE_TTL_S = 30.0
ACCESS_TOKEN_TTL_S = 7200
REQUEST_TOKEN_TTL_S = 900.0
PIN_DIGITS = 7
OFFLINE_ACCESS = "offline.access"
SCOPES = _words(
    "tweet.read tweet.write tweet.moderate.write users.email users.read follows.read "
    "follows.write offline.access space.read mute.read mute.write like.read like.write list.read "
    "list.write block.read block.write bookmark.read bookmark.write dm.read dm.write media.write"
)
S256_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
OAUTH_HEADER_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

INVALID_CODE = "Value passed for the authorization code was invalid."
VERIFIER_MISMATCH = "Value passed for the code verifier did not match the code challenge."
INVALID_TOKEN = "Value passed for the token was invalid."
INVALID_VERIFIER = "Error processing your OAuth request: Invalid oauth_verifier parameter"
INVALID_REQUEST_TOKEN = "Invalid request token."
STALE_REQUEST_TOKEN = (
    "The request token for this page is invalid. It may have already been used, or expired "
    "because it is too old. Please go back to the site or application that sent you here and "
    "try again; it was probably just a mistake."
)


class OAuthError(Exception):
    """A refusal of the OAuth 2.0 token endpoints."""

    def __init__(self, description: str, error: str = "invalid_request", status: int = 400):
        super().__init__(description)
        self.description = description
        self.error = error
        self.status = status

    def response(self) -> Response:
        return _no_store_json(
            {"error": self.error, "error_description": self.description}, self.status
        )


def _unauthorized_client() -> OAuthError:
    return OAuthError("Missing valid authorization header", "unauthorized_client", 401)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _same(a: str, b: str) -> bool:
    """Constant-time, and safe with non-ASCII input (``compare_digest`` on str is not)."""
    return hmac.compare_digest(a.encode(), b.encode())


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
        if not _same(_s256(code_verifier), pending.code_challenge):
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
            if found is None or found.approval is None or not _same(found.approval[1], verifier):
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


# -- requests and responses ----------------------------------------------------------------------


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    """A form-encoded body's fields in order; any other body reads as an empty form."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if len(body) > MAX_BODY_BYTES or not content_type.startswith(FORM_CONTENT_TYPE):
        return []
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


async def _form(request: Request) -> dict[str, str]:
    return dict(await _form_pairs(request))


def _no_store_json(body: Json, status: int = 200) -> Response:
    headers = {"cache-control": "no-store", "pragma": "no-cache"}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type="application/json; charset=utf-8"
    )


def _form_encoded(pairs: Mapping[str, str]) -> Response:
    """OAuth 1.0a answers: a form-encoded body that X labels ``text/html``."""
    return Response(urlencode(pairs), media_type="text/html; charset=utf-8")


def _oauth1_refusal(status: int, message: str) -> Response:
    return Response(message, status_code=status, media_type="text/plain; charset=utf-8")


def _oauth1_error(status: int, code: int, message: str) -> Response:
    body = {"errors": [{"code": code, "message": message}]}
    return JSONResponse(body, status_code=status, media_type="application/json; charset=utf-8")


def _could_not_authenticate() -> Response:
    return _oauth1_error(401, 32, "Could not authenticate you.")


def _redirect(uri: str, params: Mapping[str, str]) -> Response:
    parts = urlsplit(uri)
    query = "&".join(filter(None, (parts.query, urlencode(params))))
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


def _page(title: str, body: str, status: int = 200) -> Response:
    """A bare HTML page; ``title`` is escaped here, ``body`` must arrive escaped."""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>"
    )
    headers = {"cache-control": "no-store", "x-frame-options": "DENY"}
    return HTMLResponse(html, status_code=status, headers=headers)


def _error_page(message: str) -> Response:
    return _page("Something went wrong", f'<p role="alert">{escape(message)}</p>', 400)


def _consent_page(
    *,
    title: str,
    action: str,
    hidden: Mapping[str, str],
    lines: tuple[str, ...],
    username: str = "",
    error: str | None = None,
) -> Response:
    fields = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in hidden.items()
    )
    alert = f'<p role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"{alert}{''.join(f'<p>{escape(line)}</p>' for line in lines)}"
        f'<form method="post" action="{escape(action)}">{fields}'
        f'<label>Username <input name="username" value="{escape(username)}" '
        'autocomplete="username" required></label> '
        '<button type="submit" name="decision" value="authorize">Authorize app</button> '
        '<button type="submit" name="decision" value="cancel" formnovalidate>Cancel</button>'
        "</form>"
    )
    return _page(title, body, 400 if error else 200)


def _stale_request_token_page() -> Response:
    return _page("Whoa there!", f"<p>{escape(STALE_REQUEST_TOKEN)}</p>", 400)


def _username_from(form: Mapping[str, str]) -> str:
    return form.get("username", "").strip().lstrip("@")


def _bad_username(username: str) -> str:
    return f"{username!r} is not an X username (1-15 letters, digits or _)."


# -- OAuth 2.0: the consent page -----------------------------------------------------------------


@dataclass(frozen=True)
class AuthorizeRequest:
    """The checked parameters of ``/i/oauth2/authorize``."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    code_challenge: str

    def hidden_fields(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }


def parse_authorize(
    params: Mapping[str, str],
    clients: Mapping[str, str | None],
    callbacks: Mapping[str, frozenset[str]],
) -> AuthorizeRequest:
    """Check every parameter; ``ValueError`` says what is wrong, in words for the person.

    As on X, ``redirect_uri`` must be one of the callback URLs registered in the app's settings,
    compared exactly; anything else is refused on the page, never redirected to."""
    client_id = params.get("client_id", "")
    if client_id not in clients:
        raise ValueError(f"client_id {client_id!r} is not a registered app.")
    redirect_uri = _checked_redirect_uri(params.get("redirect_uri", ""))
    if redirect_uri not in callbacks.get(client_id, ()):
        raise ValueError(
            f"redirect_uri {redirect_uri!r} is not a callback URL registered for this app."
        )
    if params.get("response_type") != "code":
        raise ValueError("response_type must be 'code'.")
    scopes = _checked_scopes(params.get("scope", ""))
    state = params.get("state", "")
    if not state:
        raise ValueError("state is missing.")
    if params.get("code_challenge_method") != "S256":
        raise ValueError("code_challenge_method must be 'S256'.")
    challenge = params.get("code_challenge", "")
    if not S256_CHALLENGE_RE.fullmatch(challenge):
        raise ValueError("code_challenge must be the base64url SHA-256 of the code verifier.")
    return AuthorizeRequest(client_id, redirect_uri, scopes, state, challenge)


def _checked_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ValueError("redirect_uri must be an absolute http(s) URL without a fragment.")
    return uri


def _checked_scopes(raw: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(raw.split()))
    if not scopes:
        raise ValueError("scope is missing.")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValueError(f"scope has unknown values: {' '.join(unknown)}.")
    return scopes


# -- the endpoints -------------------------------------------------------------------------------


class OAuthEndpoints:
    """The linking flows' pages and endpoints for one emulator."""

    def __init__(self, emulator: XEmulator) -> None:
        self.emulator = emulator
        self.grants: OAuthGrants = emulator.oauth

    def routes(self) -> list[Route]:
        return [
            Route("/i/oauth2/authorize", self.oauth2_consent, methods=["GET"]),
            Route("/i/oauth2/authorize", self.oauth2_decision, methods=["POST"]),
            Route("/2/oauth2/token", self.oauth2_token, methods=["POST"]),
            Route("/2/oauth2/revoke", self.oauth2_revoke, methods=["POST"]),
            Route("/oauth/request_token", self.request_token, methods=["POST"]),
            Route("/oauth/authorize", self.pin_consent, methods=["GET"]),
            Route("/oauth/authorize", self.pin_decision, methods=["POST"]),
            Route("/oauth/access_token", self.access_token, methods=["POST"]),
        ]

    def control_routes(self) -> list[Route]:
        return [
            Route("/_emulator/tokens", self.tokens, methods=["GET"]),
            Route("/_emulator/tokens/expire", json_endpoint(self.expire), methods=["POST"]),
            Route("/_emulator/tokens/revoke", json_endpoint(self.revoke), methods=["POST"]),
        ]

    # OAuth 2.0 ---------------------------------------------------------------------------------

    async def oauth2_consent(self, request: Request) -> Response:
        try:
            ask = parse_authorize(request.query_params, self.grants.clients, self.grants.callbacks)
        except ValueError as exc:
            return _error_page(str(exc))
        return self._oauth2_page(ask)

    def _oauth2_page(
        self, ask: AuthorizeRequest, username: str = "", error: str | None = None
    ) -> Response:
        return _consent_page(
            title=f"Authorize {ask.client_id} to use your account?",
            action="/i/oauth2/authorize",
            hidden=ask.hidden_fields(),
            lines=(f"It will be able to: {', '.join(ask.scopes)}.",),
            username=username,
            error=error,
        )

    async def oauth2_decision(self, request: Request) -> Response:
        form = await _form(request)
        try:
            ask = parse_authorize(form, self.grants.clients, self.grants.callbacks)
        except ValueError as exc:
            return _error_page(str(exc))
        decision = form.get("decision")
        if decision == "cancel":
            return _redirect(ask.redirect_uri, {"error": "access_denied", "state": ask.state})
        username = _username_from(form)
        if decision != "authorize":
            return self._oauth2_page(ask, username, "Choose Authorize app or Cancel.")
        if not USERNAME_RE.fullmatch(username):
            return self._oauth2_page(ask, username, _bad_username(username))
        user = self.emulator.add_user(username)
        code = self.grants.issue_code(
            Grant(ask.client_id, user.id, ask.scopes),
            redirect_uri=ask.redirect_uri,
            code_challenge=ask.code_challenge,
        )
        return _redirect(ask.redirect_uri, {"state": ask.state, "code": code})

    # OAuth 2.0: tokens -------------------------------------------------------------------------

    def _client_id(self, request: Request, form: Mapping[str, str]) -> str | None:
        """The calling client: HTTP Basic for confidential clients, ``client_id`` for public."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            client_id = form.get("client_id", "")
            known = client_id in self.grants.clients
            return client_id if known and self.grants.clients[client_id] is None else None
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except ValueError:
            return None
        client_id, colon, secret = decoded.partition(":")
        expected = self.grants.clients.get(client_id)
        if not colon or expected is None or not _same(expected, secret):
            return None
        return client_id if form.get("client_id", client_id) == client_id else None

    async def oauth2_token(self, request: Request) -> Response:
        form = await _form(request)
        try:
            client_id = self._client_id(request, form)
            if client_id is None:
                raise _unauthorized_client()
            return _no_store_json(self._tokens_for(client_id, form))
        except OAuthError as exc:
            return exc.response()

    def _tokens_for(self, client_id: str, form: Mapping[str, str]) -> Json:
        grant_type = _required(form, "grant_type")
        if grant_type == "authorization_code":
            code = _required(form, "code")
            redirect_uri = _required(form, "redirect_uri")
            verifier = _required(form, "code_verifier")
            return self.grants.redeem_code(
                code, client_id=client_id, redirect_uri=redirect_uri, code_verifier=verifier
            )
        if grant_type == "refresh_token":
            return self.grants.refresh(_required(form, "refresh_token"), client_id=client_id)
        raise OAuthError("Value passed for the grant type was invalid.", "unsupported_grant_type")

    async def oauth2_revoke(self, request: Request) -> Response:
        """RFC 7009: an unknown or foreign token is not an error, and the answer is the same."""
        form = await _form(request)
        try:
            client_id = self._client_id(request, form)
            if client_id is None:
                raise _unauthorized_client()
            self.grants.revoke_token(_required(form, "token"), client_id=client_id)
        except OAuthError as exc:
            return exc.response()
        return _no_store_json({"revoked": True})

    # OAuth 1.0a PIN ----------------------------------------------------------------------------

    async def request_token(self, request: Request) -> Response:
        signed = await SignedRequest.read(request)
        consumer_key = signed.oauth.get("oauth_consumer_key", "")
        consumer_secret = self.emulator.oauth1_consumers.get(consumer_key)
        if (
            consumer_secret is None
            or signed.oauth.get("oauth_token")
            or not signed.verify(consumer_secret, "")
        ):
            return _could_not_authenticate()
        if signed.oauth.get("oauth_callback") != "oob":
            return _oauth1_error(
                403,
                415,
                "Callback URL not approved for this client application. Approved callback URLs "
                "can be adjusted in your application settings",
            )
        token, secret = self.grants.issue_request_token(consumer_key)
        return _form_encoded(
            {"oauth_token": token, "oauth_token_secret": secret, "oauth_callback_confirmed": "true"}
        )

    def _awaiting_approval(self, token: str) -> RequestToken | None:
        found = self.grants.live_request_token(token)
        return found if found is not None and found.approval is None else None

    def _pin_page(
        self, token: RequestToken, token_value: str, username: str = "", error: str | None = None
    ) -> Response:
        return _consent_page(
            title=f"Authorize {token.consumer_key} to access your account?",
            action="/oauth/authorize",
            hidden={"oauth_token": token_value},
            lines=("It will be able to read your posts and post for you.",),
            username=username,
            error=error,
        )

    async def pin_consent(self, request: Request) -> Response:
        token_value = request.query_params.get("oauth_token", "")
        token = self._awaiting_approval(token_value)
        if token is None:
            return _stale_request_token_page()
        return self._pin_page(token, token_value)

    async def pin_decision(self, request: Request) -> Response:
        form = await _form(request)
        token_value = form.get("oauth_token", "")
        token = self._awaiting_approval(token_value)
        if token is None:
            return _stale_request_token_page()
        if form.get("decision", "authorize") == "cancel":
            self.grants.deny_request_token(token_value)
            return _page("You did not authorize the app", "<p>No access was granted.</p>")
        username = _username_from(form)
        if not USERNAME_RE.fullmatch(username):
            return self._pin_page(token, token_value, username, _bad_username(username))
        pin = self.grants.approve_request_token(token_value, self.emulator.add_user(username))
        if pin is None:
            return _stale_request_token_page()
        app = escape(token.consumer_key)
        return _page(
            f"You've granted access to {token.consumer_key}!",
            f"<p>Next, return to {app} and enter this PIN to complete the authorization "
            f'process:</p><p><kbd><code id="pin">{pin}</code></kbd></p>',
        )

    async def access_token(self, request: Request) -> Response:
        signed = await SignedRequest.read(request)
        consumer_key = signed.oauth.get("oauth_consumer_key", "")
        consumer_secret = self.emulator.oauth1_consumers.get(consumer_key)
        if consumer_secret is None:
            return _could_not_authenticate()
        token_value = signed.oauth.get("oauth_token", "")
        token = self.grants.live_request_token(token_value)
        if token is None or token.consumer_key != consumer_key:
            return _oauth1_refusal(401, INVALID_REQUEST_TOKEN)
        if not signed.verify(consumer_secret, token.secret):
            return _could_not_authenticate()
        issued = self.grants.exchange_request_token(
            token_value, signed.oauth.get("oauth_verifier", "")
        )
        if issued is None:
            return _oauth1_refusal(401, INVALID_VERIFIER)
        access, record = issued
        return _form_encoded(
            {
                "oauth_token": access,
                "oauth_token_secret": record.secret,
                "user_id": record.user_id,
                "screen_name": record.username,
            }
        )

    # control -----------------------------------------------------------------------------------

    def _control_user(self, username: object) -> User:
        handle = username.lstrip("@") if isinstance(username, str) else ""
        if not USERNAME_RE.fullmatch(handle):
            raise ValueError(f"username must be an X username matching {USERNAME_RE.pattern}")
        user = self.emulator.user(handle)
        if user is None:
            raise ValueError(f"no user @{handle}")
        return user

    async def tokens(self, request: Request) -> Response:
        try:
            user = self._control_user(request.query_params.get("username"))
        except ValueError as exc:
            return bad_request(str(exc))
        return JSONResponse({"username": user.username, **self.grants.live_tokens(user.id)})

    async def expire(self, data: Json) -> Response:
        try:
            user = self._control_user(_only_username(data))
        except ValueError as exc:
            return bad_request(str(exc))
        expired = self.grants.expire_access_tokens(user.id)
        return JSONResponse({"username": user.username, "expired": {"oauth2_access": expired}})

    async def revoke(self, data: Json) -> Response:
        try:
            user = self._control_user(_only_username(data))
        except ValueError as exc:
            return bad_request(str(exc))
        return JSONResponse(
            {"username": user.username, "revoked": self.grants.revoke_user(user.id)}
        )


def _only_username(data: Json) -> object:
    unknown = sorted(set(data) - {"username"})
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; allowed: ['username']")
    return data.get("username")


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError(f"Missing required parameter [{name}].")
    return value


# -- OAuth 1.0a signatures -----------------------------------------------------------------------


@dataclass(frozen=True)
class SignedRequest:
    """An OAuth 1.0a request: its protocol parameters and all that its signature covers.

    Protocol parameters may come in the ``Authorization`` header, the form body or the query
    (RFC 5849 section 3.5); the signature covers all three but the header's ``realm``.
    """

    method: str
    urls: tuple[str, ...]
    oauth: Mapping[str, str]
    signed: tuple[tuple[str, str], ...]
    signature: str

    @classmethod
    async def read(cls, request: Request) -> SignedRequest:
        pairs = [
            *_query_pairs(request.url.query),
            *await _form_pairs(request),
            *_authorization_params(request.headers.get("authorization", "")),
        ]
        oauth = {name: v for name, v in pairs if name.startswith("oauth_")}
        # The signer signs X's own origin or, pointed at the emulator, the emulator's.
        urls = (
            API_ORIGIN + request.url.path,
            f"{request.url.scheme}://{request.url.netloc}{request.url.path}",
        )
        return cls(
            method=request.method,
            urls=urls,
            oauth=oauth,
            signed=tuple((n, v) for n, v in pairs if n != "oauth_signature"),
            signature=oauth.get("oauth_signature", ""),
        )

    def verify(self, consumer_secret: str, token_secret: str) -> bool:
        if self.oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return False
        return any(
            _same(
                oauth1_signature(self.method, url, self.signed, consumer_secret, token_secret),
                self.signature,
            )
            for url in self.urls
        )


def _authorization_params(header: str) -> list[tuple[str, str]]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "oauth":
        return []
    pairs = OAUTH_HEADER_PARAM_RE.findall(value)
    return [(name, unquote(raw)) for name, raw in pairs if name != "realm"]
