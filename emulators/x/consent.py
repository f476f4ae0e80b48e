"""The consent pages of the X emulator's linking flows: the parameters of
``/i/oauth2/authorize`` checked as X checks them, and the bare HTML pages a person sees (the
consent form, the PIN, the refusals). The endpoints that serve them are in
:mod:`emulators.x.oauth`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse, Response

from emulators.x.model import word_set

SCOPES = word_set(
    "tweet.read tweet.write tweet.moderate.write users.email users.read follows.read "
    "follows.write offline.access space.read mute.read mute.write like.read like.write list.read "
    "list.write block.read block.write bookmark.read bookmark.write dm.read dm.write media.write"
)
S256_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
STALE_REQUEST_TOKEN = (
    "The request token for this page is invalid. It may have already been used, or expired "
    "because it is too old. Please go back to the site or application that sent you here and "
    "try again; it was probably just a mistake."
)


def html_page(title: str, body: str, status: int = 200) -> Response:
    """A bare HTML page; ``title`` is escaped here, ``body`` must arrive escaped."""
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
        f"{body}</main></body></html>"
    )
    headers = {"cache-control": "no-store", "x-frame-options": "DENY"}
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(message: str) -> Response:
    return html_page("Something went wrong", f'<p role="alert">{escape(message)}</p>', 400)


def consent_page(
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
    return html_page(title, body, 400 if error else 200)


def stale_request_token_page() -> Response:
    return html_page("Whoa there!", f"<p>{escape(STALE_REQUEST_TOKEN)}</p>", 400)


def username_from(form: Mapping[str, str]) -> str:
    return form.get("username", "").strip().lstrip("@")


def bad_username(username: str) -> str:
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
