"""A local Slack: the Web API subset Reachable uses, and a control API that plays the humans.

The real ``slack_sdk``/``slack_bolt`` clients talk to it over HTTP (``base_url=<url>/api/``), so
the shapes, error codes and status codes below follow Slack's, not what would be convenient.
The control API (``/_emulator/*``) does what people do in a Slack client: click a button, type a
message or a slash command, submit a modal. Each of those reaches the bridge as a request signed
exactly as Slack signs it, so the bridge's signature check is exercised too. In Socket Mode
(``socket_mode=True`` or ``POST /_emulator/config {"socket_mode": true}``) the same actions travel
as envelopes over the websocket the bridge opened (see :mod:`emulators.slack.socket`).

State lives in one :class:`SlackEmulator` guarded by a lock: uvicorn serves it from its own
thread while tests read it from theirs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from emulators.clock import Bucket, Rule, per_minute, whole_seconds
from emulators.core import (
    CONTROL_PREFIX,
    MAX_BODY_BYTES,
    EmulatorCore,
    Fault,
    bad_request,
    json_endpoint,
    read_json_object,
)
from emulators.slack.blocks import (
    MAX_MESSAGE_BLOCKS_TEXT,
    blocks_text_length,
    validate_blocks,
    validate_view,
)
from emulators.slack.render import iter_buttons, normalise_blocks, render, state_values
from emulators.slack.socket import SOCKET_PATH, SocketHub, SocketUnavailable

MAX_TEXT = 40_000
# What the Reachable app asks for when installed (see README, connecting Slack).
BOT_SCOPES = (
    "chat:write",
    "channels:read",
    "channels:history",
    "groups:read",
    "groups:history",
    "users:read",
    "commands",
)
TRIGGER_TTL_S = 3.0  # Slack lets an app use a trigger_id for 3 seconds, once
RESPONSE_URL_TTL_S = 30 * 60  # and a response_url for 30 minutes, at most 5 times
RESPONSE_URL_USES = 5
MAX_VIEW_STACK = 3
STALE_AGE_S = 600  # "replay": older than the 300 s window every Slack app must enforce
OUTGOING_TIMEOUT_S = 10.0
BOT_PROFILE_UPDATED = 1_700_000_000  # when the app's bot profile last changed (Unix seconds)
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

# Slack's rate limits (docs.slack.dev, "Rate limits" and each method's page), per method, app
# and workspace: chat.postMessage about one message a second per channel, short bursts allowed
# (its workspace-wide cap, "several hundred a minute", is not modelled); the other methods by
# tier, "N+ per minute" with bursts, tier 1 only a small one. Reachable is an internal app, so
# conversations.history and .replies stay tier 3 (the 2025 cut to one a minute is for
# commercially distributed apps outside the Marketplace).
POST_PER_CHANNEL = Bucket(burst=3, per_s=1.0)
TIER_1, TIER_3, TIER_4 = per_minute(1, burst=3), per_minute(50), per_minute(100)
HUNDREDS_A_MINUTE = per_minute(200)  # the special tier of auth.test and chat.getPermalink
METHOD_RATES: dict[str, Rule] = {
    "apps.connections.open": TIER_1,
    "auth.test": HUNDREDS_A_MINUTE,
    "chat.getPermalink": HUNDREDS_A_MINUTE,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "chat.postEphemeral": TIER_4,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.info": TIER_3,
    "users.info": TIER_4,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
}

JSONDict = dict[str, Any]


class SlackError(Exception):
    """A Web API failure, rendered the way Slack renders it (mostly HTTP 200 with ``ok: false``)."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        headers: dict[str, str] | None = None,
        extra: JSONDict | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = messages
        self.headers = headers
        self.extra = extra or {}

    def response(self) -> Response:
        body: JSONDict = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def missing_argument(name: str) -> SlackError:
    return SlackError("invalid_arguments", messages=[f"[ERROR] missing required field: {name}"])


class ControlError(Exception):
    """Bad input to the control API: answered with ``status`` and a clear message."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> Response:
        return JSONResponse({"error": self.detail}, status_code=self.status)


class Args:
    """A Web API call's arguments, merged from the query string and the body.

    Form bodies carry everything as strings (``"true"``, ``"20"``, blocks as a JSON string);
    JSON bodies carry real types. The getters accept both, as Slack does.
    """

    def __init__(self, values: JSONDict) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def required(self, name: str, error: str | None = None) -> str:
        value = self.text(name)
        if value is None:
            raise SlackError(error) if error else missing_argument(name)
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes")

    def number(self, name: str, default: int, error: str) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise SlackError(error) from None

    def structured(self, name: str, error: str) -> Any:
        """A JSON argument that form bodies send as a string (blocks, metadata, view)."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise SlackError(error) from None
        return value


