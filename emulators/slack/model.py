"""The Slack emulator's vocabulary: Slack's numbers (limits, lifetimes, rate tiers), its
errors (a Web API failure, a bad control call), a call's arguments as Slack reads them, the
records the workspace keeps (messages, ephemerals, triggers, response URLs, modals, requests
sent to the bridge) and the faults shaped like Slack's.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from emulators.clock import Bucket, Rule, per_minute
from emulators.core import Fault

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


def exact_ts(value: str, error: str = "invalid_ts") -> Decimal:
    """A ts as an exact number: floats cannot tell 16 significant digits apart reliably."""
    try:
        return Decimal(value)
    except InvalidOperation:
        raise SlackError(error) from None
