"""A local stand-in for the X API v2 subset Reachable uses, served to the real tweepy client.

Faithfulness matters more than completeness: the JSON shapes, status codes, error bodies and
``x-rate-limit-*`` headers follow X (see ``tests/fixtures/x``), because the adapter's error
handling is only tested as far as the emulator fails the way X fails.

Behaviour worth knowing:

- Ids are time-based snowflakes (above 2**53, strictly increasing) and always JSON strings.
- ``@handles`` become mention entities only for users that exist, as on X. A reply gets the
  replied-to author's ``@handle`` prefixed to its text (unless already there or a self-reply),
  which is how X stores auto-populated reply mentions.
- ``lang``, when not given, comes from a tiny heuristic: ``zxx`` when nothing but handles,
  hashtags and links remain, ``id`` or ``en`` by common-word counts, else ``und``.
- The control API may post duplicate text (it simulates the public); ``POST /2/tweets`` may not.
- A post longer than 280 weighted characters (X Premium's long posts, up to 25,000) comes back
  as X returns it: ``text`` holds its start, cut at a word within 280, and the whole text is in
  ``note_tweet`` only when ``tweet.fields`` asks for ``note_tweet``.
- Attachments are represented as on X: ``attachments.media_keys``, and a ``t.co`` link appended
  to ``text`` with a ``urls`` entity naming the media key; ``display_text_range`` leaves that
  link out, and a reply's leading handles, so a post of only photos displays nothing.
- Linking a person's account (OAuth 2.0 with PKCE, the OAuth 1.0a PIN flow) is in
  ``emulator_oauth``; the tokens those flows issue authenticate here like the configured ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from emulators.core import EmulatorCore, Fault, bad_request, json_endpoint
from emulators.x.graphemes import grapheme_boundary, units_to_index
from emulators.x.limits import DEFAULT_LIMITS, DEFAULT_WINDOW_S, RateLimiter


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


API_ORIGIN = "https://api.twitter.com"
TWITTER_EPOCH_MS = 1_288_834_974_657
ID_FLOOR = 1_900_000_000_000_000_000
MENTIONS_REACH = 800
USER_TWEETS_REACH = 3200
TOKEN_PREFIX = "7140dibdnow9"
PROBLEMS = "https://api.twitter.com/2/problems"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
ID_RE = re.compile(r"^[0-9]{1,19}$")
MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@])")
HASHTAG_RE = re.compile(r"(?<![\w#])#(\w*[^\W\d]\w*)")
LEADING_MENTIONS_RE = re.compile(r"^(?:@[A-Za-z0-9_]{1,15}\s+)+")
# A reply's leading handles, which X does not count as what the post displays.
REPLY_HANDLES_RE = re.compile(r"^(?:@[A-Za-z0-9_]{1,15}(?:\s+|$))+")
POST_LIMIT = 280
# X Premium's long posts; the same weighted count as the 280 of everyone else.
LONG_POST_LIMIT = 25_000
MAX_PHOTOS = 4
_WHITESPACE = re.compile(r"\s")
TCO_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

TWEET_FIELDS = _words(
    "attachments author_id card_uri context_annotations conversation_id created_at "
    "display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id "
    "lang non_public_metrics "
    "note_tweet organic_metrics possibly_sensitive promoted_metrics public_metrics "
    "referenced_tweets reply_settings scopes source text withheld"
)
USER_FIELDS = _words(
    "affiliation connection_status created_at description entities id location "
    "most_recent_tweet_id name pinned_tweet_id profile_banner_url profile_image_url protected "
    "public_metrics receives_your_dm subscription_type url username verified verified_type "
    "withheld"
)
MEDIA_FIELDS = _words(
    "alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url "
    "promoted_metrics public_metrics type url variants width"
)
TWEET_EXPANSIONS = _words(
    "attachments.media_keys attachments.poll_ids author_id edit_history_tweet_ids "
    "entities.mentions.username geo.place_id in_reply_to_user_id referenced_tweets.id "
    "referenced_tweets.id.author_id"
)
USER_EXPANSIONS = frozenset({"pinned_tweet_id", "most_recent_tweet_id"})
FIELD_PARAMS = ("tweet.fields", "user.fields", "media.fields", "place.fields", "poll.fields")
TIMELINE_PARAMS = frozenset(
    {
        "since_id",
        "until_id",
        "max_results",
        "pagination_token",
        "start_time",
        "end_time",
        "expansions",
        *FIELD_PARAMS,
    }
)
MEDIA_KIND_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}

_ID_WORDS = _words(
    "yang dan di ke dari tidak ini itu saya kami kita untuk dengan ada apa bagaimana mohon tolong "
    "terima kasih sudah belum jalan rusak lapor keluhan pak bu kenapa kapan bisa sampai masih "
    "juga atau akan dalam pada"
)
_EN_WORDS = _words(
    "the and is are to of in for please thanks thank you what why when how this that my your "
    "not with on it we can be have has was will"
)

Json = dict[str, Any]


def _json(body: Json, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(
        body,
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json; charset=utf-8",
    )


def _problem_json(body: Json, status: int, headers: Mapping[str, str] | None = None) -> Response:
    """X sends its RFC 7807 problems as ``application/problem+json``; its spec keeps
    ``application/json`` errors for the older ``{code, message}`` shape."""
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type="application/problem+json"
    )


def problem(
    status: int,
    detail: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    title: str | None = None,
) -> Response:
    """X's RFC 7807-ish body for auth, rate-limit and server errors."""
    phrase = HTTPStatus(status).phrase
    body = {
        "title": title or phrase,
        "detail": detail or phrase,
        "type": "about:blank",
        "status": status,
    }
    return _problem_json(body, status, headers)


