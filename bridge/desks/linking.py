"""Linking a person's own network account, so they can reply as themselves.

Two ways, both started from chat (``/reachable link`` in Slack, ``/link`` to the Telegram bot):

- **On the web** (OAuth 2.0 with PKCE): the bot sends the person, privately, a one-time start
  link on this bridge (``REACHABLE_PUBLIC_URL``). That page names the person and chat identity
  being linked and, on "Continue", ties the attempt's ``state`` to that browser with a cookie
  before it sends the browser to X. X sends the browser back with a code; only the browser that
  holds the cookie can finish. A link URL forwarded to someone else (the linking CSRF: Eve's
  URL approved by Rina would link Rina's account to Eve) therefore links nothing.
- **With a PIN** (OAuth 1.0a out-of-band), for teams whose bridge browsers cannot reach: the
  person approves on X, which shows a PIN, and they send the PIN to the bot in private. The
  request token is kept under the person who asked, so a PIN only finishes their own attempt.

One network account is linked to one person at most. The network's side of each flow is an
:class:`AccountLinker` from its adapter; this module keeps the attempts, checks them, stores the
result in the :class:`TokenVault` and tells the person privately in chat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.chats import ChatPlatform
from bridge.config import PersonConfig
from bridge.desks import audit
from bridge.errors import PlatformError, ReachableError
from bridge.networks import NetworkPlatform
from bridge.store.vault import (
    AccountTaken,
    Credentials,
    LinkedAccount,
    TokenVault,
    new_linked_account,
)
from bridge.text import i18n, messages

log = logging.getLogger(__name__)

START_TTL_S = 600
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
class ChatUser:
    """Who asked for a link: the chat, their user id there, and where a private word reaches
    them (the Slack channel they typed in, for an ephemeral message; their Telegram private
    chat)."""

    chat: str
    user_id: str
    where: str


class PrivateTeller(Protocol):
    """Says ``text`` to one person only (a chat adapter's ``tell_privately``)."""

    async def __call__(self, *, user_id: str, where: str, text: str) -> None: ...


@dataclass(frozen=True)
class LinkOffer:
    """The ways open to a person right now; both None means linking is not set up."""

    start_url: str | None
    pin_url: str | None
    current: LinkedAccount | None


@dataclass(frozen=True)
class StartPage:
    """What the start page shows: whom the account will be linked to, in their language."""

    # The network as people call it: "X".
    network: str
    person_name: str
    # The chat's name as its users know it: "Slack".
    chat: str
    user_id: str
    locale: str | None


@dataclass(frozen=True)
class WebStart:
    """Where to send the browser on, and the secret its cookie must carry back."""

    authorize_url: str
    browser_secret: str


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) as RFC 7636 defines them."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LinkDesk:
    def __init__(
        self,
        vault: TokenVault,
        linkers: dict[str, AccountLinker],
        *,
        public_url: str | None,
        chats: Sequence[ChatPlatform] = (),
        networks: Sequence[NetworkPlatform] = (),
    ) -> None:
        self.vault = vault
        self.chats = {chat.name: chat for chat in chats}
        self.networks = {network.name: network for network in networks}
        self.store = vault.store
        self.linkers = linkers
        self.public_url = public_url.rstrip("/") if public_url else None
        self.tellers: dict[str, PrivateTeller] = {}

    def tell_with(self, tellers: dict[str, PrivateTeller]) -> None:
        """The chats' ways to reach one person privately, once the chats exist."""
        self.tellers = dict(tellers)

    @property
    def network(self) -> str:
        """The network people link on when they name none: the first this desk links on."""
        return next(iter(self.linkers), next(iter(self.networks), ""))

    def named(self, network: str) -> str:
        """``network`` as people call it ("X")."""
        known = self.networks.get(network)
        return known.label if known else network

    def _not_set_up(self, network: str) -> LinkFailed:
        known = self.networks.get(network)
        setting = known.linking_setting() if known else network
        return LinkFailed(messages.link_not_set_up(network=self.named(network), setting=setting))

    def _linker(self, network: str) -> AccountLinker:
        linker = self.linkers.get(network)
        if linker is None:
            raise self._not_set_up(network)
        return linker

    def expired(self) -> str:
        """What a spent or expired link's page says: how to ask for a new one, in each chat."""
        ways = [(chat.command("link"), chat.label) for chat in self.chats.values()]
        return messages.link_web_expired(ways=ways)

    def callback_url(self, network: str) -> str | None:
        return f"{self.public_url}/link/{network}/callback" if self.public_url else None

    async def offer(
        self, person: PersonConfig, *, asker: ChatUser, network: str | None = None
    ) -> LinkOffer:
        """Start both flows the deployment supports; the person picks one."""
        network = network or self.network
        linker = self._linker(network)
        current = await self.vault.linked(person.key, network)
        start_url = pin_url = None
        if self.public_url and linker.can_link_on_web():
            token = secrets.token_urlsafe(24)
            await self.vault.begin(
                f"start:{token}",
                {
                    "person": person.key,
                    "person_name": person.name or person.key,
                    "network": network,
                    **_asker_fields(asker),
                    # The pages speak the language of the chat the link was asked from.
                    "locale": i18n.current_locale(),
                },
                ttl_s=START_TTL_S,
            )
            start_url = f"{self.public_url}/link/start/{token}"
        if linker.can_link_with_pin():
            try:
                pin = await linker.request_pin()
            except PlatformError as exc:
                if start_url is None:
                    said = messages.link_network_refused(exc.detail, network=self.named(network))
                    raise LinkFailed(said) from None
                log.warning("no PIN link offered to %s: %s", person.key, exc)
            else:
                # Kept under the person who asked: only a PIN they send finishes it.
                await self.vault.begin(
                    f"pin:{network}:{person.key}",
                    {"request_token": pin.request_token, "request_secret": pin.request_secret},
                    ttl_s=PIN_ATTEMPT_TTL_S,
                )
                pin_url = pin.url
        if start_url is None and pin_url is None:
            raise self._not_set_up(network)
        await audit.record(self.store, outcome="link-offered", person=person.key, chat=asker.chat)
        return LinkOffer(start_url=start_url, pin_url=pin_url, current=current)

    async def start_page(self, token: str) -> StartPage | None:
        """What the start link shows, without spending it (a link preview may open it)."""
        start = await self.vault.peek(f"start:{token}") if token else None
        if start is None:
            return None
        return StartPage(
            network=self.named(start["network"]),
            person_name=start["person_name"],
            chat=self.chats[start["chat"]].label if start["chat"] in self.chats else start["chat"],
            user_id=start["user_id"],
            locale=start.get("locale"),
        )

    async def start_on_web(self, token: str) -> WebStart:
        """The person pressed "Continue" on the start page: spend the start link, and begin the
        OAuth attempt that only a browser showing ``browser_secret`` can finish."""
        start = await self.vault.take(f"start:{token}") if token else None
        if start is None:
            raise LinkFailed(self.expired())
        network = start["network"]
        linker = self.linkers.get(network)
        redirect_uri = self.callback_url(network)
        if linker is None or redirect_uri is None or not linker.can_link_on_web():
            with i18n.speaking(start.get("locale")):
                raise self._not_set_up(network)
        state = secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        browser_secret = secrets.token_urlsafe(32)
        await self.vault.begin(
            f"web:{network}:{state}",
            {
                **{k: start[k] for k in ("person", "chat", "user_id", "where", "locale")},
                "verifier": verifier,
                "browser": _fingerprint(browser_secret),
            },
            ttl_s=WEB_ATTEMPT_TTL_S,
        )
        await audit.record(
            self.store, outcome="link-started", person=start["person"], chat=start["chat"]
        )
        return WebStart(
            authorize_url=linker.authorize_url(
                state=state, code_challenge=challenge, redirect_uri=redirect_uri
            ),
            browser_secret=browser_secret,
        )

    async def finish_on_web(
        self,
        network: str,
        *,
        state: str,
        code: str | None,
        error: str | None,
        browser_secret: str | None,
    ) -> tuple[LinkedAccount, str | None]:
        """X sent the browser back: check the state (once) and that this is the browser that
        started, trade the code for tokens. Returns the account and the language of the chat
        the link was asked from."""
        attempt = await self.vault.take(f"web:{network}:{state}") if state else None
        if attempt is None:
            raise LinkFailed(self.expired())
        locale = attempt.get("locale")
        with i18n.speaking(locale):
            if browser_secret is None or not hmac.compare_digest(
                _fingerprint(browser_secret), str(attempt.get("browser", ""))
            ):
                await self._refused(attempt, "finished in a browser that did not start it")
                raise LinkFailed(messages.link_other_browser(network=self.named(network)))
            account = await self._finish_attempt(network, attempt, code=code, error=error)
            await self._tell(
                attempt,
                messages.link_notice(
                    network=self.named(network),
                    handle=account.handle,
                    unlink_command=self._unlink_command(attempt["chat"]),
                ),
            )
        return account, locale

    async def _finish_attempt(
        self, network: str, attempt: dict[str, Any], *, code: str | None, error: str | None
    ) -> LinkedAccount:
        if error or not code:
            await self._refused(attempt, error or "")
            raise LinkFailed(messages.link_web_declined(network=self.named(network)))
        linker = self._linker(network)
        redirect_uri = self.callback_url(network) or ""
        try:
            grant = await linker.grant_from_code(
                code=code, code_verifier=attempt["verifier"], redirect_uri=redirect_uri
            )
        except PlatformError as exc:
            said = messages.link_network_refused(exc.detail, network=self.named(network))
            raise LinkFailed(said) from None
        try:
            return await self._save(attempt["person"], network, grant, chat=attempt["chat"])
        except LinkFailed as failed:
            await self._tell(attempt, failed.reason)
            raise

    async def finish_with_pin(
        self, person: PersonConfig, text: str, *, chat: str, network: str | None = None
    ) -> LinkedAccount:
        network = network or self.network
        match = PIN_RE.match(text)
        if match is None:
            raise LinkFailed(messages.link_pin_malformed(network=self.named(network)))
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
            await audit.record(
                self.store, outcome="link-refused", person=person.key, chat=chat, detail=exc.detail
            )
            said = messages.link_pin_refused(exc.detail, network=self.named(network))
            raise LinkFailed(said) from None
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
        try:
            await self.vault.save(account, grant.credentials)
        except AccountTaken as taken:
            await audit.record(
                self.store,
                outcome="link-refused",
                person=person,
                chat=chat,
                detail=f"@{grant.handle} is linked to {taken.owner}",
            )
            said = messages.link_account_taken(network=self.named(network), handle=grant.handle)
            raise LinkFailed(said) from None
        await audit.record(
            self.store,
            outcome="linked",
            person=person,
            chat=chat,
            detail=f"@{grant.handle} ({grant.credentials.method})",
        )
        log.info("%s linked %s account @%s", person, network, grant.handle)
        return account

    async def _refused(self, attempt: dict[str, Any], detail: str) -> None:
        await audit.record(
            self.store,
            outcome="link-refused",
            person=attempt["person"],
            chat=attempt["chat"],
            detail=detail,
        )

    def _unlink_command(self, chat: str) -> str:
        known = self.chats.get(chat)
        return known.unlink_command() if known else "unlink"

    async def _tell(self, attempt: dict[str, Any], text: str) -> None:
        """A private word in the chat the link was asked from; its failure is logged, never
        turned into a failed link."""
        teller = self.tellers.get(attempt["chat"])
        if teller is None:
            log.warning("no way to tell %s in %s: %s", attempt["person"], attempt["chat"], text)
            return
        try:
            await teller(user_id=attempt["user_id"], where=attempt["where"], text=text)
        except Exception:  # a chat that fails to deliver must not undo the link
            log.exception("could not tell %s in %s", attempt["person"], attempt["chat"])

    async def unlink(
        self, person: PersonConfig, *, chat: str, network: str | None = None
    ) -> LinkedAccount | None:
        removed = await self.vault.remove(person.key, network or self.network)
        if removed is not None:
            await audit.record(
                self.store,
                outcome="unlinked",
                person=person.key,
                chat=chat,
                detail=f"@{removed.handle}",
            )
        return removed


def _asker_fields(asker: ChatUser) -> dict[str, str]:
    return {"chat": asker.chat, "user_id": asker.user_id, "where": asker.where}


async def answer_link_command(
    desk: LinkDesk,
    person: PersonConfig,
    verb: str,
    argument: str,
    *,
    asker: ChatUser,
    pin_command: str,
) -> str:
    """What the bot says to ``link``, ``pin <PIN>`` and ``unlink``, the same in every chat."""
    network = desk.named(desk.network)
    try:
        if verb == "link":
            offer = await desk.offer(person, asker=asker)
            return messages.link_offer(
                network=network,
                start_url=offer.start_url,
                pin_url=offer.pin_url,
                pin_command=pin_command,
                current=offer.current.handle if offer.current else None,
            )
        if verb == "pin":
            account = await desk.finish_with_pin(person, argument, chat=asker.chat)
            return messages.link_done_in_chat(network=network, handle=account.handle)
        removed = await desk.unlink(person, chat=asker.chat)
        if removed is None:
            return messages.nothing_to_unlink(network=network)
        return messages.unlinked(network=network, handle=removed.handle)
    except LinkFailed as failed:
        return failed.reason
    except PlatformError as exc:
        return messages.link_network_refused(exc.detail, network=network)
