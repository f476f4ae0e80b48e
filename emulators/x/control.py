"""The X emulator's control API: what the public posts (``POST /_emulator/posts``, checked in
full before anything changes), a person's posts as they stand (``GET /_emulator/posts``), people
added or changed (``/_emulator/users``) and the rate limits read and set (``/_emulator/limits``).
The linking flows' token controls are in :mod:`emulators.x.oauth`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulators.core import bad_request, json_endpoint
from emulators.x.limits import DEFAULT_LIMITS
from emulators.x.model import (
    ID_RE,
    LONG_POST_LIMIT,
    MAX_PHOTOS,
    MEDIA_KIND_PREFIX,
    USERNAME_RE,
    Json,
    Post,
    PostSpec,
    UnknownPost,
    iso,
    weighted_length,
)
from emulators.x.state import XState

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
    length = weighted_length(text)
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


def _describe(emulator: XState, post: Post) -> Json:
    author = emulator.user_by_id(post.author_id)
    return {
        "id": post.id,
        "text": post.text,
        "author": author.username if author else None,
        "in_reply_to": post.in_reply_to_id,
        "conversation_id": post.conversation_id,
        "created_at": iso(post.created_at),
        "lang": post.lang,
    }


def control_routes(emulator: XState) -> list[Route]:
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