def invalid_request(errors: list[Json], headers: Mapping[str, str] | None = None) -> Response:
    body = {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{PROBLEMS}/invalid-request",
    }
    return _problem_json(body, 400, headers)


def _param_error(name: str, value: str, message: str) -> Json:
    return {"parameters": {name: [value]}, "message": message}


def not_found_error(resource: str, parameter: str, value: str) -> Json:
    return {
        "value": value,
        "detail": f"Could not find {resource} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource,
        "parameter": parameter,
        "resource_id": value,
        "type": f"{PROBLEMS}/resource-not-found",
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def guess_lang(text: str) -> str:
    stripped = re.sub(r"https?://\S+|[@#][\w]+", " ", text)
    words = re.findall(r"[^\W\d_]+", stripped.lower())
    if not words:
        return "zxx"
    id_hits = sum(word in _ID_WORDS for word in words)
    en_hits = sum(word in _EN_WORDS for word in words)
    if id_hits > en_hits:
        return "in"  # X's code for Indonesian is "in", not ISO 639-1 "id"
    return "en" if en_hits else "und"


def _weighted_length(text: str) -> int:
    try:
        from twitter_text import parse_tweet
    except ImportError:  # pragma: no cover - the dependency ships with the project
        return len(text)
    return int(parse_tweet(text).weightedLength)


def head_of(text: str) -> str:
    """What X v2 puts in ``text`` for a long post: the start of it, within 280 weighted
    characters, cut back to the last whitespace (no ellipsis, no link), as in the real payload
    of xdevplatform/samples#202, where a 283-character post came back cut at 270, before its
    last word. A post within 280 is returned whole."""
    from twitter_text import parse_tweet

    parsed = parse_tweet(text)
    if parsed.weightedLength <= POST_LIMIT:
        return text
    # twitter-text's valid range ends (inclusive) at a UTF-16 index.
    cut = units_to_index(text, parsed.validRangeEnd + 1)
    if not text[cut].isspace():
        space = max((m.start() for m in _WHITESPACE.finditer(text, 0, cut)), default=0)
        cut = space if space > 0 else grapheme_boundary(text, cut)
    return text[:cut].rstrip()


def tco_link(post_id: str) -> str:
    """A stable ``t.co`` address for a post's attachments, shaped like X's (ten characters)."""
    number = int.from_bytes(hashlib.sha256(post_id.encode()).digest()[:8], "big")
    code = ""
    for _ in range(10):
        number, rest = divmod(number, len(TCO_ALPHABET))
        code += TCO_ALPHABET[rest]
    return f"https://t.co/{code}"


# -- state ---------------------------------------------------------------------------------------


@dataclass
class User:
    id: str
    username: str
    name: str
    verified: bool = False
    followers: int = 0
    created_at: datetime = field(default_factory=lambda: datetime(2015, 3, 1, tzinfo=UTC))


@dataclass
class MediaItem:
    media_key: str
    type: str
    url: str | None = None


@dataclass
class Post:
    id: str
    author_id: str
    text: str
    created_at: datetime
    lang: str
    conversation_id: str
    in_reply_to_id: str | None = None
    in_reply_to_user_id: str | None = None
    mentions: list[Json] = field(default_factory=list)
    hashtags: list[Json] = field(default_factory=list)
    media: list[MediaItem] = field(default_factory=list)
    deleted: bool = False
    # What ``text`` holds on the wire: the start of a long post, else the whole text.
    head: str = ""
    # Where a reply's leading handles end: the display range starts there.
    display_start: int = 0
    author_username: str = ""

    @property
    def is_long(self) -> bool:
        return self.head != self.text

    @property
    def media_link(self) -> str | None:
        return tco_link(self.id) if self.media else None

    @property
    def wire_text(self) -> str:
        """``text`` as X returns it: the head, then the attachments' link."""
        link = self.media_link
        if link is None:
            return self.head
        return f"{self.head} {link}" if self.head else link


@dataclass(frozen=True)
class Auth:
    """Who is calling; ``key`` identifies the rate-limit bucket and never leaves the emulator."""

    kind: Literal["app", "user"]
    key: str
    user_id: str | None = None


@dataclass(frozen=True)
class PostSpec:
    author: str
    text: str
    in_reply_to: str | None = None
    lang: str | None = None
    created_at: datetime | None = None
    author_name: str | None = None
    verified: bool | None = None
    followers: int | None = None
    media: tuple[tuple[str, str | None], ...] = ()


class DuplicatePost(Exception):
    pass


class UnknownPost(Exception):
    pass


def _oauth_percent(value: str) -> str:
    return quote(value, safe="~")


def oauth1_signature(
    method: str,
    base_url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    token_secret: str,
) -> str:
    """HMAC-SHA1 as RFC 5849 defines it; tweepy signs with oauthlib, so this must match it."""
    pairs = sorted((_oauth_percent(k), _oauth_percent(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    base = "&".join((method.upper(), _oauth_percent(base_url), _oauth_percent(normalized)))
    key = f"{_oauth_percent(consumer_secret)}&{_oauth_percent(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    pairs = []
    for part in filter(None, raw_query.split("&")):
        key, _, value = part.partition("=")
        pairs.append((unquote(key), unquote(value)))
    return pairs


# -- the emulator --------------------------------------------------------------------------------


class XEmulator:
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
        # Imported here: the linking flows build on this module.
        from emulators.x.oauth import OAuthGrants

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
        self._app: ASGIApp | None = None

    @property
    def app(self) -> ASGIApp:
        if self._app is None:
            self._app = create_app(self)
        return self._app

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
                hashtags=_hashtag_entities(text),
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
        params = _query_pairs(request.url.query) + [
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


def _hashtag_entities(text: str) -> list[Json]:
    return [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in HASHTAG_RE.finditer(text)
    ]


def fault_response(fault: Fault) -> Response:
    """Injected faults answer with X's own bodies, so the client's parsing is exercised too."""
    if fault.status == 429:
        wait = fault.retry_after if fault.retry_after is not None else DEFAULT_WINDOW_S
        headers = {
            "x-rate-limit-limit": "0",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time() + wait)),
        }
        return problem(429, headers=headers)
    return problem(fault.status)


# -- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fields:
    """What the caller asked for with ``expansions`` and the ``*.fields`` parameters."""

    expansions: frozenset[str] = frozenset()
    tweet: frozenset[str] = frozenset()
    user: frozenset[str] = frozenset()
    media: frozenset[str] = frozenset()


def render_user(user: User, fields: frozenset[str], post_count: int = 0) -> Json:
    out: Json = {"id": user.id, "name": user.name, "username": user.username}
    optional: Json = {
        "created_at": _iso(user.created_at),
        "verified": user.verified,
        "verified_type": "blue" if user.verified else "none",
        "protected": False,
        "description": "",
        "url": "",
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{user.id}/avatar_normal.jpg",
        "public_metrics": {
            "followers_count": user.followers,
            "following_count": 0,
            "tweet_count": post_count,
            "listed_count": 0,
            "like_count": 0,
        },
    }
    out.update({k: v for k, v in optional.items() if k in fields})
    return out


def _entities(post: Post, *, within: int) -> Json:
    """Hashtags and mentions that lie within the first ``within`` characters of the post."""
    found = {
        kind: [e for e in items if e["end"] <= within]
        for kind, items in (("hashtags", post.hashtags), ("mentions", post.mentions))
    }
    return {kind: items for kind, items in found.items() if items}


def render_post(post: Post, fields: frozenset[str], reply_count: int = 0) -> Json:
    out: Json = {"edit_history_tweet_ids": [post.id], "id": post.id, "text": post.wire_text}
    optional: Json = {
        "created_at": _iso(post.created_at),
        "conversation_id": post.conversation_id,
        "lang": post.lang,
        "author_id": post.author_id,
        "possibly_sensitive": False,
        "reply_settings": "everyone",
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": reply_count,
            "like_count": 0,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 0,
        },
        "edit_controls": {
            "edits_remaining": 5,
            "is_edit_eligible": True,
            "editable_until": _iso(post.created_at + timedelta(hours=1)),
        },
    }
    if post.in_reply_to_id:
        optional["in_reply_to_user_id"] = post.in_reply_to_user_id
        optional["referenced_tweets"] = [{"type": "replied_to", "id": post.in_reply_to_id}]
    entities = _entities(post, within=len(post.head))
    link = post.media_link
    if link is not None:
        start = len(post.wire_text) - len(link)
        entities["urls"] = [
            {
                "start": start,
                "end": start + len(link),
                "url": link,
                "expanded_url": f"{_post_url(post)}/{_media_path(item)}/{number}",
                "display_url": f"pic.x.com/{link.rsplit('/', 1)[1]}",
                "media_key": item.media_key,
            }
            for number, item in enumerate(post.media, start=1)
        ]
    if entities:
        optional["entities"] = entities
    if post.media:
        optional["attachments"] = {"media_keys": [m.media_key for m in post.media]}
    optional["display_text_range"] = [min(post.display_start, len(post.head)), len(post.head)]
    if post.is_long:
        note: Json = {"text": post.text}
        note_entities = _entities(post, within=len(post.text))
        if note_entities:
            note["entities"] = note_entities
        optional["note_tweet"] = note
    out.update({k: v for k, v in optional.items() if k in fields})
    return out


def _post_url(post: Post) -> str:
    return f"https://x.com/{post.author_username}/status/{post.id}"


def _media_path(item: MediaItem) -> str:
    return "photo" if item.type == "photo" else "video"


def render_media(item: MediaItem, fields: frozenset[str]) -> Json:
    out: Json = {"media_key": item.media_key, "type": item.type}
    if item.type == "photo" and "url" in fields and item.url:
        out["url"] = item.url
    if item.type != "photo" and "preview_image_url" in fields:
        out["preview_image_url"] = item.url or (
            f"https://pbs.twimg.com/ext_tw_video_thumb/{item.media_key}/img/preview.jpg"
        )
    return out


def _includes(emulator: XEmulator, posts: list[Post], fields: Fields) -> Json:
    users: dict[str, User] = {}
    tweets: dict[str, Post] = {}
    media: dict[str, MediaItem] = {}

    def want_user(user_id: str | None) -> None:
        user = emulator.user_by_id(user_id) if user_id else None
        if user is not None:
            users.setdefault(user.id, user)

    for post in posts:
        if "author_id" in fields.expansions:
            want_user(post.author_id)
        if "in_reply_to_user_id" in fields.expansions:
            want_user(post.in_reply_to_user_id)
        if "entities.mentions.username" in fields.expansions:
            for mention in post.mentions:
                want_user(mention["id"])
        parent = emulator.post(post.in_reply_to_id) if post.in_reply_to_id else None
        if parent is not None and "referenced_tweets.id" in fields.expansions:
            tweets.setdefault(parent.id, parent)
        if parent is not None and "referenced_tweets.id.author_id" in fields.expansions:
            want_user(parent.author_id)
        if "attachments.media_keys" in fields.expansions:
            media.update((m.media_key, m) for m in post.media)
    out: Json = {}
    if media:
        out["media"] = [render_media(m, fields.media) for m in media.values()]
    if users:
        out["users"] = [render_user(u, fields.user) for u in users.values()]
    if tweets:
        out["tweets"] = [render_post(t, fields.tweet) for t in tweets.values()]
    return out


# -- request parsing -----------------------------------------------------------------------------


def encode_token(post_id: str) -> str:
    return TOKEN_PREFIX + _base36(int(post_id))


def decode_token(token: str) -> int | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    try:
        return int(token[len(TOKEN_PREFIX) :], 36)
    except ValueError:
        return None


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or "0"


def _parse_list(
    params: Mapping[str, str], name: str, allowed: frozenset[str], errors: list[Json]
) -> frozenset[str]:
    raw = params.get(name)
    if raw is None:
        return frozenset()
    values = raw.split(",")
    for value in values:
        if value not in allowed:
            errors.append(
                _param_error(
                    name,
                    raw,
                    f"The `{name}` query parameter value [{value}] is not one of "
                    f"[{','.join(sorted(allowed))}]",
                )
            )
    return frozenset(values)


def parse_fields(
    params: Mapping[str, str], expansions: frozenset[str], errors: list[Json]
) -> Fields:
    return Fields(
        expansions=_parse_list(params, "expansions", expansions, errors),
        tweet=_parse_list(params, "tweet.fields", TWEET_FIELDS, errors),
        user=_parse_list(params, "user.fields", USER_FIELDS, errors),
        media=_parse_list(params, "media.fields", MEDIA_FIELDS, errors),
    )


def _check_unknown_params(
    params: Mapping[str, str], allowed: frozenset[str], errors: list[Json]
) -> None:
    for name in params:
        if name not in allowed:
            errors.append(
                _param_error(
                    name,
                    params[name],
                    f"The query parameter [{name}] is not one of [{','.join(sorted(allowed))}]",
                )
            )


@dataclass(frozen=True)
class TimelineQuery:
    since_id: int | None
    until_id: int | None
    below_id: int | None
    max_results: int
    fields: Fields


def parse_timeline(params: Mapping[str, str], errors: list[Json]) -> TimelineQuery:
    _check_unknown_params(params, TIMELINE_PARAMS, errors)
    ids: dict[str, int | None] = {}
    for name in ("since_id", "until_id"):
        raw = params.get(name)
        ids[name] = None
        if raw is not None and ID_RE.match(raw):
            ids[name] = int(raw)
        elif raw is not None:
            errors.append(
                _param_error(
                    name,
                    raw,
                    f"The `{name}` query parameter value [{raw}] does not match {ID_RE.pattern}",
                )
            )
    max_results = 10
    raw_max = params.get("max_results")
    if raw_max is not None:
        if raw_max.isdigit() and 5 <= int(raw_max) <= 100:
            max_results = int(raw_max)
        else:
            errors.append(
                _param_error(
                    "max_results",
                    raw_max,
                    f"The `max_results` query parameter value [{raw_max}] is not between 5 and 100",
                )
            )
    below = None
    token = params.get("pagination_token")
    if token is not None:
        below = decode_token(token)
        if below is None:
            errors.append(
                _param_error(
                    "pagination_token",
                    token,
                    f"The `pagination_token` query parameter value [{token}] is not valid",
                )
            )
    return TimelineQuery(
        ids["since_id"],
        ids["until_id"],
        below,
        max_results,
        parse_fields(params, TWEET_EXPANSIONS, errors),
    )


def page_of(posts: list[Post], query: TimelineQuery) -> tuple[list[Post], str | None]:
    selected = [
        p
        for p in posts
        if (query.since_id is None or int(p.id) > query.since_id)
        and (query.until_id is None or int(p.id) < query.until_id)
        and (query.below_id is None or int(p.id) < query.below_id)
    ]
    page = selected[: query.max_results]
    more = len(selected) > query.max_results
    return page, encode_token(page[-1].id) if more and page else None


# -- HTTP endpoints ------------------------------------------------------------------------------

Handler = Callable[[Request, Auth], Awaitable[Response]]


def _with_headers(response: Response, headers: Mapping[str, str]) -> Response:
    for key, value in headers.items():
        response.headers[key] = value
    return response


def create_app(emulator: XEmulator) -> ASGIApp:
    """The Starlette app for ``emulator``, wrapped with the shared call log and faults."""
    from emulators.x.oauth import OAuthEndpoints

    linking = OAuthEndpoints(emulator)

    def guarded(
        endpoint: str, handler: Handler, *, user_only: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            auth = emulator.authenticate(request)
            if auth is None:
                return problem(401)
            if user_only and auth.kind == "app":
                return _problem_json(
                    {
                        "title": "Unsupported Authentication",
                        "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for "
                        "this endpoint.  Supported authentication types are [OAuth 1.0a User "
                        "Context, OAuth 2.0 User Context].",
                        "type": f"{PROBLEMS}/unsupported-authentication",
                        "status": 403,
                    },
                    403,
                )
            allowed, headers = emulator.limiter.hit(endpoint, auth)
            if not allowed:
                return problem(429, headers=headers)
            return _with_headers(await handler(request, auth), headers)

        return run

    async def user_by_username(request: Request, auth: Auth) -> Response:
        username = request.path_params["username"]
        errors: list[Json] = []
        _check_unknown_params(
            request.query_params, frozenset({"expansions", *FIELD_PARAMS}), errors
        )
        fields = parse_fields(request.query_params, USER_EXPANSIONS, errors)
        if not USERNAME_RE.match(username):
            errors.append(
                _param_error(
                    "username",
                    username,
                    f"The `username` query parameter value [{username}] "
                    f"does not match {USERNAME_RE.pattern}",
                )
            )
        if errors:
            return invalid_request(errors)
        user = emulator.user(username)
        if user is None:
            return _json({"errors": [not_found_error("user", "username", username)]})
        return _json({"data": render_user(user, fields.user, len(emulator.timeline_of(user.id)))})

    async def me(request: Request, auth: Auth) -> Response:
        errors: list[Json] = []
        fields = parse_fields(request.query_params, USER_EXPANSIONS, errors)
        user = emulator.user_by_id(auth.user_id or "")
        if errors or user is None:
            return invalid_request(errors)
        return _json({"data": render_user(user, fields.user, len(emulator.timeline_of(user.id)))})

    def timeline(source: Callable[[str], list[Post]]) -> Handler:
        async def handler(request: Request, auth: Auth) -> Response:
            user_id = request.path_params["id"]
            errors: list[Json] = []
            if not ID_RE.match(user_id):
                errors.append(
                    _param_error(
                        "id",
                        user_id,
                        f"The `id` query parameter value "
                        f"[{user_id}] does not match {ID_RE.pattern}",
                    )
                )
            query = parse_timeline(request.query_params, errors)
            if errors:
                return invalid_request(errors)
            if emulator.user_by_id(user_id) is None:
                return _json({"errors": [not_found_error("user", "id", user_id)]})
            page, next_token = page_of(source(user_id), query)
            if not page:
                return _json({"meta": {"result_count": 0}})
            metrics = "public_metrics" in query.fields.tweet
            body: Json = {
                "data": [
                    render_post(p, query.fields.tweet, emulator.reply_count(p.id) if metrics else 0)
                    for p in page
                ]
            }
            includes = _includes(emulator, page, query.fields)
            if includes:
                body["includes"] = includes
            meta: Json = {
                "result_count": len(page),
                "newest_id": page[0].id,
                "oldest_id": page[-1].id,
            }
            if next_token:
                meta["next_token"] = next_token
            body["meta"] = meta
            return _json(body)

        return handler

    async def create_tweet(request: Request, auth: Auth) -> Response:
        try:
            data = await request.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return invalid_request([{"message": "Request body must be a JSON object"}])
        text, reply = data.get("text"), data.get("reply")
        reply_to = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
        if not isinstance(text, str) or not text.strip():
            return invalid_request(
                [
                    {
                        "parameters": {"text": [str(text)]},
                        "message": "$.text: must be a non-empty string",
                    }
                ]
            )
        if reply is not None and not (isinstance(reply_to, str) and ID_RE.match(reply_to)):
            return invalid_request(
                [
                    {
                        "parameters": {"$.reply": [str(reply)]},
                        "message": "$.reply.in_reply_to_tweet_id: is missing but it is required",
                    }
                ]
            )
        if _weighted_length(text) > POST_LIMIT:
            return problem(
                403,
                "Your Tweet text is too long. For more information on how X "
                "determines text length see https://github.com/twitter/twitter-text.",
            )
        author = emulator.user_by_id(auth.user_id or "")
        assert author is not None
        try:
            post = emulator.add_post(
                PostSpec(author=author.username, text=text, in_reply_to=reply_to),
                reject_duplicate=True,
            )
        except DuplicatePost:
            return problem(403, "You are not allowed to create a Tweet with duplicate content.")
        except UnknownPost:
            return invalid_request(
                [
                    {
                        "parameters": {"reply.in_reply_to_tweet_id": [str(reply_to)]},
                        "message": "Your Tweet cannot be sent because the Tweet you are replying "
                        "to has been deleted or is not visible to you.",
                    }
                ]
            )
        return _json(
            {"data": {"edit_history_tweet_ids": [post.id], "id": post.id, "text": post.text}}, 201
        )

    async def delete_tweet(request: Request, auth: Auth) -> Response:
        post_id = request.path_params["id"]
        post = emulator.post(post_id) if ID_RE.match(post_id) else None
        if post is None:
            return _json({"errors": [not_found_error("tweet", "id", post_id)]}, 404)
        if post.author_id != auth.user_id:
            return problem(403, "You are not authorized to delete this Tweet.")
        emulator.delete_post(post_id)
        return _json({"data": {"deleted": True}})

    routes = [
        Route(
            "/2/users/by/username/{username}",
            guarded("by_username", user_by_username),
            methods=["GET"],
        ),
        Route("/2/users/me", guarded("me", me, user_only=True), methods=["GET"]),
        Route(
            "/2/users/{id}/mentions",
            guarded("mentions", timeline(emulator.mentions_of)),
            methods=["GET"],
        ),
        Route(
            "/2/users/{id}/tweets",
            guarded("user_tweets", timeline(emulator.timeline_of)),
            methods=["GET"],
        ),
        Route("/2/tweets", guarded("post", create_tweet, user_only=True), methods=["POST"]),
        Route(
            "/2/tweets/{id}", guarded("delete", delete_tweet, user_only=True), methods=["DELETE"]
        ),
        *linking.routes(),
        *control_routes(emulator),
        *linking.control_routes(),
        *emulator.core.control_routes(),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        if status == 404:
            return _json(
                {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, 404
            )
        return problem(status)

    app = Starlette(
        routes=routes, exception_handlers={HTTPException: http_error, Exception: http_error}
    )
    return emulator.core.wrap(app)


# -- control API ---------------------------------------------------------------------------------

_POST_KEYS = frozenset(
    {
        "author",
        "text",
        "in_reply_to",
        "lang",
        "created_at",
        "author_name",
        "verified",
        "followers",
        "media",
    }
)


def _opt(data: Json, key: str, kind: type, what: str) -> Any:
    value = data.get(key)
    if value is not None and (
        not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    ):
        raise ValueError(f"{key} must be {what}")
    return value


def post_spec_from(data: Json) -> PostSpec:
    """Check a control-API post fully before anything changes; errors name the bad field."""
    unknown = sorted(set(data) - _POST_KEYS)
    if unknown:
        raise ValueError(f"unknown field(s) {unknown}; allowed: {sorted(_POST_KEYS)}")
    author = _opt(data, "author", str, "a username")
    if not author or not USERNAME_RE.match(author.lstrip("@")):
        raise ValueError(f"author must be a username matching {USERNAME_RE.pattern}")
    text = _opt(data, "text", str, "a string") or ""
    media = _media_specs(data.get("media"))
    if not text.strip() and not media:
        raise ValueError("text must be a non-empty string (it may be left out when media is given)")
    length = _weighted_length(text)
    if length > LONG_POST_LIMIT:
        raise ValueError(
            f"text is {length} characters long by X's count; a post holds at most "
            f"{LONG_POST_LIMIT} (long posts), 280 without X Premium"
        )
    in_reply_to = data.get("in_reply_to")
    if in_reply_to is not None:
        in_reply_to = str(in_reply_to) if not isinstance(in_reply_to, bool) else ""
        if not ID_RE.match(in_reply_to):
            raise ValueError("in_reply_to must be a post id (digits, as a string)")
    lang = _opt(data, "lang", str, "a language code such as 'id' or 'en'")
    created_at = None
    raw_created = _opt(data, "created_at", str, "an ISO 8601 timestamp")
    if raw_created:
        try:
            created_at = datetime.fromisoformat(raw_created)
        except ValueError:
            raise ValueError(f"created_at {raw_created!r} is not an ISO 8601 timestamp") from None
        created_at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    followers = _opt(data, "followers", int, "an integer")
    if followers is not None and followers < 0:
        raise ValueError("followers must be >= 0")
    return PostSpec(
        author=author.lstrip("@"),
        text=text,
        in_reply_to=in_reply_to,
        lang=lang,
        created_at=created_at,
        author_name=_opt(data, "author_name", str, "a string"),
        verified=_opt(data, "verified", bool, "true or false"),
        followers=followers,
        media=media,
    )


def _media_specs(raw: object) -> tuple[tuple[str, str | None], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError("media must be a list of {type, url?}")
    specs = []
    for item in raw:
        kind = item.get("type") if isinstance(item, dict) else None
        url = item.get("url") if isinstance(item, dict) else None
        if kind not in MEDIA_KIND_PREFIX or not (url is None or isinstance(url, str)):
            raise ValueError(f"media items need type in {sorted(MEDIA_KIND_PREFIX)} and url?")
        specs.append((str(kind), url))
    kinds = [kind for kind, _ in specs]
    if len(kinds) > MAX_PHOTOS or (len(kinds) > 1 and set(kinds) != {"photo"}):
        raise ValueError(
            f"media holds up to {MAX_PHOTOS} photos, or one video or animated_gif, as on X"
        )
    return tuple(specs)


def _describe(emulator: XEmulator, post: Post) -> Json:
    author = emulator.user_by_id(post.author_id)
    return {
        "id": post.id,
        "text": post.text,
        "author": author.username if author else None,
        "in_reply_to": post.in_reply_to_id,
        "conversation_id": post.conversation_id,
        "created_at": _iso(post.created_at),
        "lang": post.lang,
    }


def control_routes(emulator: XEmulator) -> list[Route]:
    async def add_post(data: Json) -> Response:
        try:
            spec = post_spec_from(data)
            post = emulator.add_post(spec)
        except ValueError as exc:
            return bad_request(str(exc))
        except UnknownPost as exc:
            return bad_request(f"in_reply_to: no post with id {exc}")
        return JSONResponse({"id": post.id, "conversation_id": post.conversation_id})

    async def list_posts(request: Request) -> Response:
        author = request.query_params.get("author", "").lstrip("@")
        if not author:
            return bad_request("author query parameter is required")
        return JSONResponse({"posts": [_describe(emulator, p) for p in emulator.posts_by(author)]})

    async def add_user(data: Json) -> Response:
        try:
            unknown = sorted(set(data) - {"username", "name", "verified", "followers"})
            if unknown:
                raise ValueError(f"unknown field(s) {unknown}")
            username = _opt(data, "username", str, "a username")
            followers = _opt(data, "followers", int, "an integer")
            if followers is not None and followers < 0:
                raise ValueError("followers must be >= 0")
            user = emulator.add_user(
                (username or "").lstrip("@"),
                name=_opt(data, "name", str, "a string"),
                verified=_opt(data, "verified", bool, "true or false"),
                followers=followers,
            )
        except ValueError as exc:
            return bad_request(str(exc))
        return JSONResponse(
            {
                "id": user.id,
                "username": user.username,
                "name": user.name,
                "verified": user.verified,
                "followers": user.followers,
            }
        )

    async def limits(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(emulator.limiter.snapshot())
        return await json_endpoint(set_limits)(request)

    async def set_limits(data: Json) -> Response:
        if "enabled" in data:
            if not isinstance(data["enabled"], bool) or len(data) > 1:
                return bad_request("{enabled} must be the only field, true or false")
            emulator.limiter.set_enabled(data["enabled"])
            return JSONResponse(emulator.limiter.snapshot())
        endpoint, limit = data.get("endpoint"), data.get("limit")
        window_s, auth = data.get("window_s"), data.get("auth")
        if endpoint not in DEFAULT_LIMITS:
            return bad_request(f"endpoint must be one of {sorted(DEFAULT_LIMITS)}")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            return bad_request("limit must be an integer >= 0")
        if window_s is not None and (not isinstance(window_s, int | float) or window_s <= 0):
            return bad_request("window_s must be a number > 0")
        if auth not in (None, "app", "user"):
            return bad_request("auth must be 'app' or 'user' (default: both)")
        emulator.limiter.configure(
            str(endpoint),
            limit=limit,
            window_s=None if window_s is None else float(window_s),
            auth=auth,
        )
        return JSONResponse(emulator.limiter.snapshot())

    return [
        Route("/_emulator/posts", json_endpoint(add_post), methods=["POST"]),
        Route("/_emulator/posts", list_posts, methods=["GET"]),
        Route("/_emulator/users", json_endpoint(add_user), methods=["POST"]),
        Route("/_emulator/limits", limits, methods=["GET", "POST"]),
    ]
