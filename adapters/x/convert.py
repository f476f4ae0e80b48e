"""X API v2 JSON to domain mentions.

Pure functions over the parsed body, so they run on recorded fixtures and emulator output alike.
X leaves out whatever was not asked for (``author_id``, ``created_at``, includes), so every
field but ``id`` and ``text`` is optional here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bridge.domain.models import Author, Media, Mention

NETWORK = "x"
# X's media keys start with the media kind; used when ``includes.media`` was not requested.
_KIND_BY_KEY_PREFIX = {"3": "photo", "7": "video", "16": "animated_gif"}


def mentions_from_response(body: dict[str, Any], *, account_key: str) -> list[Mention]:
    """Every post of a mentions-timeline page, in X's order (newest first)."""
    includes = body.get("includes") or {}
    return [
        mention_from_tweet(tweet, includes, account_key=account_key)
        for tweet in body.get("data") or []
    ]


def mention_from_tweet(
    tweet: dict[str, Any], includes: dict[str, Any], *, account_key: str
) -> Mention:
    post_id = _required_str(tweet, "id")
    author = _author(tweet.get("author_id"), includes)
    url = (
        f"https://x.com/{author.handle}/status/{post_id}"
        if author
        else f"https://x.com/i/web/status/{post_id}"
    )
    return Mention(
        network=NETWORK,
        id=post_id,
        account=account_key,
        text=post_text(tweet),
        author=author,
        lang=tweet.get("lang"),
        created_at=_timestamp(tweet.get("created_at")),
        url=url,
        conversation_id=str(tweet.get("conversation_id") or post_id),
        in_reply_to_id=_replied_to(tweet),
        media=_media(tweet, includes),
    )


def post_text(tweet: dict[str, Any]) -> str:
    """The post's own text: all of a long post (``note_tweet``, since ``text`` holds only its
    start), without the ``t.co`` link X appends for attachments (``display_text_range`` ends
    before it; the attachments are the mention's media). When X displays nothing of ``text``
    (a reply of only photos: its handles and the link), the post has no text of its own. Any
    other link past the display range (a quoted post's) stays: staff may need it."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
        return str(note["text"])
    text = tweet.get("text")
    if not isinstance(text, str):
        raise ValueError(f"X post {tweet.get('id')} has no text")
    shown = tweet.get("display_text_range")
    if not (
        isinstance(shown, list)
        and len(shown) == 2
        and all(type(i) is int for i in shown)
        and 0 <= shown[0] <= shown[1] <= len(text)
    ):
        return text
    urls = (tweet.get("entities") or {}).get("urls") or []
    attachment_links = {u.get("url") for u in urls if isinstance(u, dict) and u.get("media_key")}
    if not set(text[shown[1] :].split()) <= attachment_links:
        return text
    return text[: shown[1]] if shown[0] < shown[1] else ""


def _required_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        # An int id would already have lost precision in some JSON parser upstream.
        raise ValueError(f"X object without a string {key!r}: {obj!r:.200}")
    return value


def _author(author_id: object, includes: dict[str, Any]) -> Author | None:
    if not author_id:
        return None
    for user in includes.get("users") or []:
        if user.get("id") == author_id:
            metrics = user.get("public_metrics") or {}
            followers = metrics.get("followers_count")
            return Author(
                id=str(author_id),
                handle=str(user.get("username", "")),
                name=str(user.get("name", "")),
                verified=bool(user.get("verified", False)),
                followers=int(followers) if followers is not None else None,
            )
    return None


def _timestamp(raw: object) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    moment = datetime.fromisoformat(raw)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _replied_to(tweet: dict[str, Any]) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if ref.get("type") == "replied_to" and ref.get("id"):
            return str(ref["id"])
    return None


def _media(tweet: dict[str, Any], includes: dict[str, Any]) -> tuple[Media, ...]:
    keys = (tweet.get("attachments") or {}).get("media_keys") or []
    by_key = {m.get("media_key"): m for m in includes.get("media") or []}
    out = []
    for key in keys:
        item = by_key.get(key)
        if item is None:
            kind = _KIND_BY_KEY_PREFIX.get(str(key).split("_", 1)[0], "unknown")
            out.append(Media(kind=kind))
        else:
            url = item.get("url") or item.get("preview_image_url")
            out.append(Media(kind=str(item.get("type", "unknown")), url=url))
    return tuple(out)
