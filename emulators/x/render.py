"""How the X emulator answers: X's JSON and problem bodies and the faults shaped like them,
users, posts and media rendered with the fields a caller asked for, and the query parameters
(``expansions``, ``*.fields``, the timeline's ids, page size and pagination token) checked as X
checks them, with X's error wording.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus

from starlette.responses import JSONResponse, Response

from emulators.core import Fault
from emulators.x.limits import DEFAULT_WINDOW_S
from emulators.x.model import ID_RE, Json, MediaItem, Post, User, iso, word_set

TOKEN_PREFIX = "7140dibdnow9"
PROBLEMS = "https://api.twitter.com/2/problems"

TWEET_FIELDS = word_set(
    "attachments author_id card_uri context_annotations conversation_id created_at "
    "display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id "
    "lang non_public_metrics "
    "note_tweet organic_metrics possibly_sensitive promoted_metrics public_metrics "
    "referenced_tweets reply_settings scopes source text withheld"
)
USER_FIELDS = word_set(
    "affiliation connection_status created_at description entities id location "
    "most_recent_tweet_id name pinned_tweet_id profile_banner_url profile_image_url protected "
    "public_metrics receives_your_dm subscription_type url username verified verified_type "
    "withheld"
)
MEDIA_FIELDS = word_set(
    "alt_text duration_ms height media_key non_public_metrics organic_metrics preview_image_url "
    "promoted_metrics public_metrics type url variants width"
)
TWEET_EXPANSIONS = word_set(
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


def json_response(
    body: Json, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return JSONResponse(
        body,
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json; charset=utf-8",
    )


def problem_json(body: Json, status: int, headers: Mapping[str, str] | None = None) -> Response:
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
    return problem_json(body, status, headers)


def invalid_request(errors: list[Json], headers: Mapping[str, str] | None = None) -> Response:
    body = {
        "errors": errors,
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": f"{PROBLEMS}/invalid-request",
    }
    return problem_json(body, 400, headers)


def param_error(name: str, value: str, message: str) -> Json:
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
        "created_at": iso(user.created_at),
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
        "created_at": iso(post.created_at),
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
            "editable_until": iso(post.created_at + timedelta(hours=1)),
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
                param_error(
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


def check_unknown_params(
    params: Mapping[str, str], allowed: frozenset[str], errors: list[Json]
) -> None:
    for name in params:
        if name not in allowed:
            errors.append(
                param_error(
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
    check_unknown_params(params, TIMELINE_PARAMS, errors)
    ids: dict[str, int | None] = {}
    for name in ("since_id", "until_id"):
        raw = params.get(name)
        ids[name] = None
        if raw is not None and ID_RE.match(raw):
            ids[name] = int(raw)
        elif raw is not None:
            errors.append(
                param_error(
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
                param_error(
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
                param_error(
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
