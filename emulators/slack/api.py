"""The Slack Web API the emulator serves to the real ``slack_sdk``/``slack_bolt`` clients
(``base_url=<url>/api/``): ``auth.test``, ``chat.*``, ``conversations.*``, ``users.info``,
``views.*`` and ``apps.connections.open``, with Slack's shapes, error codes, status codes and
rate limits.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from collections.abc import Callable
from functools import cached_property
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulators.clock import Rule, whole_seconds
from emulators.core import MAX_BODY_BYTES
from emulators.slack.model import (
    MAX_TEXT,
    METHOD_RATES,
    POST_PER_CHANNEL,
    Args,
    Ephemeral,
    JSONDict,
    SlackError,
    StoredMessage,
    exact_ts,
    missing_argument,
)
from emulators.slack.state import SlackState


def _cursor(ts: str) -> str:
    # Slack's cursors are base64 of "next_ts:<ts without the dot>"; clients treat them as opaque.
    return base64.b64encode(f"next_ts:{ts.replace('.', '')}".encode()).decode()


def _cursor_ts(cursor: str) -> str:
    try:
        raw = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    prefix, _, digits = raw.partition(":")
    if prefix != "next_ts" or not digits.isdigit() or len(digits) <= 6:
        raise SlackError("invalid_cursor")
    return f"{digits[:-6]}.{digits[-6:]}"


class SlackWebApi(SlackState):
    """The Web API's methods, each answering from the workspace's state under its lock."""

    @cached_property
    def _methods(self) -> dict[str, Callable[[Args], JSONDict]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
        }

    # -- the Web API -----------------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        method = request.path_params["method"]
        try:
            values, token = await _read_call(request)
            if method == "apps.connections.open":
                return self._connections_open(request, token)
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method", extra={"req_method": method})
            self._authenticate(token)
            self._rate_limit(method)
            with self._lock:
                body = handler(Args(values))
        except SlackError as exc:
            return exc.response()
        # Slack says in every answer which scopes the token has.
        return JSONResponse({"ok": True, **body}, headers={"x-oauth-scopes": ",".join(self.scopes)})

    def _connections_open(self, request: Request, token: str | None) -> Response:
        """Only the app-level token opens a Socket Mode connection; a bot token is refused."""
        if not token:
            raise SlackError("not_authed")
        if token.startswith("xoxb-"):
            raise SlackError("not_allowed_token_type")
        if not hmac.compare_digest(token, self.app_token):
            raise SlackError("invalid_auth")
        self._rate_limit("apps.connections.open")
        ws_base = (
            str(request.base_url).replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        )
        return JSONResponse({"ok": True, "url": self.socket.open_url(ws_base)})

    def _authenticate(self, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if not hmac.compare_digest(token, self.bot_token):
            raise SlackError("invalid_auth")

    def _channel(self, args: Args, name: str = "channel") -> str:
        """The channel id the bot may use; Slack also accepts a channel's name."""
        channel = self._any_channel(args, name)
        if channel not in self.channels:
            raise SlackError("not_in_channel")
        return channel

    def _any_channel(self, args: Args, name: str = "channel") -> str:
        """A channel the bot can see, member or not (public channels are visible to all)."""
        value = args.required(name, "channel_not_found")
        for known in (self.channels, self.non_member_channels):
            if value in known:
                channel = value
                break
            by_name = [c for c, n in known.items() if n == value.lstrip("#")]
            if by_name:
                channel = by_name[0]
                break
        else:
            raise SlackError("channel_not_found")
        return channel

    def _message(self, channel: str, ts: str | None, error: str) -> StoredMessage:
        message = self._messages[channel].get(ts or "")
        if message is None:
            raise SlackError(error)
        return message

    @staticmethod
    def _metadata_arg(args: Args) -> JSONDict | None:
        metadata = args.structured("metadata", "invalid_metadata_format")
        if metadata is None:
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload", {}), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return {
            "event_type": metadata["event_type"],
            "event_payload": metadata.get("event_payload", {}),
        }

    def _rate_limit(self, method: str, channel: str | None = None) -> None:
        """One call of ``method`` (to ``channel``, for posting) under Slack's limits; refusing
        counts nothing. ``Retry-After`` is in the emulator's clock."""
        if not self.rate_limits:
            return
        if channel is not None:
            rules: list[tuple[str, Rule]] = [(f"{method}:{channel}", POST_PER_CHANNEL)]
        elif method in METHOD_RATES:
            rules = [(method, METHOD_RATES[method])]
        else:
            return
        wait = self.core.limits.take(rules)
        if wait > 0:
            retry_after = str(whole_seconds(wait))
            raise SlackError("ratelimited", status=429, headers={"Retry-After": retry_after})

    def _auth_test(self, args: Args) -> JSONDict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: Args) -> JSONDict:
        channel = self._channel(args)
        self._rate_limit("chat.postMessage", channel)
        text = args.text("text") or ""
        blocks = self._blocks_arg(args)
        if not text and not blocks and not args.has("attachments"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        metadata = self._metadata_arg(args)
        root = self._thread_root(channel, args.text("thread_ts"))
        broadcast = root is not None and args.flag("reply_broadcast", False)
        message = StoredMessage(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            user=self.bot_user_id,
            blocks=blocks,
            bot_id=self.bot_id,
            metadata=metadata,
            subtype="thread_broadcast" if broadcast else None,
            mrkdwn=args.flag("mrkdwn", True),
            link_names=args.flag("link_names", False) or args.text("parse") == "full",
        )
        self._store(message, root)
        return {
            "channel": channel,
            "ts": message.ts,
            "message": self._public(message, with_metadata=True),
        }

    def _own_message(self, args: Args, refusal: str) -> StoredMessage:
        """The bot's own message named by ``channel`` and ``ts``: the only kind it may change."""
        channel = self._channel(args)
        message = self._message(channel, args.text("ts"), "message_not_found")
        if message.bot_id != self.bot_id:
            raise SlackError(refusal)
        return message

    def _chat_update(self, args: Args) -> JSONDict:
        message = self._own_message(args, "cant_update_message")
        text = args.text("text")
        blocks = self._blocks_arg(args)
        if text is None and blocks is None and not args.has("attachments"):
            raise SlackError("no_text")
        if text is not None and len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        metadata = self._metadata_arg(args)
        # Slack keeps whatever the update leaves out: text, blocks (an empty list clears them).
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks or None
        if metadata is not None:
            message.metadata = metadata
        message.edited = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._public(message, with_metadata=True),
        }

    def _chat_delete(self, args: Args) -> JSONDict:
        message = self._own_message(args, "cant_delete_message")
        self._delete(message)
        return {"channel": message.channel, "ts": message.ts}

    def _chat_post_ephemeral(self, args: Args) -> JSONDict:
        channel = self._channel(args)
        user = args.required("user", "user_not_in_channel")
        if user not in self.users:
            raise SlackError("user_not_in_channel")
        text = args.text("text") or ""
        blocks = self._blocks_arg(args)
        if not text and not blocks:
            raise SlackError("no_text")
        ts = self._next_ts()
        self._ephemerals.append(
            Ephemeral(channel, user, ts, text, blocks, thread_ts=args.text("thread_ts"))
        )
        return {"message_ts": ts}

    def _chat_get_permalink(self, args: Args) -> JSONDict:
        channel = self._channel(args)
        message = self._message(channel, args.text("message_ts"), "message_not_found")
        archive = f"https://{self.team_domain}.slack.com/archives/{channel}"
        link = f"{archive}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _page(
        self, messages: list[StoredMessage], args: Args, *, default_limit: int, newest_first: bool
    ) -> JSONDict:
        limit = args.number("limit", default_limit, "invalid_limit")
        limit = default_limit if limit <= 0 else min(limit, 999)
        cursor = args.text("cursor")
        if cursor:
            bound = exact_ts(_cursor_ts(cursor), "invalid_cursor")
            # The cursor names the first message of the next page, in either direction.
            messages = [
                m
                for m in messages
                if (exact_ts(m.ts) <= bound if newest_first else exact_ts(m.ts) >= bound)
            ]
        page, rest = messages[:limit], messages[limit:]
        with_metadata = args.flag("include_all_metadata", False)
        next_cursor = _cursor(rest[0].ts) if rest else ""
        return {
            "messages": [self._public(m, with_metadata=with_metadata) for m in page],
            "has_more": bool(rest),
            "response_metadata": {"next_cursor": next_cursor},
        }

    @staticmethod
    def _time_window(args: Args) -> Callable[[StoredMessage], bool]:
        """``oldest``/``latest``/``inclusive``: whether a message is in the time range asked for
        (both ends excluded unless ``inclusive``)."""
        inclusive = args.flag("inclusive", False)
        oldest = exact_ts(args.text("oldest") or "0", "invalid_ts_oldest")
        latest = exact_ts(args.text("latest") or "Infinity", "invalid_ts_latest")

        def in_range(message: StoredMessage) -> bool:
            ts = exact_ts(message.ts)
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        return in_range

    def _conversations_history(self, args: Args) -> JSONDict:
        channel = self._channel(args)
        in_range = self._time_window(args)
        found = [m for m in self._messages[channel].values() if m.in_history and in_range(m)]
        found.reverse()
        body = self._page(found, args, default_limit=100, newest_first=True)
        return {**body, "pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0}

    def _conversations_replies(self, args: Args) -> JSONDict:
        channel = self._channel(args)
        start = self._message(channel, args.required("ts"), "thread_not_found")
        root = (
            self._messages[channel][start.thread_ts]
            if start.is_reply and start.thread_ts
            else start
        )
        in_range = self._time_window(args)
        # "The messages array contains up to 1000 messages between the oldest and latest
        # timestamps. The earliest messages in the time range are returned first."
        thread = [root, *(self._messages[channel][ts] for ts in root.replies)]
        found = [m for m in thread if in_range(m)]
        return self._page(found, args, default_limit=1000, newest_first=False)

    def _conversations_info(self, args: Args) -> JSONDict:
        channel = self._any_channel(args)
        member = channel in self.channels
        if not member and channel.startswith("G"):
            raise SlackError("channel_not_found")  # a private channel is hidden from outsiders
        name = self.channels[channel] if member else self.non_member_channels[channel]
        return {
            "channel": {
                "id": channel,
                "name": name,
                "name_normalized": name,
                "is_channel": channel.startswith("C"),
                "is_group": channel.startswith("G"),
                "is_im": channel.startswith("D"),
                "is_private": channel.startswith("G"),
                "is_archived": False,
                "is_general": False,
                "is_member": member,
                "context_team_id": self.team_id,
                "created": 1_700_000_000,
                "creator": self.bot_user_id,
            }
        }

    def _users_info(self, args: Args) -> JSONDict:
        user = args.required("user", "user_not_found")
        if user != self.bot_user_id and user not in self.users:
            raise SlackError("user_not_found")
        is_bot = user == self.bot_user_id
        name = self.bot_name if is_bot else self.users[user]
        profile = {"real_name": name, "display_name": name, "team": self.team_id}
        if is_bot:
            profile["bot_id"] = self.bot_id
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": name,
                "real_name": name,
                "deleted": False,
                "is_bot": is_bot,
                "is_app_user": False,
                "tz": "Asia/Jakarta",
                "profile": profile,
            }
        }

    # -- modals ----------------------------------------------------------------------------------

    def _redeem_trigger(self, args: Args) -> str:
        trigger_id = args.required("trigger_id")
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > self.trigger_ttl_s:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def _views_open(self, args: Args) -> JSONDict:
        user = self._redeem_trigger(args)
        spec = self._view_arg(args)
        self._close_views(user)
        return {"view": self._push_view(user, spec)}

    def _views_push(self, args: Args) -> JSONDict:
        user = self._redeem_trigger(args)
        spec = self._view_arg(args)
        if not self._stacks.get(user):
            raise SlackError("not_found")
        return {"view": self._push_view(user, spec)}

    def _views_update(self, args: Args) -> JSONDict:
        view_id, external_id = args.text("view_id"), args.text("external_id")
        if view_id is None and external_id is None:
            raise missing_argument("view_id or external_id")
        matches = [
            v
            for v in self._views.values()
            if v.view["id"] == view_id or (external_id and v.view["external_id"] == external_id)
        ]
        if not matches:
            raise SlackError("not_found")
        spec = self._view_arg(args)
        return {"view": self._replace_view(matches[0], spec, args.text("hash"))}


async def _read_call(request: Request) -> tuple[JSONDict, str | None]:
    """A Web API call's arguments and token, from the query string, form or JSON body."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise SlackError("request_too_large", status=413)
    values: JSONDict = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if "application/json" in content_type and body:
        try:
            data = json.loads(body)
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(data, dict):
            raise SlackError("json_not_object")
        # Slack ignores a token inside a JSON body: JSON calls must send it as a Bearer header.
        data.pop("token", None)
        values.update(data)
    elif body:
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    token = values.pop("token", None)
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return values, token if isinstance(token, str) else None
