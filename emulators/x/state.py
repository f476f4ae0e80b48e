"""The X emulator's state: users, posts, credentials and rate-limit windows, behind one lock.

:class:`XState` is everything the emulator holds and does, without HTTP; the API endpoints
(:mod:`emulators.x.api`), the linking flows (:mod:`emulators.x.oauth`) and the control API
(:mod:`emulators.x.control`) all work on it, and :class:`emulators.x.app.XEmulator` serves it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request

from emulators.core import EmulatorCore
from emulators.x.grants import OAuthGrants, oauth1_signature, query_pairs
from emulators.x.limits import RateLimiter
from emulators.x.model import (
    API_ORIGIN,
    ID_FLOOR,
    LEADING_MENTIONS_RE,
    MEDIA_KIND_PREFIX,
    MENTION_RE,
    MENTIONS_REACH,
    REPLY_HANDLES_RE,
    TWITTER_EPOCH_MS,
    USER_TWEETS_REACH,
    USERNAME_RE,
    Auth,
    DuplicatePost,
    Json,
    MediaItem,
    Post,
    PostSpec,
    UnknownPost,
    User,
    guess_lang,
    hashtag_entities,
    head_of,
)
from emulators.x.render import fault_response


class XState:
    """The emulated platform's state: users, posts, credentials and rate-limit windows."""

    def __init__(
        self,
        *,
        bearer_tokens: Iterable[str] = (),
        oauth1_consumers: Mapping[str, str] | None = None,
        oauth1_tokens: Mapping[str, tuple[str, str]] | None = None,
        user_bearer_tokens: Mapping[str, str] | None = None,
        oauth2_clients: Mapping[str, str | None] | None = None,
        oauth2_callbacks: Mapping[str, Iterable[str]] | None = None,
        users: Iterable[Mapping[str, Any]] = (),
        clock: Callable[[], float] = time.time,
        time_scale: float = 1.0,
    ) -> None:
        """``oauth2_clients`` maps OAuth 2.0 client ids to secrets (None: a public client),
        ``oauth2_callbacks`` each client to the callback URLs registered for it (the only
        ``redirect_uri`` values its consent page accepts);
        ``clock`` is the wall clock (post times, token lifetimes); rate windows run
        ``time_scale`` times faster than real time."""
        self.bearer_tokens = set(bearer_tokens)
        self.oauth1_consumers = dict(oauth1_consumers or {})
        self.oauth1_tokens = dict(oauth1_tokens or {})
        self.user_bearer_tokens = dict(user_bearer_tokens or {})
        self._clock = clock
        self._lock = threading.RLock()
        self._last_id = ID_FLOOR
        self._users: dict[str, User] = {}
        self._posts: list[Post] = []
        self._by_id: dict[str, Post] = {}
        self.core = EmulatorCore("x", fault_response, time_scale=time_scale)
        self.limiter = RateLimiter(self.core.clock, wall=clock)
        self.core.on_reset(self._on_reset)
        self.oauth = OAuthGrants(oauth2_clients or {}, clock, oauth2_callbacks)
        self.core.on_reset(self.oauth.reset)
        for spec in users:
            self.add_user(
                str(spec["username"]),
                name=spec.get("name"),
                verified=spec.get("verified"),
                followers=spec.get("followers"),
            )
        for _, username in [*self.oauth1_tokens.values(), *self.user_bearer_tokens.items()]:
            self.add_user(username)
        self._initial_users = {key: User(**vars(user)) for key, user in self._users.items()}

    def reset(self) -> None:
        self.core.reset()

    def _on_reset(self) -> None:
        with self._lock:
            self._users = {key: User(**vars(user)) for key, user in self._initial_users.items()}
            self._posts.clear()
            self._by_id.clear()
        self.limiter.reset()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _next_id(self) -> str:
        snowflake = (int(self._clock() * 1000) - TWITTER_EPOCH_MS) << 22
        self._last_id = max(self._last_id + 1, snowflake)
        return str(self._last_id)

    # users -------------------------------------------------------------------------------------

    def user(self, username: str) -> User | None:
        with self._lock:
            return self._users.get(username.lower())

    def user_by_id(self, user_id: str) -> User | None:
        with self._lock:
            return next((u for u in self._users.values() if u.id == user_id), None)

    def add_user(
        self,
        username: str,
        *,
        name: str | None = None,
        verified: bool | None = None,
        followers: int | None = None,
    ) -> User:
        """Create or update a user; unknown people get a plausible name and follower count."""
        if not USERNAME_RE.match(username):
            raise ValueError(f"username {username!r} must match {USERNAME_RE.pattern}")
        with self._lock:
            user = self._users.get(username.lower())
            if user is None:
                user = User(
                    id=self._next_id(),
                    username=username,
                    name=name or username.replace("_", " ").title(),
                    followers=zlib.crc32(username.lower().encode()) % 5000,
                )
                self._users[username.lower()] = user
            elif name is not None:
                user.name = name
            if verified is not None:
                user.verified = verified
            if followers is not None:
                user.followers = followers
            return user

    # posts -------------------------------------------------------------------------------------

    def add_post(self, spec: PostSpec, *, reject_duplicate: bool = False) -> Post:
        with self._lock:
            parent = None
            if spec.in_reply_to is not None:
                parent = self._by_id.get(spec.in_reply_to)
                if parent is None or parent.deleted:
                    raise UnknownPost(spec.in_reply_to)
            author = self.add_user(
                spec.author, name=spec.author_name, verified=spec.verified, followers=spec.followers
            )
            text = self._reply_text(spec.text, author, parent)
            if reject_duplicate and any(
                p.author_id == author.id and p.text == text and not p.deleted for p in self._posts
            ):
                raise DuplicatePost(text)
            post_id = self._next_id()
            head = head_of(text)
            handles = REPLY_HANDLES_RE.match(head) if parent else None
            post = Post(
                id=post_id,
                author_id=author.id,
                text=text,
                created_at=spec.created_at or self._now(),
                lang=spec.lang or guess_lang(text),
                conversation_id=parent.conversation_id if parent else post_id,
                in_reply_to_id=parent.id if parent else None,
                in_reply_to_user_id=parent.author_id if parent else None,
                mentions=self._mention_entities(text),
                hashtags=hashtag_entities(text),
                media=[
                    MediaItem(f"{MEDIA_KIND_PREFIX[kind]}_{self._next_id()}", kind, url)
                    for kind, url in spec.media
                ],
                head=head,
                display_start=handles.end() if handles else 0,
                author_username=author.username,
            )
            self._posts.append(post)
            self._by_id[post.id] = post
            return post

    def _reply_text(self, text: str, author: User, parent: Post | None) -> str:
        if parent is None or parent.author_id == author.id:
            return text
        parent_author = self.user_by_id(parent.author_id)
        if parent_author is None:
            return text
        leading = LEADING_MENTIONS_RE.match(text)
        handles = {h.lower() for h in MENTION_RE.findall(leading.group(0))} if leading else set()
        if parent_author.username.lower() in handles:
            return text
        return f"@{parent_author.username} {text}" if text else f"@{parent_author.username}"

    def _mention_entities(self, text: str) -> list[Json]:
        entities = []
        for match in MENTION_RE.finditer(text):
            user = self._users.get(match.group(1).lower())
            if user is not None:
                entities.append(
                    {
                        "start": match.start(),
                        "end": match.end(),
                        "username": match.group(1),
                        "id": user.id,
                    }
                )
        return entities

    def post(self, post_id: str) -> Post | None:
        with self._lock:
            post = self._by_id.get(post_id)
            return None if post is None or post.deleted else post

    def delete_post(self, post_id: str) -> None:
        with self._lock:
            self._by_id[post_id].deleted = True

    def posts_by(self, username: str) -> list[Post]:
        user = self.user(username)
        with self._lock:
            if user is None:
                return []
            return [p for p in reversed(self._posts) if p.author_id == user.id and not p.deleted]

    def mentions_of(self, user_id: str) -> list[Post]:
        """Newest first, cut to the most recent ones X still serves."""
        with self._lock:
            found = [
                p
                for p in reversed(self._posts)
                if not p.deleted and any(m["id"] == user_id for m in p.mentions)
            ]
        return found[:MENTIONS_REACH]

    def reply_count(self, post_id: str) -> int:
        with self._lock:
            return sum(1 for p in self._posts if p.in_reply_to_id == post_id and not p.deleted)

    def timeline_of(self, user_id: str) -> list[Post]:
        with self._lock:
            found = [p for p in reversed(self._posts) if p.author_id == user_id and not p.deleted]
        return found[:USER_TWEETS_REACH]

    # credentials -------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Auth | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            if value in self.bearer_tokens:
                return Auth("app", "app:" + hashlib.sha256(value.encode()).hexdigest()[:16])
            username = self.user_bearer_tokens.get(value)
            user_id = None if username else self.oauth.user_for_access_token(value)
            user = self.user(username) if username else self.user_by_id(user_id or "")
            return Auth("user", "user:" + user.id, user.id) if user else None
        if scheme.lower() == "oauth":
            return self._authenticate_oauth1(request, value)
        return None

    def _authenticate_oauth1(self, request: Request, value: str) -> Auth | None:
        oauth = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', value)}
        consumer_key, token_key = oauth.get("oauth_consumer_key", ""), oauth.get("oauth_token", "")
        consumer_secret = self.oauth1_consumers.get(consumer_key)
        token = self.oauth1_tokens.get(token_key) or self.oauth.oauth1_token(
            token_key, consumer_key
        )
        if consumer_secret is None or token is None:
            return None
        if oauth.get("oauth_signature_method") != "HMAC-SHA1":
            return None
        token_secret, username = token
        params = query_pairs(request.url.query) + [
            (k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")
        ]
        # tweepy signs the real API origin; a client signing the emulator's own URL is fine too.
        candidates = (
            API_ORIGIN + request.url.path,
            f"{request.url.scheme}://{request.url.netloc}{request.url.path}",
        )
        signature = oauth.get("oauth_signature", "")
        if not any(
            hmac.compare_digest(
                oauth1_signature(request.method, url, params, consumer_secret, token_secret),
                signature,
            )
            for url in candidates
        ):
            return None
        user = self.user(username)
        return Auth("user", "user:" + user.id, user.id) if user else None
