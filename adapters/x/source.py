"""X as a mention source: the mentions timeline of each institutional account, since a cursor."""

from __future__ import annotations

import logging
import time

from adapters.x.client import XClient
from adapters.x.settings import x_settings
from bridge.config import AccountConfig
from bridge.domain.models import Mention
from bridge.errors import RateLimited, ReachableError
from bridge.ports import AdapterContext, FetchResult, OwnReply, RateBudget
from bridge.store.store import Store

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# X's post ids start with the milliseconds since this moment (its "snowflake" epoch).
SNOWFLAKE_EPOCH_MS = 1_288_834_974_657
# An empty timeline at the first start: later posts are new if they are younger than the start
# minus this margin, which absorbs any difference between our clock and X's.
START_MARGIN_S = 600
# The mentions timeline reaches only the ~800 most recent mentions: 8 pages of 100.
MAX_PAGES = 8


class XSource:
    network = "x"

    def __init__(self, client: XClient, store: Store) -> None:
        self.client = client
        self._store = store

    @classmethod
    async def from_context(cls, context: AdapterContext) -> XSource:
        settings = x_settings(context.settings)
        token = settings.x_bearer_token
        if token is None:
            raise ReachableError(
                "an X account is configured, but REACHABLE_X_BEARER_TOKEN is not set"
            )
        client = XClient(bearer_token=token.get_secret_value(), api_url=settings.x_api_url)
        return cls(client, context.store)

    async def _user_id(self, account: AccountConfig) -> str:
        if account.user_id:
            return account.user_id
        known = await self._store.platform_user_id(self.network, account.key)
        if known:
            return known
        user_id = await self.client.user_id_for(account.handle)
        await self._store.remember_platform_user_id(self.network, account.key, user_id)
        log.info("@%s is X user %s", account.handle, user_id)
        return user_id

    async def fetch_new(self, account: AccountConfig, *, since_id: str | None) -> FetchResult:
        """Mentions newer than ``since_id``, oldest first, paging back as far as X allows.

        With no cursor yet (first start) only the ``backfill`` newest are taken, so that a new
        installation does not flood the chat with months of history. If X stops us mid-way
        (rate limit), what was read is still returned, with no cursor: the next poll reads the
        rest again and the router skips what it already has.
        """
        user_id = await self._user_id(account)
        if since_id is None:
            page = await self.client.mentions_page(
                user_id=user_id,
                account_key=account.key,
                since_id=None,
                max_results=min(max(account.backfill, 5), PAGE_SIZE),
            )
            mentions = page.mentions[: account.backfill]
            # Nothing on X yet: remember the start, or the first mentions to come would be
            # taken for history and left to the backfill (none of them, with backfill 0).
            return FetchResult(
                mentions=_oldest_first(mentions),
                cursor=page.newest_id or snowflake_at(time.time() - START_MARGIN_S),
                budget=page.budget,
                calls=1,
            )
        collected: list[Mention] = []
        cursor: str | None = None
        token: str | None = None
        calls = 0
        budget = RateBudget()
        for _ in range(MAX_PAGES):
            try:
                page = await self.client.mentions_page(
                    user_id=user_id,
                    account_key=account.key,
                    since_id=since_id,
                    pagination_token=token,
                    max_results=PAGE_SIZE,
                )
            except RateLimited as exc:
                if not collected:
                    raise
                log.warning(
                    "@%s: rate limited after %d pages; keeping %d mentions, cursor stays",
                    account.handle,
                    calls,
                    len(collected),
                )
                return FetchResult(
                    mentions=_oldest_first(collected),
                    cursor=None,
                    budget=RateBudget(remaining=0, reset_at=time.time() + exc.retry_after),
                    calls=calls,
                )
            calls += 1
            budget = page.budget
            cursor = cursor or page.newest_id
            collected += page.mentions
            token = page.next_token
            if not token:
                break
        # X's mentions timeline reaches back 800 posts: a backlog that fills it may go further.
        return FetchResult(
            mentions=_oldest_first(collected),
            cursor=cursor,
            budget=budget,
            calls=calls,
            truncated=len(collected) >= MAX_PAGES * PAGE_SIZE,
        )

    async def fetch_own_replies(
        self, account: AccountConfig, *, since_id: str | None
    ) -> tuple[list[OwnReply], str | None]:
        user_id = await self._user_id(account)
        return await self.fetch_user_replies(
            user_id=user_id, handle=account.handle, since_id=since_id
        )

    async def fetch_user_replies(
        self, *, user_id: str, handle: str, since_id: str | None
    ) -> tuple[list[OwnReply], str | None]:
        found, cursor = await self.client.own_replies_since(user_id=user_id, since_id=since_id)
        replies = [
            OwnReply(
                id=post_id,
                conversation_id=conversation,
                in_reply_to=replied_to,
                url=f"https://x.com/{handle}/status/{post_id}",
            )
            for post_id, conversation, replied_to in found
        ]
        return replies, cursor

    async def close(self) -> None:
        await self.client.close()


def snowflake_at(epoch_s: float) -> str:
    """The smallest X post id of that moment: every post made later has a greater id."""
    return str(max(int(epoch_s * 1000) - SNOWFLAKE_EPOCH_MS, 0) << 22)


def _oldest_first(mentions: list[Mention]) -> list[Mention]:
    return sorted(mentions, key=lambda m: (len(m.id), m.id))


def _budget(budget: object) -> RateBudget:
    return RateBudget(
        limit=getattr(budget, "limit", None),
        remaining=getattr(budget, "remaining", None),
        reset_at=getattr(budget, "reset_at", None),
    )