@dataclass
class StoredMessage:
    channel: str
    ts: str
    text: str
    user: str
    blocks: list[Any] | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    parent_user_id: str | None = None
    metadata: JSONDict | None = None
    edited: dict[str, str] | None = None
    subtype: str | None = None
    client_msg_id: str | None = None
    mrkdwn: bool = True
    link_names: bool = False
    replies: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def in_history(self) -> bool:
        return not self.is_reply or self.subtype == "thread_broadcast"


@dataclass
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[Any] | None
    thread_ts: str | None = None


@dataclass
class Trigger:
    user: str
    issued: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where a ``response_url`` points: the message clicked, or just the channel for commands."""

    channel: str
    user: str
    message_ts: str | None
    thread_ts: str | None
    ephemeral: bool
    issued: float
    uses: int = 0


@dataclass
class OpenView:
    user: str
    view: JSONDict


@dataclass
class SentRequest:
    """A person's action as it went to the bridge: the signed HTTP request, or (no body) the
    Socket Mode envelope's type and payload."""

    envelope: tuple[str, JSONDict]
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SignOptions:
    """How a control call wants its outgoing request signed (tests forge and replay with it)."""

    timestamp: int | None = None
    replay: bool = False
    bad_signature: bool = False

    @classmethod
    def parse(cls, data: JSONDict) -> SignOptions:
        timestamp = data.get("timestamp")
        if timestamp is not None and (
            isinstance(timestamp, bool) or not isinstance(timestamp, int)
        ):
            raise ControlError(400, "timestamp must be an integer (Unix seconds)")
        signature = data.get("signature")
        if signature not in (None, "bad"):
            raise ControlError(400, 'signature may only be "bad" (a forged signature)')
        return cls(timestamp, bool(data.get("replay", False)), signature == "bad")


def fault_response(fault: Fault) -> Response:
    """An injected failure shaped like Slack's: JSON for 4xx and 429, a plain body for 5xx.

    Most of Slack's failures are HTTP 200 with ``ok: false`` and the error code, as a fault with
    ``error`` answers: ``rate_limited`` (chat.postMessage, chat.update: "Application has posted
    too many messages") comes that way, with a ``Retry-After`` header only when the fault gives
    ``retry_after``. A 429 always carries one, as Slack documents for ``ratelimited``.
    """
    headers = {}
    if fault.status == 429 or fault.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(fault.retry_after or 1)))
    if fault.status >= 500:
        return PlainTextResponse(
            f"{fault.status} upstream error", status_code=fault.status, headers=headers
        )
    error = fault.error or {
        400: "invalid_arguments",
        401: "invalid_auth",
        403: "access_denied",
        404: "unknown_method",
        413: "request_too_large",
        429: "ratelimited",
    }.get(fault.status, "fatal_error")
    return JSONResponse({"ok": False, "error": error}, status_code=fault.status, headers=headers)


def _control_str(data: JSONDict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, f"{name} must be a non-empty string")
    return value


def _optional_str(data: JSONDict, name: str) -> str | None:
    return None if data.get(name) is None else _control_str(data, name)


def _ts(value: str, error: str = "invalid_ts") -> Decimal:
    """A ts as an exact number: floats cannot tell 16 significant digits apart reliably."""
    try:
        return Decimal(value)
    except InvalidOperation:
        raise SlackError(error) from None


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


