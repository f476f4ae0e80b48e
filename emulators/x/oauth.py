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

This module holds the endpoints; what they issue is kept in :mod:`emulators.x.grants`, and the
pages a person sees are in :mod:`emulators.x.consent`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from emulators.core import MAX_BODY_BYTES, bad_request, json_endpoint
from emulators.x.consent import (
    AuthorizeRequest,
    bad_username,
    consent_page,
    error_page,
    html_page,
    parse_authorize,
    stale_request_token_page,
    username_from,
)
from emulators.x.grants import (
    Grant,
    OAuthError,
    OAuthGrants,
    RequestToken,
    no_store_json,
    oauth1_signature,
    query_pairs,
    secrets_equal,
)
from emulators.x.model import API_ORIGIN, USERNAME_RE, Json, User
from emulators.x.state import XState

OAUTH_HEADER_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

INVALID_VERIFIER = "Error processing your OAuth request: Invalid oauth_verifier parameter"
INVALID_REQUEST_TOKEN = "Invalid request token."


def _unauthorized_client() -> OAuthError:
    return OAuthError("Missing valid authorization header", "unauthorized_client", 401)


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


# -- the endpoints -------------------------------------------------------------------------------


class OAuthEndpoints:
    """The linking flows' pages and endpoints for one emulator."""

    def __init__(self, emulator: XState) -> None:
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
            return error_page(str(exc))
        return self._oauth2_page(ask)

    def _oauth2_page(
        self, ask: AuthorizeRequest, username: str = "", error: str | None = None
    ) -> Response:
        return consent_page(
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
            return error_page(str(exc))
        decision = form.get("decision")
        if decision == "cancel":
            return _redirect(ask.redirect_uri, {"error": "access_denied", "state": ask.state})
        username = username_from(form)
        if decision != "authorize":
            return self._oauth2_page(ask, username, "Choose Authorize app or Cancel.")
        if not USERNAME_RE.fullmatch(username):
            return self._oauth2_page(ask, username, bad_username(username))
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
        if not colon or expected is None or not secrets_equal(expected, secret):
            return None
        return client_id if form.get("client_id", client_id) == client_id else None

    async def oauth2_token(self, request: Request) -> Response:
        form = await _form(request)
        try:
            client_id = self._client_id(request, form)
            if client_id is None:
                raise _unauthorized_client()
            return no_store_json(self._tokens_for(client_id, form))
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
        return no_store_json({"revoked": True})

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
        return consent_page(
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
            return stale_request_token_page()
        return self._pin_page(token, token_value)

    async def pin_decision(self, request: Request) -> Response:
        form = await _form(request)
        token_value = form.get("oauth_token", "")
        token = self._awaiting_approval(token_value)
        if token is None:
            return stale_request_token_page()
        if form.get("decision", "authorize") == "cancel":
            self.grants.deny_request_token(token_value)
            return html_page("You did not authorize the app", "<p>No access was granted.</p>")
        username = username_from(form)
        if not USERNAME_RE.fullmatch(username):
            return self._pin_page(token, token_value, username, bad_username(username))
        pin = self.grants.approve_request_token(token_value, self.emulator.add_user(username))
        if pin is None:
            return stale_request_token_page()
        app = escape(token.consumer_key)
        return html_page(
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
            *query_pairs(request.url.query),
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
            secrets_equal(
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
