"""The Telegram emulator's vocabulary: the Bot API's numbers and rate limits, its errors (a
Bot API failure, a bad control call) and the faults shaped like them, a method's arguments as
Telegram reads them, and the records the emulator keeps (messages, chats, callback queries,
the webhook).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse, Response

from emulators.clock import Bucket, Window
from emulators.core import Fault
from emulators.telegram.text import Entity

JSONDict = dict[str, Any]

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_CALLBACK_DATA = 64
MAX_POLL_TIMEOUT_S = 50.0
OUTGOING_TIMEOUT_S = 10.0
# Telegram sends every kind except these unless allowed_updates names them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_KINDS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
# Telegram's Bot FAQ ("My bot is hitting limits, how do I avoid this?"): in one chat about one
# message a second, short bursts allowed before 429s come; no more than 20 messages a minute to
# one group; about 30 a second overall. Edits share these limits (the Bot API's maintainer in
# tdlib/td issue 2592: "the limits for message editing are the same as for message sending ...
# They share the limit"; creating a forum topic is sending its service message). Answers to
# button presses and chat actions are not messages and count against none of them.
CHAT_RATE = Bucket(burst=3, per_s=1.0)
GROUP_RATE = Window(limit=20, window_s=60.0)
BOT_RATE = Window(limit=30, window_s=1.0)


class BotApiError(Exception):
    """A Bot API failure: HTTP status ``code`` and the same code inside the JSON body."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> Response:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return JSONResponse(body, status_code=self.code)


def bad_request(description: str, parameters: JSONDict | None = None) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}", parameters)


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class ControlError(Exception):
    """Bad input to the control API: answered with ``status`` and a clear message."""

    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def response(self) -> Response:
        return JSONResponse({"error": self.detail}, status_code=self.status)


def fault_response(fault: Fault) -> Response:
    """An injected failure shaped like Telegram's: always JSON, ``retry_after`` for 429."""
    if fault.status == 429:
        return too_many_requests(max(1, math.ceil(fault.retry_after or 1))).response()
    phrase = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}.get(
        fault.status
    )
    if phrase is None:
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Internal Server Error"
    return BotApiError(fault.status, phrase).response()


@dataclass
class Described:
    """A result that Telegram answers with a ``description`` too (setWebhook, deleteWebhook)."""

    result: Any
    description: str


class Args:
    """A method's arguments from the query string and the body, as the Bot API reads them.

    Form bodies carry everything as strings (``"true"``, ``"-100123"``, objects as JSON
    strings); JSON bodies carry real types. The getters accept both, as Telegram does.
    """

    def __init__(self, values: JSONDict) -> None:
        self.values = values

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        return None if value == "" else value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value)
        if not isinstance(value, str):
            return str(value)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad_request("strings must be encoded in UTF-8") from None
        return value

    def integer(self, name: str) -> int | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def number(self, name: str, default: float) -> float:
        value = self.raw(name)
        try:
            return default if value is None else float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Number') from None

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        if isinstance(value, bool):
            return value
        return value is not None and str(value).strip().lower() in ("true", "1")

    def structured(self, name: str, what: str) -> Any:
        """A JSON object argument; form bodies send it as a JSON string."""
        value = self.raw(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what} JSON object") from None
        return value


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    sender_id: int
    date: int
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    reply_to: int | None = None
    thread_id: int | None = None
    is_topic_message: bool = False
    reply_markup: JSONDict | None = None
    force_reply: JSONDict | None = None
    edit_date: int | None = None
    service: JSONDict = field(default_factory=dict)
    deleted: bool = False


@dataclass
class Chat:
    id: int
    title: str
    type: str
    is_forum: bool
    admins: list[int]
    status: str = "administrator"
    migrated_to: int | None = None
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    topics: dict[int, JSONDict] = field(default_factory=dict)


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answer: JSONDict | None = None


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    generation: int
    last_error_date: int | None = None
    last_error_message: str | None = None
