"""Personal accounts linked by staff: their tokens, sealed at rest, and their refresh.

Tokens are encrypted with Fernet (AES-128-CBC and HMAC-SHA256) under the key from
``REACHABLE_TOKEN_KEY`` before they reach Redis, so a copy of the database or a backup does not
let anyone post as a member of staff. Only the handle, user id and link time stay readable, for
listing who is linked.

X rotates refresh tokens: each one works once. Two processes refreshing the same token at the
same moment would lose the grant, so a refresh runs under a lock in Redis and the second process
takes the first one's result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from redis.exceptions import WatchError

from bridge.domain.models import Frozen
from bridge.errors import ReachableError
from bridge.store.store import Store, utcnow

log = logging.getLogger(__name__)

REFRESH_LOCK_TTL_MS = 30_000
REFRESH_WAIT_S = 35.0
# An access token this close to expiry is refreshed before use rather than failing mid-post.
EXPIRY_MARGIN_S = 120.0
# Two links of one account at the same moment: the loser looks again, a few times at most.
SAVE_ATTEMPTS = 5


class Credentials(Frozen):
    """What lets Reachable post as a person; only ever stored sealed."""

    method: Literal["oauth2", "oauth1"]
    access_token: SecretStr
    # OAuth 2.0: the single-use refresh token and when the access token expires (epoch s).
    refresh_token: SecretStr | None = None
    expires_at: float | None = None
    # OAuth 1.0a: the token secret (these tokens do not expire).
    token_secret: SecretStr | None = None

    def expires_soon(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - EXPIRY_MARGIN_S <= (time.time() if now is None else now)

    def sealed_form(self) -> str:
        """JSON with the secrets spelled out: goes straight into the sealer, nowhere else."""
        return json.dumps(
            {
                "method": self.method,
                "access_token": self.access_token.get_secret_value(),
                "refresh_token": _reveal(self.refresh_token),
                "expires_at": self.expires_at,
                "token_secret": _reveal(self.token_secret),
            }
        )


class LinkedAccount(Frozen):
    """A person's own account on a network, as Reachable knows it (no secrets)."""

    person: str
    network: str
    handle: str
    user_id: str
    method: Literal["oauth2", "oauth1"]
    linked_at: datetime


class AccountTaken(ReachableError):
    """The network account is linked to another person already; they must unlink it first."""

    def __init__(self, handle: str, *, owner: str) -> None:
        super().__init__(f"@{handle} is linked to {owner}")
        self.handle = handle
        self.owner = owner


class RefreshFailed(ReachableError):
    """The network no longer accepts the link (revoked, or the refresh token was lost)."""


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


class Sealer:
    """Fernet encryption with the key from settings; a wrong or missing key is said plainly."""

    def __init__(self, key: SecretStr | None) -> None:
        if key is None:
            raise ReachableError(
                "REACHABLE_TOKEN_KEY is not set. Personal accounts need it to encrypt their "
                "tokens at rest. Create one with `reachable keygen` and keep it with your "
                "other secrets, or set REACHABLE_PERSONAL_ACCOUNTS=false to turn personal "
                "replies off."
            )
        try:
            self._fernet = Fernet(key.get_secret_value().encode())
        except (ValueError, TypeError):
            raise ReachableError(
                "REACHABLE_TOKEN_KEY is not a valid key (32 url-safe base64-encoded bytes). "
                "Create one with `reachable keygen`."
            ) from None

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode()

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise ReachableError(
                "a stored token cannot be decrypted with REACHABLE_TOKEN_KEY: the key changed "
                "since it was stored. Restore the old key, or ask the person to link again."
            ) from None


