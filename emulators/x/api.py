"""The X API v2 endpoints the emulator serves to the real tweepy client: a user by username and
``/2/users/me``, the mentions and posts timelines, creating and deleting a post. Every call is
authenticated, counted against X's rate limits and answered with X's shapes and errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.x.model import (
    ID_RE,
    POST_LIMIT,
    USERNAME_RE,
    Auth,
    DuplicatePost,
    Json,
    MediaItem,
    Post,
    PostSpec,
    UnknownPost,
    User,
    weighted_length,
)
from emulators.x.render import (
    FIELD_PARAMS,
    PROBLEMS,
    USER_EXPANSIONS,
    Fields,
    check_unknown_params,
    invalid_request,
    json_response,
    not_found_error,
    page_of,
    param_error,
    parse_fields,
    parse_timeline,
    problem,
    problem_json,
    render_media,
    render_post,
    render_user,
)
from emulators.x.state import XState

Handler = Callable[[Request, Auth], Awaitable[Response]]


def _with_headers(response: Response, headers: Mapping[str, str]) -> Response:
    for key, value in headers.items():
        response.headers[key] = value
    return response


def _includes(emulator: XState, posts: list[Post], fields: Fields) -> Json:
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


def api_routes(emulator: XState) -> list[Route]:
    """The API v2 routes for ``emulator``: each call authenticated and rate-limited first."""

    def guarded(
        endpoint: str, handler: Handler, *, user_only: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            auth = emulator.authenticate(request)
            if auth is None:
                return problem(401)
            if user_only and auth.kind == "app":
                return problem_json(
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
        check_unknown_params(request.query_params, frozenset({"expansions", *FIELD_PARAMS}), errors)
        fields = parse_fields(request.query_params, USER_EXPANSIONS, errors)
        if not USERNAME_RE.match(username):
            errors.append(
                param_error(
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
            return json_response({"errors": [not_found_error("user", "username", username)]})
        return json_response(
            {"data": render_user(user, fields.user, len(emulator.timeline_of(user.id)))}
        )

    async def me(request: Request, auth: Auth) -> Response:
        errors: list[Json] = []
        fields = parse_fields(request.query_params, USER_EXPANSIONS, errors)
        user = emulator.user_by_id(auth.user_id or "")
        if errors or user is None:
            return invalid_request(errors)
        return json_response(
            {"data": render_user(user, fields.user, len(emulator.timeline_of(user.id)))}
        )

    def timeline(source: Callable[[str], list[Post]]) -> Handler:
        async def handler(request: Request, auth: Auth) -> Response:
            user_id = request.path_params["id"]
            errors: list[Json] = []
            if not ID_RE.match(user_id):
                errors.append(
                    param_error(
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
                return json_response({"errors": [not_found_error("user", "id", user_id)]})
            page, next_token = page_of(source(user_id), query)
            if not page:
                return json_response({"meta": {"result_count": 0}})
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
            return json_response(body)

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
        if weighted_length(text) > POST_LIMIT:
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
        return json_response(
            {"data": {"edit_history_tweet_ids": [post.id], "id": post.id, "text": post.text}}, 201
        )

    async def delete_tweet(request: Request, auth: Auth) -> Response:
        post_id = request.path_params["id"]
        post = emulator.post(post_id) if ID_RE.match(post_id) else None
        if post is None:
            return json_response({"errors": [not_found_error("tweet", "id", post_id)]}, 404)
        if post.author_id != auth.user_id:
            return problem(403, "You are not authorized to delete this Tweet.")
        emulator.delete_post(post_id)
        return json_response({"data": {"deleted": True}})

    return [
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
    ]
