"""The X emulator's data: users, posts and their media as X keeps them, who is calling, and
the text rules that shape a post (its language, the head of a long post, its ``t.co`` link, its
mentions and hashtags).

Nothing here knows HTTP: the state (:mod:`emulators.x.state`) keeps these records and the
rendering (:mod:`emulators.x.render`) turns them into X's JSON.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from emulators.x.graphemes import grapheme_boundary, units_to_index


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


API_ORIGIN = "https://api.twitter.com"
TWITTER_EPOCH_MS = 1_288_834_974_657
ID_FLOOR = 1_900_000_000_000_000_000
MENTIONS_REACH = 800
USER_TWEETS_REACH = 3200
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
MEDIA_KIND_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}

_ID_WORDS = word_set(
    "yang dan di ke dari tidak ini itu saya kami kita untuk dengan ada apa bagaimana mohon tolong "
    "terima kasih sudah belum jalan rusak lapor keluhan pak bu kenapa kapan bisa sampai masih "
    "juga atau akan dalam pada"
)
_EN_WORDS = word_set(
    "the and is are to of in for please thanks thank you what why when how this that my your "
    "not with on it we can be have has was will"
)

Json = dict[str, Any]


def iso(moment: datetime) -> str:
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


def weighted_length(text: str) -> int:
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


def hashtag_entities(text: str) -> list[Json]:
    return [
        {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in HASHTAG_RE.finditer(text)
    ]
