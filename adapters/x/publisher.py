"""X as a publisher: replies posted as an institutional account (OAuth 1.0a user keys from
settings) or as a member of staff through their linked personal account (tokens in the vault)."""

from __future__ import annotations

import logging

from twitter_text import parse_tweet

from adapters.x import texts
from adapters.x.client import XClient
from adapters.x.config import X
from adapters.x.oauth import XLinker
from adapters.x.settings import XSettings, x_settings
from bridge.config import AccountConfig
from bridge.desks.replies import DuplicatePost
from bridge.domain.models import PostedReply
from bridge.errors import CredentialsRejected, PermanentError
from bridge.ports import AdapterContext
from bridge.store.store import Store
from bridge.store.vault import Credentials, LinkedAccount, TokenVault
from bridge.text import messages

log = logging.getLogger(__name__)

MAX_WEIGHTED_LENGTH = 280


class XPublisher:
    network = "x"

    def __init__(
        self, settings: XSettings, store: Store, *, vault: TokenVault | None = None
    ) -> None:
        self.settings = settings
        self._store = store
        self._vault = vault
        self.linker = XLinker(settings)
        self._clients: dict[str, XClient] = {}

    @classmethod
    async def from_context(cls, context: AdapterContext) -> XPublisher:
        return cls(x_settings(context.settings), context.store, vault=context.vault)

    def measure(self, text: str) -> tuple[int, int]:
        """X's weighted length: 280, where a link counts 23 and CJK characters and emoji 2."""
        return int(parse_tweet(text).weightedLength), MAX_WEIGHTED_LENGTH

    def check_text(self, text: str) -> str | None:
        length, _ = self.measure(text)
        if length > MAX_WEIGHTED_LENGTH:
            return texts.reply_too_long(length=length, limit=MAX_WEIGHTED_LENGTH)
        return None

    def can_post_as(self, account: AccountConfig) -> bool:
        return (
            account.key in self.settings.x_account_tokens
            and self.settings.x_consumer_key is not None
            and self.settings.x_consumer_secret is not None
        )

    def _client(self, account: AccountConfig) -> XClient:
        if account.key not in self._clients:
            if not self.can_post_as(account):
                said = messages.reply_no_credentials(
                    handle=account.handle, setting=X.posting_setting
                )
                raise PermanentError("x", said)
            token = self.settings.x_account_tokens[account.key]
            assert self.settings.x_consumer_key and self.settings.x_consumer_secret
            bearer = self.settings.x_bearer_token
            self._clients[account.key] = XClient(
                bearer_token=bearer.get_secret_value() if bearer else "",
                api_url=self.settings.x_api_url,
                consumer_key=self.settings.x_consumer_key.get_secret_value(),
                consumer_secret=self.settings.x_consumer_secret.get_secret_value(),
                access_token=token.access_token.get_secret_value(),
                access_token_secret=token.access_token_secret.get_secret_value(),
            )
        return self._clients[account.key]

    def _posted(self, handle: str, post_id: str) -> PostedReply:
        return PostedReply(
            id=post_id, url=f"https://x.com/{handle}/status/{post_id}", as_handle=handle
        )

    async def post_reply(
        self, *, account: AccountConfig, in_reply_to: str, text: str, person: str | None = None
    ) -> PostedReply:
        """Post as the institution, or as ``person``'s linked account when one is given."""
        if person is not None:
            return await self._post_as_person(person, in_reply_to=in_reply_to, text=text)
        try:
            post_id = await self._client(account).create_post(text=text, in_reply_to=in_reply_to)
        except CredentialsRejected as exc:
            raise PermanentError(
                "x", texts.reply_institution_rejected(handle=account.handle, detail=exc.detail)
            ) from None
        except PermanentError as exc:
            raise _duplicate_or(exc) from None
        return self._posted(account.handle, post_id)

    async def _post_as_person(self, person: str, *, in_reply_to: str, text: str) -> PostedReply:
        linked, credentials = await self._linked(person)
        try:
            try:
                post_id = await self._create(credentials, in_reply_to=in_reply_to, text=text)
            except CredentialsRejected:
                # Perhaps expired early: one refresh and one more try; then the link is gone.
                refreshed = await self._usable(person, rejected=credentials)
                if refreshed is None or refreshed == credentials:
                    raise
                post_id = await self._create(refreshed, in_reply_to=in_reply_to, text=text)
        except CredentialsRejected as exc:
            raise PermanentError("x", texts.reply_personal_rejected(handle=linked.handle)) from exc
        except PermanentError as exc:
            raise _duplicate_or(exc) from None
        return self._posted(linked.handle, post_id)

    async def _create(self, credentials: Credentials, *, in_reply_to: str, text: str) -> str:
        async with self.linker.client_for(credentials) as client:
            return await client.create_post(text=text, in_reply_to=in_reply_to)

    async def _linked(self, person: str) -> tuple[LinkedAccount, Credentials]:
        linked = await self._vault.linked(person, "x") if self._vault else None
        credentials = await self._usable(person) if linked else None
        if linked is None or credentials is None:
            raise PermanentError("x", texts.reply_personal_unlinked_since())
        return linked, credentials

    async def _usable(
        self, person: str, *, rejected: Credentials | None = None
    ) -> Credentials | None:
        assert self._vault is not None
        try:
            return await self._vault.usable_credentials(
                person, "x", self.linker.refresh, rejected=rejected
            )
        except CredentialsRejected:
            return None

    async def find_reply(
        self, *, account: AccountConfig, in_reply_to: str, text: str, person: str | None = None
    ) -> PostedReply | None:
        """Our reply to ``in_reply_to`` among the posting account's latest posts, if it went out.

        X may put the @handles of the conversation in front of a reply's text, so the text we
        sent is looked for at the end of what X shows.
        """
        if person is not None:
            linked, credentials = await self._linked(person)
            async with self.linker.client_for(credentials) as client:
                replies = await client.recent_replies(user_id=linked.user_id)
            handle = linked.handle
        else:
            client = self._client(account)
            user_id = account.user_id or await self._store.platform_user_id("x", account.key)
            if user_id is None:
                user_id = await client.user_id_for(account.handle)
                await self._store.remember_platform_user_id("x", account.key, user_id)
            replies = await client.recent_replies(user_id=user_id)
            handle = account.handle
        for post_id, replied_to, posted_text in replies:
            if replied_to == in_reply_to and posted_text.strip().endswith(text.strip()):
                return self._posted(handle, post_id)
        return None

    async def ping(self, account: AccountConfig) -> None:
        """Look the account up with the app's bearer token: X answers and accepts us."""
        bearer = self.settings.x_bearer_token
        async with XClient(
            bearer_token=bearer.get_secret_value() if bearer else "",
            api_url=self.settings.x_api_url,
        ) as client:
            await client.user_id_for(account.handle)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


def _duplicate_or(exc: PermanentError) -> PermanentError:
    """X's 403 for identical text means the reply is already there; other refusals stay as is."""
    if "duplicate content" in exc.detail.lower():
        return DuplicatePost("x", exc.detail)
    return exc
