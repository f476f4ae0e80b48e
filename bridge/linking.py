"""Linking a person's own network account, so they can reply as themselves.

Two ways, both started from chat (``/reachable link`` in Slack, ``/link`` to the Telegram bot):

- **On the web** (OAuth 2.0 with PKCE): the person opens a link, approves Reachable on X, and X
  sends the browser back to this bridge's web app with a code. Needs ``REACHABLE_PUBLIC_URL``.
  The ``state`` in the link is random, kept sealed in Redis for ten minutes, and works once.
- **With a PIN** (OAuth 1.0a out-of-band), for teams whose bridge browsers cannot reach: the
  person approves on X, which shows a PIN, and they send the PIN to the bot in private.

The network's side of each flow is an :class:`AccountLinker` from its adapter; this module keeps
the attempts, checks them and stores the result in the :class:`TokenVault`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from babel import negotiate_locale
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bridge import audit, i18n, messages
from bridge.config import PersonConfig
from bridge.errors import PlatformError, ReachableError
from bridge.vault import Credentials, LinkedAccount, TokenVault, new_linked_account

log = logging.getLogger(__name__)

WEB_ATTEMPT_TTL_S = 600
PIN_ATTEMPT_TTL_S = 900
PIN_RE = re.compile(r"^\s*(\d{4,10})\s*$")


@dataclass(frozen=True)
class LinkGrant:
    """What a finished flow yields: credentials and whose account they are."""

    credentials: Credentials
    handle: str
    user_id: str


@dataclass(frozen=True)
class PinRequest:
    url: str
    request_token: str
    request_secret: str


class AccountLinker(Protocol):
    """A network's side of linking; implementations raise PlatformError on the network's no."""

    network: str

    def can_link_on_web(self) -> bool: ...

    def can_link_with_pin(self) -> bool: ...

    def authorize_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str: ...

    async def grant_from_code(
        self, *, code: str, code_verifier: str, redirect_uri: str
    ) -> LinkGrant: ...

    async def request_pin(self) -> PinRequest: ...

    async def grant_from_pin(
        self, *, request_token: str, request_secret: str, pin: str
    ) -> LinkGrant: ...

    async def refresh(self, credentials: Credentials) -> Credentials: ...


class LinkFailed(ReachableError):
    """Linking did not complete; ``reason`` is said to the person as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkOffer:
    """The ways open to a person right now; both None means linking is not set up."""

    web_url: str | None
    pin_url: str | None
    current: LinkedAccount | None


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) as RFC 7636 defines them."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class LinkDesk:
    def __init__(
        self,
        vault: TokenVault,
        linkers: dict[str, AccountLinker],
        *,
        public_url: str | None,
    ) -> None:
        self.vault = vault
        self.store = vault.store
        self.linkers = linkers
        self.public_url = public_url.rstrip("/") if public_url else None

    def _linker(self, network: str) -> AccountLinker:
        linker = self.linkers.get(network)
        if linker is None:
            raise LinkFailed(messages.link_not_set_up())
        return linker

    def callback_url(self, network: str) -> str | None:
        return f"{self.public_url}/link/{network}/callback" if self.public_url else None

    async def offer(self, person: PersonConfig, *, chat: str, network: str = "x") -> LinkOffer:
        """Start both flows the deployment supports; the person picks one."""
        linker = self._linker(network)
        current = await self.vault.linked(person.key, network)
        web_url = pin_url = None
        redirect_uri = self.callback_url(network)
        if redirect_uri and linker.can_link_on_web():
            state = secrets.token_urlsafe(24)
            verifier, challenge = pkce_pair()
            await self.vault.begin(
                f"web:{network}:{state}",
                # The page X sends the browser back to speaks the language of the chat it
                # was asked from.
                {
                    "person": person.key,
                    "verifier": verifier,
                    "chat": chat,
                    "locale": i18n.current_locale(),
                },
                ttl_s=WEB_ATTEMPT_TTL_S,
            )
            web_url = linker.authorize_url(
                state=state, code_challenge=challenge, redirect_uri=redirect_uri
            )
        if linker.can_link_with_pin():
            try:
                pin = await linker.request_pin()
            except PlatformError as exc:
                if web_url is None:
                    raise LinkFailed(messages.link_network_refused(exc.detail)) from None
                log.warning("no PIN link offered to %s: %s", person.key, exc)
            else:
                await self.vault.begin(
                    f"pin:{network}:{person.key}",
                    {"request_token": pin.request_token, "request_secret": pin.request_secret},
                    ttl_s=PIN_ATTEMPT_TTL_S,
                )
                pin_url = pin.url
        if web_url is None and pin_url is None:
            raise LinkFailed(messages.link_not_set_up())
        await audit.record(self.store, outcome="link-offered", person=person.key, chat=chat)
        return LinkOffer(web_url=web_url, pin_url=pin_url, current=current)

    async def finish_on_web(
        self, network: str, *, state: str, code: str | None, error: str | None
    ) -> tuple[LinkedAccount, str | None]:
        """X sent the browser back: check the state (once), trade the code for tokens. Returns
        the account and the language of the chat the link was asked from."""
        attempt = await self.vault.take(f"web:{network}:{state}") if state else None
        if attempt is None:
            raise LinkFailed(messages.link_web_expired())
        locale = attempt.get("locale")
        with i18n.speaking(locale):
            account = await self._finish_attempt(network, attempt, code=code, error=error)
        return account, locale

    async def _finish_attempt(
        self, network: str, attempt: dict[str, Any], *, code: str | None, error: str | None
    ) -> LinkedAccount:
        if error or not code:
            await audit.record(
                self.store,
                outcome="link-refused",
                person=attempt["person"],
                chat=attempt["chat"],
                detail=error or "",
            )
            raise LinkFailed(messages.link_web_declined())
        linker = self._linker(network)
        redirect_uri = self.callback_url(network) or ""
        try:
            grant = await linker.grant_from_code(
                code=code, code_verifier=attempt["verifier"], redirect_uri=redirect_uri
            )
        except PlatformError as exc:
            raise LinkFailed(messages.link_network_refused(exc.detail)) from None
        return await self._save(attempt["person"], network, grant, chat=attempt["chat"])

    async def finish_with_pin(
        self, person: PersonConfig, text: str, *, chat: str, network: str = "x"
    ) -> LinkedAccount:
        match = PIN_RE.match(text)
        if match is None:
            raise LinkFailed(messages.link_pin_malformed())
        attempt = await self.vault.take(f"pin:{network}:{person.key}")
        if attempt is None:
            raise LinkFailed(messages.link_pin_expired())
        try:
            grant = await self._linker(network).grant_from_pin(
                request_token=attempt["request_token"],
                request_secret=attempt["request_secret"],
                pin=match.group(1),
            )
        except PlatformError as exc:
            raise LinkFailed(messages.link_pin_refused(exc.detail)) from None
        return await self._save(person.key, network, grant, chat=chat)

    async def _save(
        self, person: str, network: str, grant: LinkGrant, *, chat: str
    ) -> LinkedAccount:
        account = new_linked_account(
            person=person,
            network=network,
            handle=grant.handle,
            user_id=grant.user_id,
            method=grant.credentials.method,
        )
        await self.vault.save(account, grant.credentials)
        await audit.record(
            self.store,
            outcome="linked",
            person=person,
            chat=chat,
            detail=f"@{grant.handle} ({grant.credentials.method})",
        )
        log.info("%s linked %s account @%s", person, network, grant.handle)
        return account

    async def unlink(
        self, person: PersonConfig, *, chat: str, network: str = "x"
    ) -> LinkedAccount | None:
        removed = await self.vault.remove(person.key, network)
        if removed is not None:
            await audit.record(
                self.store,
                outcome="unlinked",
                person=person.key,
                chat=chat,
                detail=f"@{removed.handle}",
            )
        return removed

    def web_routes(self) -> Sequence[BaseRoute]:
        async def callback(request: Request) -> Response:
            network = request.path_params["network"]
            params = request.query_params
            # Until the attempt tells whose it is, the browser's own languages decide.
            with i18n.speaking(_browser_locale(request)):
                try:
                    account, locale = await self.finish_on_web(
                        network,
                        state=params.get("state", ""),
                        code=params.get("code"),
                        error=params.get("error"),
                    )
                except LinkFailed as failed:
                    return _page(messages.link_page_failed_title(), failed.reason, status=400)
                with i18n.speaking(locale):
                    return _page(
                        messages.link_page_done_title(), messages.link_done(handle=account.handle)
                    )

        return [Route("/link/{network}/callback", callback, methods=["GET"])]


