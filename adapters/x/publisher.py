"""X as a publisher: replies posted as an institutional account (OAuth 1.0a user keys)."""

from __future__ import annotations

import logging

from twitter_text import parse_tweet

from adapters.base import AdapterContext
from adapters.x.client import XClient
from bridge import messages
from bridge.config import AccountConfig
from bridge.errors import PermanentError
from bridge.models import PostedReply
from bridge.replies import DuplicatePost
from bridge.settings import Settings
from bridge.store import Store

log = logging.getLogger(__name__)

MAX_WEIGHTED_LENGTH = 280


class XPublisher:
    network = "x"

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self._store = store
        self._clients: dict[str, XClient] = {}

    @classmethod
    async def from_context(cls, context: AdapterContext) -> XPublisher:
        return cls(context.settings, context.store)

    def measure(self, text: str) -> tuple[int, int]:
        """X's weighted length: 280, where a link counts 23 and CJK characters and emoji 2."""
        return int(parse_tweet(text).weightedLength), MAX_WEIGHTED_LENGTH

    def check_text(self, text: str) -> str | None:
        length, _ = self.measure(text)
        if length > MAX_WEIGHTED_LENGTH:
            return messages.reply_too_long(length=length, limit=MAX_WEIGHTED_LENGTH)
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
                raise PermanentError("x", messages.reply_no_credentials(handle=account.handle))
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

    def _posted(self, account: AccountConfig, post_id: str) -> PostedReply:
        return PostedReply(
            id=post_id,
            url=f"https://x.com/{account.handle}/status/{post_id}",
            as_handle=account.handle,
        )

    async def post_reply(
        self, *, account: AccountConfig, in_reply_to: str, text: str
    ) -> PostedReply:
        try:
            post_id = await self._client(account).create_post(text=text, in_reply_to=in_reply_to)
        except PermanentError as exc:
            if "duplicate content" in exc.detail.lower():
                raise DuplicatePost("x", exc.detail) from exc
            raise
        return self._posted(account, post_id)

    async def find_reply(
        self, *, account: AccountConfig, in_reply_to: str, text: str
    ) -> PostedReply | None:
        """Our reply to ``in_reply_to`` among the account's latest posts, if it went out.

        X may put the @handles of the conversation in front of a reply's text, so the text we
        sent is looked for at the end of what X shows.
        """
        client = self._client(account)
        user_id = account.user_id or await self._store.platform_user_id("x", account.key)
        if user_id is None:
            user_id = await client.user_id_for(account.handle)
            await self._store.remember_platform_user_id("x", account.key, user_id)
        for post_id, replied_to, posted_text in await client.recent_replies(user_id=user_id):
            if replied_to == in_reply_to and posted_text.strip().endswith(text.strip()):
                return self._posted(account, post_id)
        return None

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
