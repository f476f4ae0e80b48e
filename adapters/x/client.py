"""The one place Reachable talks to X: tweepy's AsyncClient, aimed at X or at the emulator.

tweepy hard-codes ``https://api.twitter.com``; an aiohttp client middleware rewrites that origin
to ``api_url`` after OAuth 1.0a signing, so signatures still cover the real URL. Every tweepy and
aiohttp failure is turned into :mod:`bridge.errors` here, so callers decide on retries without
knowing tweepy.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import tweepy
from tweepy.asynchronous import AsyncClient
from yarl import URL

from adapters.x.convert import mentions_from_response
from bridge.domain.models import Mention
from bridge.errors import CredentialsRejected, PermanentError, RateLimited, TransientError
from bridge.ports import RateBudget

__all__ = ["MentionPage", "RateBudget", "XClient"]

X_API_URL = "https://api.twitter.com"
NETWORK = "x"
DEFAULT_RETRY_AFTER = 60.0
MENTION_EXPANSIONS = ["author_id", "referenced_tweets.id", "attachments.media_keys"]
MENTION_TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "lang",
    "author_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "entities",
    "attachments",
    # A long post's `text` holds only its start; the whole is in note_tweet, sent on request.
    "note_tweet",
    # Where the post's own text ends: before the t.co link X appends for attachments.
    "display_text_range",
]
MENTION_USER_FIELDS = ["verified", "public_metrics", "name", "username"]
MENTION_MEDIA_FIELDS = ["type", "url", "preview_image_url"]


class _RedactCredentials(logging.Filter):
    """tweepy logs request headers at DEBUG; tokens must never reach a log line."""

    _HEADER = re.compile(r"('Authorization': )'[^']*'")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Authorization" in message:
            record.msg, record.args = self._HEADER.sub(r"\1'[redacted]'", message), None
        return True


class _DropSigningDebug(logging.Filter):
    """oauthlib's DEBUG lines spell out the consumer key, access token and signature."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _install_log_filters() -> None:
    for name, kind in (
        ("tweepy.asynchronous.client", _RedactCredentials),
        ("oauthlib.oauth1.rfc5849", _DropSigningDebug),
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


_install_log_filters()


@dataclass(frozen=True)
class MentionPage:
    """One page of the mentions timeline, newest first, as X returned it."""

    mentions: list[Mention]
    newest_id: str | None
    next_token: str | None
    budget: RateBudget


def budget_from_headers(headers: Mapping[str, str], prefix: str = "x-rate-limit-") -> RateBudget:
    """A budget as X states it: ``x-rate-limit-*`` for the endpoint's 15-minute window, or
    another ``prefix`` (``x-app-limit-24hour-``: the app's daily posting budget)."""

    def number(name: str) -> int | None:
        raw = headers.get(prefix + name)
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None

    reset = number("reset")
    return RateBudget(
        limit=number("limit"),
        remaining=number("remaining"),
        reset_at=float(reset) if reset is not None else None,
    )


def wait_after_refusal(headers: Mapping[str, str], *, now: float) -> float:
    """Seconds (as X counts them) until X takes a refused call again: until the reset of the
    budget that ran out, the app's day when that is the one, else the 15-minute window."""
    budgets = [budget_from_headers(headers, p) for p in ("x-app-limit-24hour-", "x-rate-limit-")]
    spent = [b for b in budgets if b.reset_at is not None and b.remaining == 0]
    reset = (spent or [budgets[1]])[0].reset_at
    return max(1.0, reset - now) if reset is not None else DEFAULT_RETRY_AFTER


def _origin_rewriter(api_url: str) -> aiohttp.ClientMiddlewareType:
    target = URL(api_url)

    async def rewrite(
        request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType
    ) -> aiohttp.ClientResponse:
        if request.url.host == "api.twitter.com":
            request.url = URL.build(
                scheme=target.scheme,
                host=target.raw_host or "",
                port=target.explicit_port,
                path=request.url.raw_path,
                query_string=request.url.raw_query_string,
                encoded=True,
            )
        return await handler(request)

    return rewrite


def _detail(exc: tweepy.HTTPException) -> str:
    """X's own words: the ``errors`` messages, or the problem body's ``detail``."""
    status = getattr(exc.response, "status", "?")
    text = "; ".join(str(m) for m in exc.api_messages) or str(getattr(exc.response, "reason", ""))
    return f"HTTP {status}: {text or 'error'}"


class XClient:
    """App-only reads (mentions, user lookup) and posting as a user: with OAuth 1.0a user keys,
    or with an OAuth 2.0 user access token as the bearer token (``bearer_is_user``)."""

    def __init__(
        self,
        *,
        bearer_token: str,
        api_url: str = X_API_URL,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        bearer_is_user: bool = False,
        timeout_s: float = 30.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._user_auth = all((consumer_key, consumer_secret, access_token, access_token_secret))
        self._bearer_is_user = bearer_is_user
        self._client = AsyncClient(
            bearer_token=bearer_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            return_type=aiohttp.ClientResponse,
            wait_on_rate_limit=False,
        )
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return (
            f"XClient(api_url={self.api_url!r}, user_auth={self._user_auth}, "
            f"bearer_is_user={self._bearer_is_user})"
        )

    async def __aenter__(self) -> XClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _ensure_session(self) -> None:
        # Created lazily: an aiohttp session must be born inside the running event loop.
        if self._session is None or self._session.closed:
            middlewares = () if self.api_url == X_API_URL else (_origin_rewriter(self.api_url),)
            self._session = aiohttp.ClientSession(timeout=self._timeout, middlewares=middlewares)
            self._client.session = self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
            self._client.session = None

    async def _call(self, request: Awaitable[Any]) -> tuple[dict[str, Any], RateBudget]:
        """Run one tweepy call; X's failures come out as Reachable's error classes."""
        try:
            response: aiohttp.ClientResponse = await request
            body = await response.json(content_type=None)
        except tweepy.TooManyRequests as exc:
            wait = wait_after_refusal(exc.response.headers, now=time.time())
            raise RateLimited(NETWORK, _detail(exc), retry_after=wait) from None
        except tweepy.TwitterServerError as exc:
            raise TransientError(NETWORK, _detail(exc)) from None
        except tweepy.Unauthorized as exc:
            raise CredentialsRejected(NETWORK, _detail(exc)) from None
        except tweepy.HTTPException as exc:
            raise PermanentError(NETWORK, _detail(exc)) from None
        except aiohttp.ContentTypeError as exc:
            # An error page that is not JSON; its status still says whether to retry.
            kind = PermanentError if 400 <= exc.status < 500 else TransientError
            raise kind(NETWORK, f"HTTP {exc.status}: response is not JSON") from None
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise TransientError(NETWORK, f"{type(exc).__name__}: {exc}") from None
        if not isinstance(body, dict):
            raise TransientError(NETWORK, "response body is not a JSON object")
        return body, budget_from_headers(response.headers)

    async def user_id_for(self, handle: str) -> str:
        handle = handle.lstrip("@")
        self._ensure_session()
        try:
            body, _ = await self._call(self._client.get_user(username=handle))
        except PermanentError as exc:
            raise PermanentError(NETWORK, f"cannot look up @{handle}: {exc.detail}") from None
        data = body.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            errors = body.get("errors") or [{}]
            detail = errors[0].get("detail", "no such user")
            raise PermanentError(NETWORK, f"unknown X user @{handle}: {detail}")
        return str(data["id"])

    async def mentions_page(
        self,
        *,
        user_id: str,
        account_key: str,
        since_id: str | None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> MentionPage:
        self._ensure_session()
        body, budget = await self._call(
            self._client.get_users_mentions(
                user_id,
                since_id=since_id,
                pagination_token=pagination_token,
                max_results=max_results,
                expansions=MENTION_EXPANSIONS,
                tweet_fields=MENTION_TWEET_FIELDS,
                user_fields=MENTION_USER_FIELDS,
                media_fields=MENTION_MEDIA_FIELDS,
            )
        )
        if "data" not in body and "meta" not in body and body.get("errors"):
            # X reports an unknown or suspended user as a 200 with only ``errors``.
            detail = body["errors"][0].get("detail", "mentions unavailable")
            raise PermanentError(NETWORK, f"mentions of user {user_id}: {detail}")
        meta = body.get("meta") or {}
        try:
            mentions = mentions_from_response(body, account_key=account_key)
        except (ValueError, TypeError, AttributeError) as exc:
            raise TransientError(NETWORK, f"malformed mentions page: {exc}") from None
        return MentionPage(
            mentions=mentions,
            newest_id=meta.get("newest_id"),
            next_token=meta.get("next_token"),
            budget=budget,
        )

    async def own_replies_since(
        self, *, user_id: str, since_id: str | None
    ) -> tuple[list[tuple[str, str, str]], str | None]:
        """The account's replies newer than ``since_id``, as (id, conversation id, replied-to
        id), and the newest post id seen (the next cursor)."""
        self._ensure_session()
        body, _ = await self._call(
            self._client.get_users_tweets(
                user_id,
                since_id=since_id,
                max_results=100,
                tweet_fields=["referenced_tweets", "conversation_id"],
                user_auth=False,
            )
        )
        replies = []
        for post in body.get("data") or []:
            for ref in post.get("referenced_tweets") or []:
                if ref.get("type") == "replied_to":
                    conversation = str(post.get("conversation_id") or ref["id"])
                    replies.append((str(post["id"]), conversation, str(ref["id"])))
        newest = (body.get("meta") or {}).get("newest_id")
        return replies, str(newest) if newest else since_id

    async def recent_replies(self, *, user_id: str, count: int = 100) -> list[tuple[str, str, str]]:
        """The account's latest replies as (id, replied-to id, text): how an interrupted post is
        found again, since X gives no idempotency key and a duplicate's 403 carries no id."""
        self._ensure_session()
        body, _ = await self._call(
            self._client.get_users_tweets(
                user_id,
                max_results=max(5, min(count, 100)),
                tweet_fields=["referenced_tweets", "created_at", "note_tweet"],
                user_auth=False,
            )
        )
        replies = []
        for post in body.get("data") or []:
            note = post.get("note_tweet")
            text = note.get("text") if isinstance(note, dict) else post.get("text")
            for ref in post.get("referenced_tweets") or []:
                if ref.get("type") == "replied_to":
                    replies.append((str(post["id"]), str(ref["id"]), str(text or "")))
        return replies

    async def me(self) -> tuple[str, str]:
        """(handle, id) of the user this client acts as."""
        self._ensure_session()
        body, _ = await self._call(self._client.get_me(user_auth=self._user_auth))
        data = body.get("data")
        if not isinstance(data, dict) or not data.get("username") or not data.get("id"):
            raise TransientError(NETWORK, "users/me answered without the user")
        return str(data["username"]), str(data["id"])

    async def create_post(self, *, text: str, in_reply_to: str | None) -> str:
        """Post as the user this client acts as; returns the new post's id."""
        if not (self._user_auth or self._bearer_is_user):
            raise PermanentError(NETWORK, "posting needs a user's credentials")
        self._ensure_session()
        body, _ = await self._call(
            self._client.create_tweet(
                text=text, in_reply_to_tweet_id=in_reply_to, user_auth=self._user_auth
            )
        )
        data = body.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise TransientError(NETWORK, "create post: response without data.id")
        return str(data["id"])