class SlackEmulator:
    """One Slack workspace with one installed app (the bot), its channels and its people."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-reachable-emulator",
        signing_secret: str = "emulator-signing-secret",
        team_id: str = "T0REACH",
        team_domain: str = "reachable",
        team_name: str = "Reachable",
        app_id: str = "A0REACH",
        bot_user_id: str = "U0REACHBOT",
        bot_id: str = "B0REACH",
        bot_name: str = "reachable",
        bridge_url: str | None = None,
        channels: dict[str, str] | None = None,
        non_member_channels: dict[str, str] | None = None,
        users: dict[str, str] | None = None,
        rate_limits: bool = True,
        time_scale: float = 1.0,
        verification_token: str = "emulatorVerificationToken",
        trigger_ttl_s: float = TRIGGER_TTL_S,
        app_token: str = "xapp-1-A0REACH-emulator",
        socket_mode: bool = False,
        scopes: tuple[str, ...] = BOT_SCOPES,
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.bridge_url = bridge_url
        self.channels = dict(channels or {})
        self.non_member_channels = dict(non_member_channels or {})
        self.users = dict(users or {})
        self.rate_limits = rate_limits
        self.verification_token = verification_token
        self.trigger_ttl_s = trigger_ttl_s
        self.app_token = app_token
        self.scopes = scopes
        # Socket Mode: the bridge opens a websocket and every event, interaction and command
        # goes through it instead of being POSTed to bridge_url.
        self.socket = SocketHub(app_id)
        self.socket.enabled = socket_mode
        self._lock = threading.RLock()
        self._last_micros = 0
        self._clear_state()
        self.core = EmulatorCore("slack", fault_response, error_codes=True, time_scale=time_scale)
        self.core.on_reset(self.reset_state)
        self._methods: dict[str, Callable[[Args], JSONDict]] = {
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
        self.app: ASGIApp = create_app(self)

    # -- state -----------------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._messages: dict[str, dict[str, StoredMessage]] = {c: {} for c in self.channels}
        self._ephemerals: list[Ephemeral] = []
        self._triggers: dict[str, Trigger] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._views: dict[str, OpenView] = {}
        self._stacks: dict[str, list[str]] = {}
        self._events: dict[str, bytes] = {}
        self._sent: dict[str, SentRequest] = {}
        if hasattr(self, "socket"):
            self.socket.reset()

    def reset_state(self) -> None:
        """Forget messages, modals and tokens; keep the workspace (channels, users, bridge)."""
        with self._lock:
            self._clear_state()

    def _next_ts(self) -> str:
        # Slack ts values are "<seconds>.<6 digits>", unique per channel and increasing.
        micros = max(int(time.time() * 1_000_000), self._last_micros + 100)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _new_trigger(self, user: str) -> str:
        trigger_id = f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = Trigger(user, time.monotonic())
        return trigger_id

    def _user_payload(self, user: str) -> JSONDict:
        name = self.users.get(user, self.bot_name)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _team_payload(self) -> JSONDict:
        return {"id": self.team_id, "domain": self.team_domain}

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

    def _blocks_arg(self, args: Args) -> list[Any] | None:
        blocks = args.structured("blocks", "invalid_blocks_format")
        if blocks is None:
            return None
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        errors = validate_blocks(blocks)
        if errors:
            raise SlackError(
                "invalid_blocks",
                messages=[f"[ERROR] {e}" for e in errors],
                extra={"errors": errors},
            )
        if blocks_text_length(blocks) > MAX_MESSAGE_BLOCKS_TEXT:
            raise SlackError("msg_blocks_too_long")
        return normalise_blocks(blocks)

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

    def _public(self, message: StoredMessage, *, with_metadata: bool) -> JSONDict:
        """A message as the Web API returns it."""
        out: JSONDict = {"type": "message", "ts": message.ts, "user": message.user}
        if message.subtype:
            out["subtype"] = message.subtype
        out["text"] = message.text
        out["team"] = self.team_id
        if message.bot_id:
            out.update(bot_id=message.bot_id, app_id=self.app_id, bot_profile=self._bot_profile())
        if message.client_msg_id:
            out["client_msg_id"] = message.client_msg_id
        if message.blocks is not None:
            out["blocks"] = message.blocks
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
        if message.parent_user_id:
            out["parent_user_id"] = message.parent_user_id
        if message.replies:
            out.update(
                reply_count=len(message.replies),
                reply_users_count=len(message.reply_users),
                latest_reply=message.replies[-1],
                reply_users=list(message.reply_users),
                is_locked=False,
                subscribed=False,
            )
        if message.edited:
            out["edited"] = dict(message.edited)
        if with_metadata and message.metadata:
            out["metadata"] = message.metadata
        return out

    def _bot_profile(self) -> JSONDict:
        """Slack's bot profile always has the app's icons in three sizes and when it changed."""
        icon = f"https://avatars.slack-edge.com/{self.app_id.lower()}/{self.bot_id.lower()}"
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "deleted": False,
            "updated": BOT_PROFILE_UPDATED,
            "team_id": self.team_id,
            "icons": {f"image_{size}": f"{icon}_{size}.png" for size in (36, 48, 72)},
        }

    def _thread_root(self, channel: str, thread_ts: str | None) -> StoredMessage | None:
        if thread_ts is None:
            return None
        root = self._messages[channel].get(thread_ts)
        if root is None:
            raise SlackError("invalid_thread_ts")
        if root.is_reply:
            # Replying to a reply lands in the same thread, under its parent.
            assert root.thread_ts is not None
            root = self._messages[channel][root.thread_ts]
        return root

    def _store(self, message: StoredMessage, root: StoredMessage | None) -> StoredMessage:
        self._messages[message.channel][message.ts] = message
        if root is not None:
            message.thread_ts = root.ts
            message.parent_user_id = root.user
            root.thread_ts = root.ts
            root.replies.append(message.ts)
            if message.user not in root.reply_users:
                root.reply_users.append(message.user)
        return message

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

    def _delete(self, message: StoredMessage) -> None:
        if message.replies:
            # A thread parent leaves a tombstone so that its replies stay reachable.
            message.text, message.blocks, message.subtype = (
                "This message was deleted.",
                None,
                "tombstone",
            )
            return
        del self._messages[message.channel][message.ts]
        if message.is_reply and message.thread_ts in self._messages[message.channel]:
            root = self._messages[message.channel][message.thread_ts]
            root.replies.remove(message.ts)

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
            bound = _ts(_cursor_ts(cursor), "invalid_cursor")
            # The cursor names the first message of the next page, in either direction.
            messages = [
                m for m in messages if (_ts(m.ts) <= bound if newest_first else _ts(m.ts) >= bound)
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
        oldest = _ts(args.text("oldest") or "0", "invalid_ts_oldest")
        latest = _ts(args.text("latest") or "Infinity", "invalid_ts_latest")

        def in_range(message: StoredMessage) -> bool:
            ts = _ts(message.ts)
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

    def _view_arg(self, args: Args) -> JSONDict:
        view = args.structured("view", "invalid_arguments")
        if not isinstance(view, dict):
            raise missing_argument("view")
        errors = validate_view(view)
        if errors:
            raise SlackError("invalid_arguments", messages=[f"[ERROR] {e}" for e in errors])
        return view

    def _build_view(
        self, spec: JSONDict, view_id: str, root: str, previous: str | None
    ) -> JSONDict:
        view: JSONDict = {"id": view_id, "team_id": self.team_id, "type": spec["type"]}
        for key in ("title", "submit", "close"):
            if key in spec:
                view[key] = spec[key]
        view.update(
            blocks=normalise_blocks(spec["blocks"]),
            private_metadata=spec.get("private_metadata", ""),
            callback_id=spec.get("callback_id", ""),
            external_id=spec.get("external_id", ""),
            state={"values": {}},
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            clear_on_close=bool(spec.get("clear_on_close", False)),
            notify_on_close=bool(spec.get("notify_on_close", False)),
            submit_disabled=bool(spec.get("submit_disabled", False)),
            root_view_id=root,
            previous_view_id=previous,
            app_id=self.app_id,
            app_installed_team_id=self.team_id,
            bot_id=self.bot_id,
        )
        return view

    def _push_view(self, user: str, spec: JSONDict) -> JSONDict:
        stack = self._stacks.setdefault(user, [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        external_id = spec.get("external_id")
        if external_id and any(v.view["external_id"] == external_id for v in self._views.values()):
            raise SlackError("duplicate_external_id")
        view_id = "V0" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9)
        )
        root = stack[0] if stack else view_id
        view = self._build_view(spec, view_id, root, stack[-1] if stack else None)
        self._views[view_id] = OpenView(user, view)
        stack.append(view_id)
        return view

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

    def _replace_view(
        self, current: OpenView, spec: JSONDict, expected_hash: str | None
    ) -> JSONDict:
        old = current.view
        if expected_hash is not None and expected_hash != old["hash"]:
            raise SlackError("hash_conflict")
        current.view = self._build_view(
            spec, old["id"], old["root_view_id"], old["previous_view_id"]
        )
        return current.view

    def _close_views(self, user: str, view_id: str | None = None) -> None:
        """Close one modal view (the top one) or the whole stack."""
        stack = self._stacks.get(user, [])
        closing = [view_id] if view_id else list(stack)
        for closed in closing:
            self._views.pop(closed, None)
            if closed in stack:
                stack.remove(closed)

    # -- control API: reading --------------------------------------------------------------------

    def _control_channel(self, channel: str | None) -> list[str]:
        if channel is None:
            return list(self.channels)
        if channel not in self.channels:
            raise ControlError(
                404, f"unknown channel {channel!r} (the bot is in {sorted(self.channels)})"
            )
        return [channel]

    def messages(self, channel: str | None = None) -> list[JSONDict]:
        """Messages as they stand now, oldest first, with what a client would ping and link."""
        with self._lock:
            out = []
            for channel_id in self._control_channel(channel):
                for m in self._messages[channel_id].values():
                    item: JSONDict = {
                        "channel": channel_id,
                        "ts": m.ts,
                        "thread_ts": m.thread_ts,
                        "text": m.text,
                        "blocks": m.blocks,
                        "user": m.user,
                        "bot_id": m.bot_id,
                        "metadata": m.metadata,
                        "edited": m.edited,
                        "subtype": m.subtype,
                        "reply_count": len(m.replies),
                        "latest_reply": m.replies[-1] if m.replies else None,
                    }
                    item.update(render(m.text, m.blocks, mrkdwn=m.mrkdwn, link_names=m.link_names))
                    out.append(item)
            return sorted(out, key=lambda item: _ts(item["ts"]))

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[JSONDict]:
        with self._lock:
            self._control_channel(channel)
            return [
                {
                    "channel": e.channel,
                    "user": e.user,
                    "message_ts": e.message_ts,
                    "thread_ts": e.thread_ts,
                    "text": e.text,
                    "blocks": e.blocks,
                    **render(e.text, e.blocks),
                }
                for e in self._ephemerals
                if channel in (None, e.channel) and user in (None, e.user)
            ]

    def open_views(self, user: str | None = None) -> list[JSONDict]:
        """Open modals, bottom of each user's stack first."""
        with self._lock:
            return [
                {"user": owner, **self._views[view_id].view}
                for owner, stack in self._stacks.items()
                if user in (None, owner)
                for view_id in stack
            ]

    async def _get_messages(self, request: Request) -> Response:
        try:
            return JSONResponse({"messages": self.messages(request.query_params.get("channel"))})
        except ControlError as exc:
            return exc.response()

    async def _get_ephemerals(self, request: Request) -> Response:
        query = request.query_params
        try:
            return JSONResponse(
                {"ephemerals": self.ephemerals(query.get("channel"), query.get("user"))}
            )
        except ControlError as exc:
            return exc.response()

    async def _get_views(self, request: Request) -> Response:
        return JSONResponse({"views": self.open_views(request.query_params.get("user"))})

    async def _config(self, data: JSONDict) -> Response:
        url = data.get("bridge_url", self.bridge_url)
        if "bridge_url" in data and (
            not isinstance(url, str) or not url.startswith(("http://", "https://"))
        ):
            return bad_request("bridge_url must be an http(s) URL")
        socket_mode = data.get("socket_mode", self.socket.enabled)
        if not isinstance(socket_mode, bool):
            return bad_request("socket_mode must be true or false")
        with self._lock:
            self.bridge_url = url
            self.socket.enabled = socket_mode
        return JSONResponse({"ok": True, "bridge_url": url, "socket_mode": socket_mode})

    async def _remove_bot(self, data: JSONDict) -> Response:
        """Someone removes the bot from a channel: it can no longer post there."""
        channel = data.get("channel")
        with self._lock:
            if channel not in self.channels:
                return bad_request(f"the bot is not in {channel!r} (in: {sorted(self.channels)})")
            self.non_member_channels[str(channel)] = self.channels.pop(str(channel))
        return JSONResponse({"ok": True, "channel": channel})

    async def _socket_status(self, request: Request) -> Response:
        return JSONResponse(self.socket.status())

    async def _socket_drop(self, data: JSONDict) -> Response:
        after_next_send = data.get("after_next_send", False)
        if not isinstance(after_next_send, bool):
            return bad_request("after_next_send must be true or false")
        dropped = await self.socket.drop(after_next_send=after_next_send)
        return JSONResponse({"ok": True, "dropped": dropped})

    # -- control API: acting as people -----------------------------------------------------------

    def _control_user(self, data: JSONDict) -> str:
        user = _control_str(data, "user")
        if user not in self.users:
            raise ControlError(404, f"unknown user {user!r} (known: {sorted(self.users)})")
        return user

    async def _deliver(
        self,
        body: bytes,
        content_type: str,
        sign: SignOptions,
        headers: dict[str, str] | None = None,
        *,
        envelope: tuple[str, JSONDict],
    ) -> tuple[int, str]:
        """Hand a request to the bridge: over its Socket Mode connection as an envelope of the
        given type, or POSTed and signed as Slack signs it. Returns the status and the body.
        A person's action is kept by its trigger_id, exactly as sent, for ``/replay``."""
        trigger = envelope[1].get("trigger_id")
        if self.socket.enabled:
            kind, payload = envelope
            if isinstance(trigger, str):
                with self._lock:
                    self._sent[trigger] = SentRequest(envelope=envelope)
            try:
                return await self.socket.deliver(kind, payload)
            except SocketUnavailable as exc:
                raise ControlError(504, f"Socket Mode: {exc}") from None
        url = self.bridge_url
        if not url:
            raise ControlError(409, "no bridge_url configured: POST /_emulator/config first")
        timestamp = sign.timestamp if sign.timestamp is not None else int(time.time())
        if sign.replay:
            timestamp -= STALE_AGE_S
        secret = self.signing_secret + "-forged" if sign.bad_signature else self.signing_secret
        base = b"v0:" + str(timestamp).encode() + b":" + body
        signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        all_headers = {
            "Content-Type": content_type,
            "User-Agent": SLACK_USER_AGENT,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
            **(headers or {}),
        }
        if isinstance(trigger, str):
            with self._lock:
                self._sent[trigger] = SentRequest(envelope, body, all_headers)
        # trust_env=False: signed payloads go straight to the bridge, never through a proxy.
        async with httpx.AsyncClient(timeout=OUTGOING_TIMEOUT_S, trust_env=False) as client:
            try:
                response = await client.post(url, content=body, headers=all_headers)
            except httpx.HTTPError as exc:
                raise ControlError(502, f"bridge at {url} unreachable: {exc!r}") from None
        return response.status_code, response.text

    async def _deliver_command(self, fields: dict[str, str], sign: SignOptions) -> tuple[int, str]:
        body = urlencode(fields).encode()
        return await self._deliver(
            body,
            "application/x-www-form-urlencoded",
            sign,
            envelope=("slash_commands", dict(fields)),
        )

    async def _deliver_interactive(self, payload: JSONDict, sign: SignOptions) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._deliver(
            body, "application/x-www-form-urlencoded", sign, envelope=("interactive", payload)
        )

    async def _deliver_event(
        self, body: bytes, sign: SignOptions, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        envelope = ("events_api", json.loads(body))
        return await self._deliver(body, "application/json", sign, headers, envelope=envelope)

    def _new_response_url(self, request: Request, target: ResponseUrl) -> str:
        rid = secrets.token_urlsafe(16)
        self._response_urls[rid] = target
        return f"{str(request.base_url).rstrip('/')}{CONTROL_PREFIX}/response/{rid}"

    def _find_button(
        self, blocks: list[Any] | None, action_id: str, value: str | None
    ) -> tuple[str, JSONDict]:
        buttons = list(iter_buttons(blocks or []))
        for block_id, button in buttons:
            if button.get("action_id") == action_id and value in (None, button.get("value")):
                return block_id, button
        have = sorted({str(b.get("action_id")) for _, b in buttons})
        wanted = action_id if value is None else f"{action_id} with value {value!r}"
        raise ControlError(400, f"the message has no button {wanted} (buttons: {have})")

    def _clicked(self, channel: str, user: str, ts: str) -> StoredMessage | Ephemeral:
        """The message a user clicked in: one in the channel, or one only they can see."""
        message = self._messages[channel].get(ts)
        if message is not None:
            return message
        for ephemeral in self._ephemerals:
            if (ephemeral.channel, ephemeral.user, ephemeral.message_ts) == (channel, user, ts):
                return ephemeral
        raise ControlError(404, f"no message {ts} in {channel} (nor an ephemeral for {user})")

    def _click_payload(self, request: Request, data: JSONDict) -> JSONDict:
        """Find what was clicked and build the block_actions payload Slack would send."""
        user = self._control_user(data)
        channel = self._control_channel(_control_str(data, "channel"))[0]
        ts = _control_str(data, "ts")
        action_id = _control_str(data, "action_id")
        clicked = self._clicked(channel, user, ts)
        block_id, button = self._find_button(
            clicked.blocks, action_id, _optional_str(data, "value")
        )
        ephemeral = isinstance(clicked, Ephemeral)
        container: JSONDict = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        if clicked.thread_ts:
            container["thread_ts"] = clicked.thread_ts
        target = ResponseUrl(channel, user, ts, clicked.thread_ts, ephemeral, time.monotonic())
        payload: JSONDict = {
            "type": "block_actions",
            "user": self._user_payload(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "container": container,
            "trigger_id": self._new_trigger(user),
            "team": self._team_payload(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": self.channels[channel]},
        }
        if isinstance(clicked, StoredMessage):
            # An ephemeral message is not sent back: Slack does not keep it.
            payload["message"] = self._public(clicked, with_metadata=True)
        payload["state"] = {"values": {}}
        payload["response_url"] = self._new_response_url(request, target)
        payload["actions"] = [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": button.get("text"),
                **({"value": button["value"]} if "value" in button else {}),
                **({"style": button["style"]} if "style" in button else {}),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ]
        return payload

    async def _click(self, request: Request) -> Response:
        try:
            data = await _control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                payload = self._click_payload(request, data)
            status, text = await self._deliver_interactive(payload, sign)
        except ControlError as exc:
            return exc.response()
        return JSONResponse(
            {
                "status": status,
                "body": text,
                "trigger_id": payload["trigger_id"],
                "response_url": payload["response_url"],
            }
        )

    def _user_message(self, data: JSONDict) -> tuple[StoredMessage, JSONDict]:
        user = self._control_user(data)
        channel = self._control_channel(_control_str(data, "channel"))[0]
        text = _control_str(data, "text")
        thread_ts = _optional_str(data, "thread_ts")
        try:
            root = self._thread_root(channel, thread_ts)
        except SlackError:
            raise ControlError(404, f"no message {thread_ts} in {channel} to reply to") from None
        message = StoredMessage(
            channel, self._next_ts(), text, user, client_msg_id=str(uuid.uuid4())
        )
        self._store(message, root)
        event: JSONDict = {
            "type": "message",
            "client_msg_id": message.client_msg_id,
            "user": user,
            "text": text,
            "team": self.team_id,
            "ts": message.ts,
            "channel": channel,
            "event_ts": message.ts,
            "channel_type": {"G": "group", "D": "im"}.get(channel[:1], "channel"),
        }
        if root is not None:
            event.update(thread_ts=root.ts, parent_user_id=root.user)
        return message, event

    def _event_envelope(self, event: JSONDict) -> JSONDict:
        event_id = "Ev" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(10)
        )
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }

    async def _message_event(self, request: Request) -> Response:
        try:
            data = await _control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                message, event = self._user_message(data)
                envelope = self._event_envelope(event)
                body = json.dumps(envelope).encode()
                self._events[envelope["event_id"]] = body
            status, text = await self._deliver_event(body, sign)
        except ControlError as exc:
            return exc.response()
        return JSONResponse(
            {"status": status, "body": text, "ts": message.ts, "event_id": envelope["event_id"]}
        )

    async def _redeliver(self, request: Request) -> Response:
        """Send an event again, as Slack does when the bridge did not ack within 3 seconds."""
        try:
            data = await _control_body(request)
            sign = SignOptions.parse(data)
            event_id = _control_str(data, "event_id")
            retry_num = data.get("retry_num", 1)
            if not isinstance(retry_num, int) or isinstance(retry_num, bool) or retry_num < 1:
                raise ControlError(400, "retry_num must be a positive integer")
            with self._lock:
                body = self._events.get(event_id or "")
            if body is None:
                raise ControlError(404, f"no event {event_id!r} was sent")
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
            status, text = await self._deliver_event(body, sign, headers)
        except ControlError as exc:
            return exc.response()
        return JSONResponse({"status": status, "body": text, "event_id": event_id})

    async def _replay(self, request: Request) -> Response:
        """Send a person's action again, ``times`` over: over HTTP the very bytes with the very
        timestamp and signature (a captured request replayed within Slack's 300 s window), in
        Socket Mode the same payload in new envelopes. Slack itself never resends an
        interaction; this plays whoever would."""
        try:
            data = await _control_body(request)
            trigger = _control_str(data, "trigger_id")
            times = data.get("times", 1)
            if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 10_000:
                raise ControlError(400, "times must be an integer from 1 to 10000")
            with self._lock:
                sent = self._sent.get(trigger)
            if sent is None:
                raise ControlError(404, f"no action with trigger_id {trigger!r} was sent")
            statuses = await self._send_again(sent, times)
        except ControlError as exc:
            return exc.response()
        return JSONResponse({"trigger_id": trigger, "statuses": statuses})

    async def _send_again(self, sent: SentRequest, times: int) -> dict[str, int]:
        statuses: dict[str, int] = {}
        if sent.body is None:
            for _ in range(times):
                try:
                    status, _body = await self.socket.deliver(*sent.envelope)
                except SocketUnavailable as exc:
                    raise ControlError(504, f"Socket Mode: {exc}") from None
                statuses[str(status)] = statuses.get(str(status), 0) + 1
            return statuses
        url = self.bridge_url
        if not url:
            raise ControlError(409, "no bridge_url configured: POST /_emulator/config first")
        async with httpx.AsyncClient(timeout=OUTGOING_TIMEOUT_S, trust_env=False) as client:
            for _ in range(times):
                try:
                    response = await client.post(url, content=sent.body, headers=sent.headers)
                except httpx.HTTPError as exc:
                    raise ControlError(502, f"bridge at {url} unreachable: {exc!r}") from None
                key = str(response.status_code)
                statuses[key] = statuses.get(key, 0) + 1
        return statuses

    def _command_form(self, request: Request, data: JSONDict) -> tuple[dict[str, str], ResponseUrl]:
        """The form Slack posts for a slash command, and where its response_url leads."""
        command = _control_str(data, "command")
        if not command.startswith("/"):
            raise ControlError(400, "command must start with '/' (e.g. /reachable)")
        text = data.get("text", "")
        if not isinstance(text, str):
            raise ControlError(400, "text must be a string")
        user = self._control_user(data)
        channel = self._control_channel(_control_str(data, "channel"))[0]
        target = ResponseUrl(channel, user, None, None, True, time.monotonic())
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self.channels[channel],
            "user_id": user,
            "user_name": self.users[user],
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self._new_response_url(request, target),
            "trigger_id": self._new_trigger(user),
        }
        return fields, target

    async def _command(self, request: Request) -> Response:
        try:
            data = await _control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                fields, target = self._command_form(request, data)
            status, body = await self._deliver_command(fields, sign)
        except ControlError as exc:
            return exc.response()
        result: JSONDict = {"status": status, "body": body, "trigger_id": fields["trigger_id"]}
        if status == 200 and body.strip():
            try:
                with self._lock:
                    self._apply_response(target, _command_reply(body))
            except SlackError as exc:
                # Slack shows the user "/reachable failed with the error ..." instead.
                result["reply_error"] = exc.error
        return JSONResponse(result)

    # -- response_url ----------------------------------------------------------------------------

    async def _response_url(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        try:
            reply = json.loads(await request.body() or b"{}")
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            return PlainTextResponse("invalid_payload", status_code=400)
        with self._lock:
            target = self._response_urls.get(rid)
            if target is None:
                return PlainTextResponse("no_service", status_code=404)
            if time.monotonic() - target.issued > RESPONSE_URL_TTL_S:
                return PlainTextResponse("expired_url", status_code=404)
            if target.uses >= RESPONSE_URL_USES:
                return PlainTextResponse("used_url", status_code=404)
            target.uses += 1
            try:
                self._apply_response(target, reply)
            except SlackError as exc:
                return PlainTextResponse(exc.error, status_code=400)
        return JSONResponse({"ok": True})

    def _apply_response(self, target: ResponseUrl, reply: JSONDict) -> None:
        """What Slack does with a response_url message (and with a slash command's reply)."""
        args = Args(reply)
        text = args.text("text") or ""
        blocks = self._blocks_arg(args)
        original = self._messages[target.channel].get(target.message_ts or "")
        if args.flag("delete_original", False):
            if original is not None and not target.ephemeral:
                self._delete(original)
            self._ephemerals = [e for e in self._ephemerals if e.message_ts != target.message_ts]
            return
        if args.flag("replace_original", False) and target.message_ts:
            if original is not None and not target.ephemeral:
                original.text, original.blocks = text, blocks
            for e in self._ephemerals:
                if e.message_ts == target.message_ts:
                    e.text, e.blocks = text, blocks
            return
        if not text and not blocks:
            raise SlackError("no_text")
        if args.text("response_type") == "in_channel":
            root = self._thread_root(target.channel, target.thread_ts)
            message = StoredMessage(
                target.channel, self._next_ts(), text, self.bot_user_id, blocks, self.bot_id
            )
            self._store(message, root)
        else:
            self._ephemerals.append(
                Ephemeral(
                    target.channel, target.user, self._next_ts(), text, blocks, target.thread_ts
                )
            )

    # -- modal submission ------------------------------------------------------------------------

    def _submission(self, data: JSONDict) -> tuple[OpenView, JSONDict]:
        user = self._control_user(data)
        view_id = _control_str(data, "view_id")
        current = self._views.get(view_id)
        if current is None or current.user != user:
            raise ControlError(404, f"no open view {view_id!r} for {user}")
        if self._stacks[user][-1] != view_id:
            raise ControlError(400, "only the top view of a modal stack can be submitted")
        if ("values" in data) == ("text" in data):
            raise ControlError(400, "give either values {block_id: {action_id: value}} or text")
        view = json.loads(json.dumps(current.view))
        try:
            view["state"] = {"values": state_values(view["blocks"], data)}
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        payload: JSONDict = {
            "type": "view_submission",
            "team": self._team_payload(),
            "user": self._user_payload(user),
            "api_app_id": self.app_id,
            "token": self.verification_token,
            "trigger_id": self._new_trigger(user),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return current, payload

    async def _submit(self, request: Request) -> Response:
        try:
            data = await _control_body(request)
            sign = SignOptions.parse(data)
            with self._lock:
                current, payload = self._submission(data)
            status, body = await self._deliver_interactive(payload, sign)
            with self._lock:
                outcome = self._after_submit(current, status, body)
        except ControlError as exc:
            return exc.response()
        return JSONResponse(
            {"status": status, "body": body, "view": outcome, "trigger_id": payload["trigger_id"]}
        )

    def _after_submit(self, current: OpenView, status: int, body: str) -> str:
        """Apply the bridge's answer to a submission the way the Slack client does."""
        if status != 200:
            return "kept_open"  # the client shows "We had some trouble connecting"
        try:
            answer = json.loads(body) if body.strip() else {}
        except ValueError:
            answer = {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        try:
            if action == "errors":
                return "kept_open"
            if action == "update":
                self._replace_view(
                    current, self._view_arg(Args({"view": answer.get("view")})), None
                )
                return "updated"
            if action == "push":
                self._push_view(current.user, self._view_arg(Args({"view": answer.get("view")})))
                return "pushed"
        except SlackError as exc:
            raise ControlError(
                502, f"the bridge answered with an invalid view: {exc.messages}"
            ) from None
        if action == "clear":
            self._close_views(current.user)
            return "cleared"
        self._close_views(current.user, current.view["id"])
        return "closed"


def _command_reply(body: str) -> JSONDict:
    """A slash command's immediate answer: JSON like a response_url message, or plain text."""
    try:
        reply = json.loads(body)
    except ValueError:
        return {"text": body}
    return reply if isinstance(reply, dict) else {"text": body}


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


async def _control_body(request: Request) -> JSONDict:
    try:
        return await read_json_object(request)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None


def create_app(emulator: SlackEmulator) -> ASGIApp:
    """The emulator's ASGI app: ``/api/<method>`` plus the control API, wrapped by the core."""
    control = CONTROL_PREFIX
    routes = [
        Route("/api/{method}", emulator.api, methods=["GET", "POST"]),
        *emulator.core.control_routes(),
        Route(f"{control}/config", json_endpoint(emulator._config), methods=["POST"]),
        Route(f"{control}/messages", emulator._get_messages, methods=["GET"]),
        Route(f"{control}/ephemerals", emulator._get_ephemerals, methods=["GET"]),
        Route(f"{control}/views", emulator._get_views, methods=["GET"]),
        Route(f"{control}/click", emulator._click, methods=["POST"]),
        Route(f"{control}/message", emulator._message_event, methods=["POST"]),
        Route(f"{control}/redeliver", emulator._redeliver, methods=["POST"]),
        Route(f"{control}/replay", emulator._replay, methods=["POST"]),
        Route(f"{control}/command", emulator._command, methods=["POST"]),
        Route(f"{control}/submit", emulator._submit, methods=["POST"]),
        Route(f"{control}/response/{{rid}}", emulator._response_url, methods=["POST"]),
        Route(f"{control}/remove_bot", json_endpoint(emulator._remove_bot), methods=["POST"]),
        Route(f"{control}/socket", emulator._socket_status, methods=["GET"]),
        Route(f"{control}/socket/drop", json_endpoint(emulator._socket_drop), methods=["POST"]),
        WebSocketRoute(SOCKET_PATH, emulator.socket.endpoint),
    ]
    return emulator.core.wrap(Starlette(routes=routes))