class TokenVault:
    """Linked accounts and their sealed credentials in Redis, plus pending link attempts."""

    def __init__(self, store: Store, sealer: Sealer) -> None:
        self.store = store
        self.sealer = sealer

    # -- linked accounts -------------------------------------------------------------------------

    async def save(self, account: LinkedAccount, credentials: Credentials) -> None:
        """Link the account to its person, unless it is linked to someone else
        (:class:`AccountTaken`): one network account answers for one person only, so that
        nobody's "Reply as myself" can post as another person's account."""
        keys = self.store.keys
        key = keys.linked_account(account.person, account.network)
        owner_key = keys.linked_owner(account.network, account.user_id)
        for _attempt in range(SAVE_ATTEMPTS):
            async with self.store.redis.pipeline(transaction=True) as pipe:
                await pipe.watch(owner_key, key)
                owner = await pipe.get(owner_key) or await self._owner_by_scan(account)
                if owner is not None and str(owner) != account.person:
                    raise AccountTaken(account.handle, owner=str(owner))
                raw = await pipe.hget(key, "account")
                previous = LinkedAccount.model_validate_json(raw) if raw else None
                pipe.multi()  # type: ignore[no-untyped-call]
                if previous is not None and previous.user_id != account.user_id:
                    pipe.delete(keys.linked_owner(account.network, previous.user_id))
                pipe.set(owner_key, account.person)
                pipe.delete(key)
                pipe.sadd(keys.linked_people(account.network), account.person)
                pipe.hset(
                    key,
                    mapping={
                        "account": account.model_dump_json(),
                        "sealed": self.sealer.seal(credentials.sealed_form()),
                    },
                )
                try:
                    await pipe.execute()
                except WatchError:
                    continue
                return
        raise ReachableError(f"could not link @{account.handle}: it changed hands meanwhile")

    async def _owner_by_scan(self, account: LinkedAccount) -> str | None:
        """Links made before the owner index existed have no owner key: look among them."""
        for linked in await self.all_linked(account.network):
            if linked.user_id == account.user_id:
                return linked.person
        return None

    async def linked(self, person: str, network: str) -> LinkedAccount | None:
        key = self.store.keys.linked_account(person, network)
        raw = await self.store.redis.hget(key, "account")
        return LinkedAccount.model_validate_json(raw) if raw else None

    async def credentials(self, person: str, network: str) -> Credentials | None:
        sealed = await self.store.redis.hget(
            self.store.keys.linked_account(person, network), "sealed"
        )
        if not sealed:
            return None
        return Credentials.model_validate(json.loads(self.sealer.open(str(sealed))))

    async def remove(self, person: str, network: str) -> LinkedAccount | None:
        account = await self.linked(person, network)
        keys = self.store.keys
        async with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.delete(keys.linked_account(person, network))
            pipe.srem(keys.linked_people(network), person)
            pipe.delete(keys.linked_cursor(network, person))
            if account is not None:
                pipe.delete(keys.linked_owner(network, account.user_id))
            await pipe.execute()
        return account

    async def all_linked(self, network: str) -> list[LinkedAccount]:
        people = sorted(await self.store.redis.smembers(self.store.keys.linked_people(network)))
        found = [await self.linked(str(person), network) for person in people]
        return [account for account in found if account is not None]

    async def usable_credentials(
        self,
        person: str,
        network: str,
        refresh: Callable[[Credentials], Awaitable[Credentials]],
        *,
        rejected: Credentials | None = None,
    ) -> Credentials | None:
        """Credentials ready to post with: refreshed first if they expire soon, or if the network
        just ``rejected`` them and nobody has refreshed them since. None when not linked."""
        current = await self.credentials(person, network)
        if current is None or not self._needs_refresh(current, rejected):
            return current
        lock = self.store.keys.refresh_lock(person, network)
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + REFRESH_WAIT_S
        while not await self.store.redis.set(lock, owner, nx=True, px=REFRESH_LOCK_TTL_MS):
            if time.monotonic() > deadline:
                raise RefreshFailed(f"timed out waiting for another process to refresh {person}")
            await asyncio.sleep(0.1)
        try:
            # Another process may have refreshed while this one waited for the lock.
            current = await self.credentials(person, network)
            if current is None or not self._needs_refresh(current, rejected):
                return current
            refreshed = await refresh(current)
            await self._replace_credentials(person, network, refreshed)
            log.info("refreshed the %s token of %s", network, person)
            return refreshed
        finally:
            await self.store.release_lease(lock, owner)

    @staticmethod
    def _needs_refresh(current: Credentials, rejected: Credentials | None) -> bool:
        if current.method != "oauth2" or current.refresh_token is None:
            return False
        if rejected is not None:
            return current.access_token == rejected.access_token
        return current.expires_soon()

    async def _replace_credentials(
        self, person: str, network: str, credentials: Credentials
    ) -> None:
        """Only while the link still exists: an unlink during a refresh must stay unlinked."""
        key = self.store.keys.linked_account(person, network)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(key)
            if not await pipe.exists(key):
                return
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.hset(key, "sealed", self.sealer.seal(credentials.sealed_form()))
            with contextlib.suppress(WatchError):
                await pipe.execute()

    # -- pending link attempts -------------------------------------------------------------------

    async def begin(self, ticket: str, payload: dict[str, Any], *, ttl_s: int) -> None:
        """Keep what a link attempt needs to finish (a PKCE verifier, a request token), sealed."""
        await self.store.redis.set(
            self.store.keys.link_attempt(ticket), self.sealer.seal(json.dumps(payload)), ex=ttl_s
        )

    async def peek(self, ticket: str) -> dict[str, Any] | None:
        """The attempt's payload, left in place (a page that only shows it)."""
        sealed = await self.store.redis.get(self.store.keys.link_attempt(ticket))
        return json.loads(self.sealer.open(str(sealed))) if sealed else None

    async def take(self, ticket: str) -> dict[str, Any] | None:
        """The attempt's payload, once: a second use of the same ticket finds nothing."""
        sealed = await self.store.redis.getdel(self.store.keys.link_attempt(ticket))
        if not sealed:
            return None
        payload: dict[str, Any] = json.loads(self.sealer.open(str(sealed)))
        return payload


def new_linked_account(
    *,
    person: str,
    network: str,
    handle: str,
    user_id: str,
    method: Literal["oauth2", "oauth1"],
) -> LinkedAccount:
    return LinkedAccount(
        person=person,
        network=network,
        handle=handle,
        user_id=user_id,
        method=method,
        linked_at=utcnow(),
    )