def _browser_locale(request: Request) -> str | None:
    """The best language Reachable speaks among the browser's Accept-Language ones."""
    wanted = [
        part.split(";")[0].strip().replace("-", "_")
        for part in request.headers.get("accept-language", "").split(",")
        if part.strip()
    ]
    return negotiate_locale(wanted, list(i18n.available_locales()))


def _page(title: str, text: str, *, status: int = 200) -> HTMLResponse:
    body = (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def answer_link_command(
    desk: LinkDesk, person: PersonConfig, verb: str, argument: str, *, chat: str, pin_command: str
) -> str:
    """What the bot says to ``link``, ``pin <PIN>`` and ``unlink``, the same in every chat."""
    try:
        if verb == "link":
            offer = await desk.offer(person, chat=chat)
            return messages.link_offer(
                web_url=offer.web_url,
                pin_url=offer.pin_url,
                pin_command=pin_command,
                current=offer.current.handle if offer.current else None,
            )
        if verb == "pin":
            account = await desk.finish_with_pin(person, argument, chat=chat)
            return messages.link_done_in_chat(handle=account.handle)
        removed = await desk.unlink(person, chat=chat)
        return messages.unlinked(handle=removed.handle) if removed else messages.nothing_to_unlink()
    except LinkFailed as failed:
        return failed.reason
    except PlatformError as exc:
        return messages.link_network_refused(exc.detail)
