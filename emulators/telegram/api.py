"""A local Telegram: the Bot API subset a bridge bot uses, and a control API that plays the humans.

The real python-telegram-bot client talks to it over HTTP (``base_url=<url>/bot``), so replies
follow the Bot API exactly: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}`` with HTTP status N, Telegram's own error wording
(python-telegram-bot maps it to ``BadRequest``, ``Forbidden``, ``ChatMigrated``, ``RetryAfter``),
texts parsed into plain text plus UTF-16 entities, per-chat message ids and sequential update ids.

Updates reach the bot the two ways Telegram offers: ``getUpdates`` long polling (an update stays
until a later call passes a higher ``offset``) or a webhook set with ``setWebhook`` (POSTed one at
a time, in order, with ``X-Telegram-Bot-Api-Secret-Token``, retried until the receiver answers
2xx). The control API (``/_emulator/*``) does what people do in a Telegram client: write, reply,
press a button, open a forum topic, remove the bot, upgrade a group.

State lives in one :class:`TelegramEmulator` guarded by a lock: uvicorn serves it from its own
thread while tests read it from theirs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from emulators.clock import Bucket, Rule, Window, whole_seconds
from emulators.core import (
    CONTROL_PREFIX,
    MAX_BODY_BYTES,
    EmulatorCore,
    Fault,
    read_json_object,
)
from emulators.telegram.text import (
    MAX_TEXT_UTF16,
    EntitiesError,
    Entity,
    EntityParseError,
    check_entities,
    finish,
    parse_text,
    render_html,
    utf16_len,
)

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


def _chats_from_config(chats: dict[int, dict[str, Any]]) -> dict[int, Chat]:
    built: dict[int, Chat] = {}
    for chat_id, spec in chats.items():
        kind = str(spec.get("type", "supergroup"))
        if kind not in ("group", "supergroup", "private"):
            raise ValueError(f"chat {chat_id}: type must be group, supergroup or private")
        built[int(chat_id)] = Chat(
            id=int(chat_id),
            title=str(spec.get("title", "")),
            type=kind,
            is_forum=bool(spec.get("is_forum", False)) and kind == "supergroup",
            admins=[int(a) for a in spec.get("admins", [])],
            status=_bot_status(spec.get("bot_status", "administrator")),
        )
    return built


def _bot_status(value: object) -> str:
    if value not in ("administrator", "member"):
        raise ValueError("bot_status must be administrator or member")
    return str(value)


class TelegramEmulator:
    """One bot, the chats it is a member of, and the people who write in them."""

    def __init__(
        self,
        *,
        token: str,
        bot_username: str,
        chats: dict[int, dict[str, Any]],
        users: dict[int, dict[str, Any]],
        rate_limits: bool = True,
        time_scale: float = 1.0,
        bot_name: str = "Reachable",
        webhook_retry_s: float = 1.0,
    ) -> None:
        """``time_scale``: how many times faster than real time the rate windows run."""
        if not TOKEN_RE.match(token):
            raise ValueError("token must look like '123456:ABC-def'")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.users = {int(k): dict(v) for k, v in users.items()}
        self.rate_limits = rate_limits
        self.webhook_retry_s = webhook_retry_s
        self._chat_config = {int(k): dict(v) for k, v in chats.items()}
        _chats_from_config(self._chat_config)  # fail early on a bad chat
        self._lock = threading.RLock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._webhook_generation = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._clear_state()
        self.core = EmulatorCore("telegram", fault_response, time_scale=time_scale)
        self.core.on_reset(self.reset_state)
        self._methods: dict[str, Callable[[Args], Any]] = {
            "getme": self._get_me,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "createforumtopic": self._create_forum_topic,
            "sendchataction": self._send_chat_action,
        }
        self.app: ASGIApp = create_app(self)

    # -- state -----------------------------------------------------------------------------------

    def _clear_state(self) -> None:
        self._chats = _chats_from_config(self._chat_config)
        # A random large start, as Telegram does for a new bot (and after a week of silence).
        self._next_update_id = 100_000_000 + secrets.randbelow(800_000_000)
        self._queue: list[JSONDict] = []
        self._redeliveries: list[JSONDict] = []
        self._history: dict[int, JSONDict] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._webhook: Webhook | None = None
        self._webhook_generation += 1
        self._queries: dict[str, CallbackQuery] = {}
        self._commands: dict[str, list[JSONDict]] = {}

    def reset_state(self) -> None:
        """Forget messages, updates, webhook and commands; the chats are as configured again."""
        with self._lock:
            self._clear_state()
            self._notify()

    def _notify(self) -> None:
        """Wake long polls and the webhook sender, whichever thread their loop runs in."""
        for loop, event in list(self._waiters):
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(event.set)

    @contextlib.contextmanager
    def _waiter(self) -> Iterator[asyncio.Event]:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._waiters.discard(entry)

    # -- JSON shapes -----------------------------------------------------------------------------

    def _bot_json(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _user_json(self, user_id: int) -> JSONDict:
        if user_id == self.bot_id:
            return self._bot_json()
        spec = self.users.get(user_id, {})
        out: JSONDict = {
            "id": user_id,
            "is_bot": False,
            "first_name": str(spec.get("first_name", "User")),
        }
        for key in ("last_name", "username", "language_code"):
            if spec.get(key):
                out[key] = spec[key]
        return out

    def _lookup_user(self, user_id: int) -> JSONDict | None:
        return self._user_json(user_id) if user_id in self.users else None

    def _chat_json(self, chat: Chat) -> JSONDict:
        if chat.type == "private":
            person = self._user_json(chat.id) if chat.id in self.users else {}
            out: JSONDict = {"id": chat.id, "first_name": person.get("first_name", chat.title)}
            for key in ("last_name", "username"):
                if key in person:
                    out[key] = person[key]
            out["type"] = "private"
            return out
        out = {"id": chat.id, "title": chat.title}
        if chat.is_forum:
            out["is_forum"] = True
        out["type"] = chat.type
        return out

    def _message_json(self, message: StoredMessage, *, nested: bool = True) -> JSONDict:
        chat = self._chats[message.chat_id]
        out: JSONDict = {
            "message_id": message.message_id,
            "from": self._user_json(message.sender_id),
            "chat": self._chat_json(chat),
            "date": message.date,
        }
        if message.thread_id is not None:
            out["message_thread_id"] = message.thread_id
        replied = chat.messages.get(message.reply_to or 0)
        if nested and replied is not None and not replied.deleted:
            # Telegram nests the replied message once: its own reply_to_message is left out.
            out["reply_to_message"] = self._message_json(replied, nested=False)
        if message.edit_date is not None:
            out["edit_date"] = message.edit_date
        if message.text is not None:
            out["text"] = message.text
            if message.entities:
                out["entities"] = [dict(e) for e in message.entities]
        out.update(message.service)
        if message.is_topic_message:
            out["is_topic_message"] = True
        if message.reply_markup is not None:
            out["reply_markup"] = message.reply_markup
        return out

    def _chat_instance(self, chat_id: int) -> str:
        digest = hashlib.sha256(f"{self.bot_id}:{chat_id}".encode()).digest()
        return str(int.from_bytes(digest[:8], "big", signed=True))

    # -- updates ---------------------------------------------------------------------------------

    def _emit(self, kind: str, payload: JSONDict) -> int | None:
        """Queue an update, unless the bot's allowed_updates leave this kind out."""
        allowed = self._allowed_updates
        if (allowed is None and kind in OPT_IN_UPDATES) or (allowed and kind not in allowed):
            return None
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self._queue.append(update)
        self._history[update_id] = update
        self._notify()
        return update_id

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            # A negative offset keeps only the last -offset updates; the rest are forgotten.
            self._queue = self._queue[offset:]
        else:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]

    def _take(self, limit: int) -> list[JSONDict]:
        batch = sorted(self._redeliveries + self._queue, key=lambda u: int(u["update_id"]))
        batch = batch[:limit]
        taken = {id(u) for u in batch}
        self._redeliveries = [u for u in self._redeliveries if id(u) not in taken]
        return batch

    def _set_allowed(self, args: Args) -> None:
        """allowed_updates persists across calls; [] means the default set again."""
        raw = args.structured("allowed_updates", "allowed updates")
        if raw is None:
            return
        if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
            raise bad_request("can't parse allowed updates JSON object")
        self._allowed_updates = frozenset(raw) or None

    async def _get_updates(self, args: Args, request: Request) -> list[JSONDict]:
        with self._lock:
            if self._webhook is not None:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            limit = min(max(args.integer("limit") or 100, 1), 100)
            timeout = min(max(args.number("timeout", 0.0), 0.0), MAX_POLL_TIMEOUT_S)
            self._set_allowed(args)
            self._confirm(args.integer("offset"))
            # A newer getUpdates ends the one still waiting (two pollers fight like this).
            self._poll_generation += 1
            generation = self._poll_generation
            self._notify()
            batch = self._take(limit)
        if batch or timeout <= 0:
            return batch
        return await self._long_poll(request, generation, limit, timeout)

    async def _long_poll(
        self, request: Request, generation: int, limit: int, wait_s: float
    ) -> list[JSONDict]:
        """Wait until an update arrives, the timeout passes or the client goes away."""
        deadline = time.monotonic() + wait_s
        disconnected = asyncio.ensure_future(request.receive())
        try:
            with self._waiter() as event:
                while True:
                    with self._lock:
                        if self._poll_generation != generation:
                            raise BotApiError(
                                409,
                                "Conflict: terminated by other getUpdates request; make sure "
                                "that only one bot instance is running",
                            )
                        batch = [] if self._webhook else self._take(limit)
                        event.clear()
                    remaining = deadline - time.monotonic()
                    if batch or remaining <= 0 or disconnected.done():
                        return batch
                    woken = asyncio.ensure_future(event.wait())
                    await asyncio.wait(
                        {woken, disconnected},
                        timeout=remaining,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    woken.cancel()
        finally:
            disconnected.cancel()

    # -- webhook ---------------------------------------------------------------------------------

    def _set_webhook(self, args: Args) -> Described:
        url = args.text("url") or ""
        secret = args.text("secret_token")
        if secret is not None and not SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        self._set_allowed(args)
        if args.flag("drop_pending_updates"):
            self._queue.clear()
            self._redeliveries.clear()
        if not url:
            return self._remove_webhook()
        if not url.startswith(("https://", "http://")):
            # Telegram insists on HTTPS; the emulator also takes http:// for local receivers.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        current = self._webhook
        if current is not None and (current.url, current.secret_token) == (url, secret):
            return Described(True, "Webhook is already set")
        self._webhook_generation += 1
        self._webhook = Webhook(url, secret, self._webhook_generation)
        self._poll_generation += 1  # a waiting getUpdates ends
        self._notify()
        task = asyncio.get_running_loop().create_task(self._deliver_loop(self._webhook_generation))
        # The loop keeps only weak references to tasks; an idle sender must not be collected.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Described(True, "Webhook was set")

    def _remove_webhook(self) -> Described:
        if self._webhook is None:
            return Described(True, "Webhook is already deleted")
        self._webhook = None
        self._webhook_generation += 1
        self._notify()
        return Described(True, "Webhook was deleted")

    def _delete_webhook(self, args: Args) -> Described:
        if args.flag("drop_pending_updates"):
            self._queue.clear()
            self._redeliveries.clear()
        return self._remove_webhook()

    def _get_webhook_info(self, args: Args) -> JSONDict:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue) + len(self._redeliveries),
        }
        if hook is not None:
            info.update(max_connections=40, ip_address="127.0.0.1")
            if hook.last_error_date is not None:
                info.update(
                    last_error_date=hook.last_error_date,
                    last_error_message=hook.last_error_message,
                )
            if self._allowed_updates:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _next_delivery(self, generation: int) -> tuple[Webhook, JSONDict | None] | None:
        hook = self._webhook
        if hook is None or hook.generation != generation:
            return None
        pending = sorted(self._redeliveries + self._queue, key=lambda u: int(u["update_id"]))
        return hook, (pending[0] if pending else None)

    async def _deliver_loop(self, generation: int) -> None:
        """POST pending updates one at a time, in order; a failure is retried later."""
        with self._waiter() as event:
            while True:
                with self._lock:
                    event.clear()
                    step = self._next_delivery(generation)
                if step is None:
                    return
                hook, update = step
                if update is None:
                    await event.wait()
                    continue
                error = await self._post_update(hook, update)
                with self._lock:
                    self._delivered(hook, update, error)
                if error is not None:
                    await asyncio.sleep(self.webhook_retry_s)

    async def _post_update(self, hook: Webhook, update: JSONDict) -> str | None:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode()
        try:
            async with httpx.AsyncClient(timeout=OUTGOING_TIMEOUT_S, trust_env=False) as client:
                response = await client.post(hook.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return "Read timeout expired"
        except httpx.HTTPError:
            return "Connection refused"
        if 200 <= response.status_code < 300:
            return None
        try:
            phrase = HTTPStatus(response.status_code).phrase
        except ValueError:
            phrase = "Unknown"
        return f"Wrong response from the webhook: {response.status_code} {phrase}"

    def _delivered(self, hook: Webhook, update: JSONDict, error: str | None) -> None:
        if error is not None:
            hook.last_error_date, hook.last_error_message = int(time.time()), error
            return
        if any(u is update for u in self._redeliveries):
            self._redeliveries = [u for u in self._redeliveries if u is not update]
        else:
            self._queue = [u for u in self._queue if u is not update]

    # -- the Bot API -----------------------------------------------------------------------------

    async def api(self, request: Request) -> Response:
        try:
            self._authenticate(request.path_params["token"])
            name = request.path_params["method"].lower()
            handler = self._methods.get(name)
            if handler is None and name != "getupdates":
                raise BotApiError(404, "Not Found")
            args = Args(await _read_args(request))
            if handler is None:
                result: Any = await self._get_updates(args, request)
            else:
                with self._lock:
                    result = handler(args)
        except BotApiError as exc:
            return exc.response()
        if isinstance(result, Described):
            body = {"ok": True, "result": result.result, "description": result.description}
        else:
            body = {"ok": True, "result": result}
        return JSONResponse(body)

    def _authenticate(self, token: str) -> None:
        # A malformed token is "Not Found" to Telegram; a well-formed wrong one "Unauthorized".
        if not TOKEN_RE.match(token):
            raise BotApiError(404, "Not Found")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            raise BotApiError(401, "Unauthorized")

    def _chat(self, args: Args, name: str = "chat_id") -> Chat:
        """The chat named by ``chat_id``, failing the way Telegram fails for gone chats."""
        raw = args.text(name)
        if raw is None:
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.status == "kicked":
            if chat.type == "private":
                raise BotApiError(403, "Forbidden: bot was blocked by the user")
            raise BotApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
        return chat

    def _rate_limit(self, chat: Chat) -> None:
        """A message sent or edited in ``chat``, under its chat's, its group's and the bot's
        limits; refusing counts nothing. ``retry_after`` is in the emulator's clock."""
        if not self.rate_limits:
            return
        rules: list[tuple[str, Rule]] = [(f"chat:{chat.id}", CHAT_RATE), ("bot", BOT_RATE)]
        if chat.type != "private":
            rules.append((f"group:{chat.id}", GROUP_RATE))
        wait = self.core.limits.take(rules)
        if wait > 0:
            raise too_many_requests(whole_seconds(wait))

    def _new_message(self, chat: Chat, sender_id: int, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id,
            sender_id=sender_id,
            date=int(time.time()),
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        return message

    def _existing(self, chat: Chat, message_id: int | None) -> StoredMessage | None:
        message = chat.messages.get(message_id or 0)
        return None if message is None or message.deleted else message

    def _placement(
        self, chat: Chat, reply_to: int | None, thread_id: int | None, allow_missing: bool
    ) -> tuple[int | None, int | None, bool]:
        """Where a new message goes: (reply_to, message_thread_id, is_topic_message).

        In a forum topic every message without an explicit reply "replies" to the topic's
        first message; outside topics a supergroup reply carries the id of its chain's root as
        ``message_thread_id``. A reply to a message in another topic is a missing message.
        """
        replied = self._existing(chat, reply_to)
        if thread_id is not None and chat.type == "supergroup":
            if chat.is_forum and thread_id not in chat.topics:
                raise bad_request("message thread not found")
            if not chat.is_forum and self._existing(chat, thread_id) is None:
                raise bad_request("message thread not found")
            if replied is not None and (replied.thread_id or replied.message_id) != thread_id:
                replied = None
        if reply_to is not None and replied is None and not allow_missing:
            raise bad_request("message to be replied not found")
        if chat.type != "supergroup":
            return (replied.message_id if replied else None), None, False
        if chat.is_forum and thread_id is not None:
            return (replied.message_id if replied else thread_id), thread_id, True
        if replied is None:
            return None, thread_id, False
        if replied.is_topic_message:
            return replied.message_id, replied.thread_id, True
        return replied.message_id, replied.thread_id or replied.message_id, False

    def _reply_target(self, args: Args) -> tuple[int | None, bool]:
        params = args.structured("reply_parameters", "reply parameters")
        if params is None:
            return args.integer("reply_to_message_id"), args.flag("allow_sending_without_reply")
        if not isinstance(params, dict):
            raise bad_request("can't parse reply parameters JSON object")
        nested = Args(params)
        message_id = nested.integer("message_id")
        if message_id is None:
            raise bad_request("message to be replied not found")
        return message_id, nested.flag("allow_sending_without_reply")

    def _parsed_text(self, args: Args) -> tuple[str, list[Entity]]:
        raw = args.text("text")
        if raw is None:
            raise bad_request("message text is empty")
        try:
            entities_arg = args.structured("entities", "entities")
            if entities_arg is not None:
                # Explicit entities win over parse_mode, as in the Bot API.
                text, entities = raw, check_entities(entities_arg, raw, self._lookup_user)
            else:
                text, entities = parse_text(raw, args.text("parse_mode"), self._lookup_user)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except EntitiesError as exc:
            raise bad_request(str(exc)) from None
        text, entities = finish(text, entities)
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT_UTF16:
            raise bad_request("message is too long")
        return text, entities

    def _markup(self, args: Args) -> tuple[JSONDict | None, JSONDict | None]:
        """(inline keyboard, force reply) from ``reply_markup``; only the first is shown back."""
        markup = args.structured("reply_markup", "reply keyboard markup")
        if markup is None:
            return None, None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            return {"inline_keyboard": _check_keyboard(markup["inline_keyboard"])}, None
        if markup.get("force_reply") is True:
            placeholder = markup.get("input_field_placeholder")
            if placeholder is not None and not (
                isinstance(placeholder, str) and 1 <= len(placeholder) <= 64
            ):
                raise bad_request("can't parse reply keyboard markup JSON object")
            return None, dict(markup)
        if "keyboard" in markup or markup.get("remove_keyboard") is True:
            return None, None
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _get_me(self, args: Args) -> JSONDict:
        return {
            **self._bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, args: Args) -> JSONDict:
        chat = self._chat(args)
        text, entities = self._parsed_text(args)
        preview = args.structured("link_preview_options", "link preview options")
        if preview is not None and not isinstance(preview, dict):
            raise bad_request("can't parse link preview options JSON object")
        keyboard, force_reply = self._markup(args)
        reply_to, allow_missing = self._reply_target(args)
        placement = self._placement(
            chat, reply_to, args.integer("message_thread_id"), allow_missing
        )
        self._rate_limit(chat)
        message = self._new_message(
            chat,
            self.bot_id,
            text=text,
            entities=entities,
            reply_to=placement[0],
            thread_id=placement[1],
            is_topic_message=placement[2],
            reply_markup=keyboard,
            force_reply=force_reply,
        )
        return self._message_json(message)

    def _own_message(self, args: Args) -> tuple[Chat, StoredMessage]:
        if args.raw("inline_message_id") is not None:
            raise bad_request("inline messages are not supported by the emulator")
        chat = self._chat(args)
        message = self._existing(chat, args.integer("message_id"))
        if message is None:
            raise bad_request("message to edit not found")
        if message.sender_id != self.bot_id or message.text is None:
            raise bad_request("message can't be edited")
        return chat, message

    def _edit_message_text(self, args: Args) -> JSONDict:
        chat, message = self._own_message(args)
        text, entities = self._parsed_text(args)
        # An edit without reply_markup removes the inline keyboard: Telegram keeps only what
        # each edit sends.
        keyboard, _ = self._markup(args)
        if (text, entities, keyboard) == (message.text, message.entities, message.reply_markup):
            raise bad_request(NOT_MODIFIED)
        self._rate_limit(chat)
        message.text, message.entities, message.reply_markup = text, entities, keyboard
        message.edit_date = int(time.time())
        return self._message_json(message)

    def _edit_message_reply_markup(self, args: Args) -> JSONDict:
        chat, message = self._own_message(args)
        keyboard, _ = self._markup(args)
        if keyboard == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        self._rate_limit(chat)
        message.reply_markup = keyboard
        message.edit_date = int(time.time())
        return self._message_json(message)

    def _delete_message(self, args: Args) -> bool:
        chat = self._chat(args)
        message = self._existing(chat, args.integer("message_id"))
        if message is None:
            raise bad_request("message to delete not found")
        if message.service.get("forum_topic_created"):
            raise bad_request("message can't be deleted")
        message.deleted = True
        return True

    def _answer_callback_query(self, args: Args) -> bool:
        query = self._queries.get(args.text("callback_query_id") or "")
        if query is None or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = args.text("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text or None,
            "show_alert": args.flag("show_alert"),
            "url": args.text("url"),
            "cache_time": args.integer("cache_time") or 0,
            "time": time.time(),
        }
        return True

    def _command_scope(self, args: Args) -> str:
        scope = args.structured("scope", "bot command scope")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        language = args.text("language_code") or ""
        return json.dumps({"scope": scope, "language_code": language}, sort_keys=True)

    def _set_my_commands(self, args: Args) -> bool:
        commands = args.structured("commands", "bot commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse bot commands JSON object")
        checked: list[JSONDict] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse bot commands JSON object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not COMMAND_RE.match(command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": command, "description": description})
        self._commands[self._command_scope(args)] = checked
        return True

    def _get_my_commands(self, args: Args) -> list[JSONDict]:
        return [dict(c) for c in self._commands.get(self._command_scope(args), [])]

    def _delete_my_commands(self, args: Args) -> bool:
        self._commands.pop(self._command_scope(args), None)
        return True

    def _get_chat(self, args: Args) -> JSONDict:
        chat = self._chat(args)
        info = self._chat_json(chat)
        info.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return info

    def _member_json(self, chat: Chat, user_id: int) -> JSONDict:
        user = self._user_json(user_id)
        if chat.type == "private":
            in_chat = user_id in (chat.id, self.bot_id)
            return {"user": user, "status": "member" if in_chat else "left"}
        if user_id == self.bot_id and chat.status == "member":
            return {"user": user, "status": "member"}
        if user_id == self.bot_id or (user_id in chat.admins and chat.admins[0] != user_id):
            rights = {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": user_id != self.bot_id,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
            if chat.is_forum:
                rights["can_manage_topics"] = True
            return {"user": user, "status": "administrator", **rights}
        if user_id in chat.admins:
            return {"user": user, "status": "creator", "is_anonymous": False}
        return {"user": user, "status": "member"}

    def _get_chat_member(self, args: Args) -> JSONDict:
        chat = self._chat(args)
        user_id = args.integer("user_id")
        if user_id is None or (user_id != self.bot_id and user_id not in self.users):
            raise bad_request("user not found")
        return self._member_json(chat, user_id)

    def _get_chat_administrators(self, args: Args) -> list[JSONDict]:
        chat = self._chat(args)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [a for a in chat.admins if a in self.users]
        return [self._member_json(chat, a) for a in [*admins, self.bot_id]]

    def _create_forum_topic(self, args: Args) -> JSONDict:
        chat = self._chat(args)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        name = args.text("name") or ""
        color = args.integer("icon_color")
        if color is not None and color not in TOPIC_COLORS:
            raise bad_request("TOPIC_ICON_COLOR_INVALID")
        self._rate_limit(chat)
        topic = self._open_topic(chat, self.bot_id, name, color)
        emoji = args.text("icon_custom_emoji_id")
        if emoji:
            topic["icon_custom_emoji_id"] = emoji
        return dict(topic)

    def _open_topic(self, chat: Chat, creator: int, name: str, color: int | None) -> JSONDict:
        """A forum topic is its first (service) message; its id is that message's id."""
        if not 1 <= len(name) <= 128:
            raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
        color = color if color is not None else secrets.choice(TOPIC_COLORS)
        created = {"name": name, "icon_color": color}
        message = self._new_message(
            chat, creator, service={"forum_topic_created": created}, is_topic_message=True
        )
        message.thread_id = message.message_id
        topic = {"message_thread_id": message.message_id, "name": name, "icon_color": color}
        chat.topics[message.message_id] = topic
        # Service messages reach the bot even when the bot caused them.
        self._emit("message", self._message_json(message))
        return topic

    def _send_chat_action(self, args: Args) -> bool:
        self._chat(args)
        if args.text("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # -- control API: reading --------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[JSONDict]:
        """The chat's messages as they stand now, oldest first (deleted ones left out)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                raise ControlError(f"no chat {chat_id}", 404)
            return [self._control_message(m) for m in chat.messages.values() if not m.deleted]

    def _control_message(self, message: StoredMessage) -> JSONDict:
        out: JSONDict = {
            "message_id": message.message_id,
            "from": self._user_json(message.sender_id),
            "date": message.date,
            "text": message.text,
            "entities": [dict(e) for e in message.entities],
            "html": render_html(message.text, message.entities) if message.text else None,
            "reply_markup": message.reply_markup,
            "force_reply": message.force_reply,
            "reply_to_message_id": message.reply_to,
            "message_thread_id": message.thread_id,
            "is_topic_message": message.is_topic_message,
            "edit_date": message.edit_date,
        }
        out.update(message.service)
        return out

    def answers(self, callback_query_id: str | None = None) -> JSONDict:
        with self._lock:
            if callback_query_id is None:
                return {"answers": [self._answer_json(q) for q in self._queries.values()]}
            query = self._queries.get(callback_query_id)
            if query is None:
                raise ControlError(f"no callback query {callback_query_id!r} was issued", 404)
            return self._answer_json(query)

    @staticmethod
    def _answer_json(query: CallbackQuery) -> JSONDict:
        out: JSONDict = {
            "callback_query_id": query.id,
            "chat_id": query.chat_id,
            "message_id": query.message_id,
            "user_id": query.user_id,
            "data": query.data,
            "answered": query.answer is not None,
        }
        out.update(query.answer or {"text": None, "show_alert": False, "url": None})
        return out

    def commands(self) -> JSONDict:
        with self._lock:
            default = json.dumps(
                {"scope": {"type": "default"}, "language_code": ""}, sort_keys=True
            )
            scoped = [{**json.loads(k), "commands": v} for k, v in self._commands.items()]
            return {"commands": list(self._commands.get(default, [])), "scopes": scoped}

    # -- control API: people acting --------------------------------------------------------------

    def _control_user(self, data: JSONDict) -> int:
        user_id = _control_int(data, "user_id")
        if user_id not in self.users:
            raise ControlError(f"no user {user_id} (users: {sorted(self.users)})")
        return user_id

    def _control_chat(self, data: JSONDict, *, usable: bool = True) -> Chat:
        chat_id = _control_int(data, "chat_id")
        chat = self._chats.get(chat_id)
        if chat is None:
            raise ControlError(f"no chat {chat_id} (chats: {sorted(self._chats)})")
        if usable and chat.migrated_to is not None:
            raise ControlError(f"chat {chat_id} was upgraded to supergroup {chat.migrated_to}")
        if usable and chat.status == "kicked":
            raise ControlError(f"the bot was removed from chat {chat_id}")
        return chat

    def send(self, data: JSONDict) -> JSONDict:
        """A user writes in a chat; the bot gets it as a ``message`` update."""
        with self._lock:
            user_id = self._control_user(data)
            chat = self._control_chat(data)
            if chat.type == "private" and chat.id != user_id:
                raise ControlError(f"chat {chat.id} is the private chat of another user")
            text = data.get("text")
            if not isinstance(text, str):
                raise ControlError("text must be a string")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                # Telegram apps send UTF-8: a lone surrogate cannot come from a person.
                raise ControlError(
                    "text must be valid Unicode (it holds a lone surrogate)"
                ) from None
            text, entities = finish(text, [])
            if not text or utf16_len(text) > MAX_TEXT_UTF16:
                raise ControlError("text must be 1..4096 UTF-16 code units after trimming")
            reply_to = _optional_int(data, "reply_to_message_id")
            thread_id = _optional_int(data, "message_thread_id")
            try:
                placement = self._placement(chat, reply_to, thread_id, False)
            except BotApiError as exc:
                raise ControlError(exc.description.removeprefix("Bad Request: ")) from None
            message = self._new_message(
                chat,
                user_id,
                text=text,
                entities=entities,
                reply_to=placement[0],
                thread_id=placement[1],
                is_topic_message=placement[2],
            )
            update_id = self._emit("message", self._message_json(message))
            return {"message_id": message.message_id, "update_id": update_id}

    def press(self, data: JSONDict) -> JSONDict:
        """A user presses an inline button; the bot gets a ``callback_query`` update."""
        with self._lock:
            user_id = self._control_user(data)
            chat = self._control_chat(data)
            message_id = _control_int(data, "message_id")
            action = data.get("action")
            if not isinstance(action, str) or not action:
                raise ControlError("action must be a non-empty string")
            message = self._existing(chat, message_id)
            if message is None:
                raise ControlError(f"no message {message_id} in chat {chat.id}", 404)
            button = _find_button(message.reply_markup, action)
            query = CallbackQuery(
                id=str(secrets.randbits(62)),
                user_id=user_id,
                chat_id=chat.id,
                message_id=message_id,
                data=button["callback_data"],
            )
            self._queries[query.id] = query
            payload = {
                "id": query.id,
                "from": self._user_json(user_id),
                "message": self._message_json(message),
                "chat_instance": self._chat_instance(chat.id),
                "data": query.data,
            }
            update_id = self._emit("callback_query", payload)
            return {"update_id": update_id, "callback_query_id": query.id, "data": query.data}

    def update(self, update_id: int) -> JSONDict:
        """An update exactly as it was issued, for whoever replays it (a test plays an
        attacker who captured a webhook call)."""
        with self._lock:
            update = self._history.get(update_id)
            if update is None:
                raise ControlError(f"no update {update_id} was issued", 404)
            return {"update": json.loads(json.dumps(update))}

    def redeliver(self, data: JSONDict) -> JSONDict:
        """Deliver an update again, as Telegram does when the bot did not confirm it."""
        with self._lock:
            update_id = _control_int(data, "update_id")
            update = self._history.get(update_id)
            if update is None:
                raise ControlError(f"no update {update_id} was issued", 404)
            if not any(u is update for u in self._queue + self._redeliveries):
                self._redeliveries.append(update)
            self._notify()
            return {
                "update_id": update_id,
                "pending_update_count": len(self._queue) + len(self._redeliveries),
            }

    def kick(self, data: JSONDict) -> JSONDict:
        """Someone removes the bot: every later call about the chat gets 403."""
        with self._lock:
            chat = self._control_chat(data)
            by = self._actor(data, chat)
            old = self._member_json(chat, self.bot_id)
            chat.status = "kicked"
            # Removed from a basic group the bot has "left"; banned or blocked it is "kicked".
            if chat.type == "group":
                new: JSONDict = {"user": self._bot_json(), "status": "left"}
            else:
                new = {"user": self._bot_json(), "status": "kicked", "until_date": 0}
            update_id = self._emit(
                "my_chat_member",
                {
                    "chat": self._chat_json(chat),
                    "from": self._user_json(by),
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                },
            )
            return {"chat_id": chat.id, "update_id": update_id}

    def _actor(self, data: JSONDict, chat: Chat) -> int:
        """Who does a control action: ``user_id`` if given, else the chat's creator or a user."""
        if data.get("user_id") is not None:
            return self._control_user(data)
        candidates = [a for a in chat.admins if a in self.users] or sorted(self.users)
        if not candidates:
            raise ControlError("give user_id: the emulator has no users to act")
        return candidates[0]

    def migrate(self, data: JSONDict) -> JSONDict:
        """Upgrade a basic group to a supergroup with a new -100... id, as Telegram does."""
        with self._lock:
            old = self._control_chat(data)
            if old.type != "group":
                raise ControlError(f"chat {old.id} is a {old.type}; only groups can be upgraded")
            by = self._actor(data, old)
            new_id = -(10**12 + 10**9 + secrets.randbelow(9 * 10**9))
            while new_id in self._chats:
                new_id -= 1
            self._chats[new_id] = Chat(new_id, old.title, "supergroup", False, list(old.admins))
            old.migrated_to = new_id
            left = self._new_message(old, by, service={"migrate_to_chat_id": new_id})
            first = self._new_message(
                self._chats[new_id], by, service={"migrate_from_chat_id": old.id}
            )
            update_ids = [
                self._emit("message", self._message_json(left)),
                self._emit("message", self._message_json(first)),
            ]
            return {"migrate_to_chat_id": new_id, "update_ids": update_ids}

    def open_topic(self, data: JSONDict) -> JSONDict:
        """A person creates a forum topic; returns its ``message_thread_id``."""
        with self._lock:
            chat = self._control_chat(data)
            if not chat.is_forum:
                raise ControlError(f"chat {chat.id} is not a forum supergroup")
            name = data.get("name")
            if not isinstance(name, str) or not 1 <= len(name) <= 128:
                raise ControlError("name must be a string of 1..128 characters")
            topic = self._open_topic(chat, self._actor(data, chat), name, None)
            return dict(topic)


def _check_keyboard(rows: Any) -> list[list[JSONDict]]:
    """An inline keyboard as Telegram validates it (and stores it)."""
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    checked: list[list[JSONDict]] = []
    for row in rows:
        checked_row: list[JSONDict] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            kinds = [k for k in BUTTON_KINDS if k in button]
            if not kinds:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not _valid_button_url(button["url"]):
                raise bad_request("BUTTON_URL_INVALID")
            checked_row.append(dict(button))
        if checked_row:
            checked.append(checked_row)
    return checked


def _valid_button_url(url: Any) -> bool:
    return isinstance(url, str) and re.match(r"^(https?|tg)://\S+$", url) is not None


def _find_button(markup: JSONDict | None, action: str) -> JSONDict:
    """The button whose callback_data is ``action`` or starts with ``action:``."""
    buttons: list[JSONDict] = [b for row in (markup or {}).get("inline_keyboard", []) for b in row]
    for button in buttons:
        data = button.get("callback_data")
        if isinstance(data, str) and (data == action or data.split(":", 1)[0] == action):
            return button
    have = [b.get("callback_data") for b in buttons if "callback_data" in b]
    raise ControlError(f"the message has no button for action {action!r} (callback_data: {have})")


def _control_int(data: JSONDict, name: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{name} must be an integer")
    return value


def _optional_int(data: JSONDict, name: str) -> int | None:
    return None if data.get(name) is None else _control_int(data, name)


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("strings must be encoded in UTF-8") from None


def _form(text: str) -> JSONDict:
    try:
        return dict(parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"))
    except UnicodeDecodeError:
        raise bad_request("strings must be encoded in UTF-8") from None


def _multipart(body: bytes, content_type: str) -> JSONDict:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    values: JSONDict = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            values[name] = _utf8(payload)
    return values


async def _read_args(request: Request) -> JSONDict:
    """A method's arguments from the query string and a form, multipart or JSON body."""
    values = _form(request.scope.get("query_string", b"").decode("latin-1"))
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BotApiError(413, "Request Entity Too Large")
    content_type = request.headers.get("content-type", "")
    if not body:
        return values
    if "application/json" in content_type:
        try:
            data = json.loads(_utf8(body)) if body.strip() else {}
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(data, dict):
            raise bad_request("can't parse JSON object")
        values.update(data)
    elif "multipart/form-data" in content_type:
        values.update(_multipart(body, content_type))
    else:
        values.update(_form(_utf8(body)))
    return values


async def _control_body(request: Request) -> JSONDict:
    try:
        return await read_json_object(request)
    except ValueError as exc:
        raise ControlError(str(exc)) from None


def _control(action: Callable[[JSONDict], JSONDict]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(action(await _control_body(request)))
        except ControlError as exc:
            return exc.response()

    return endpoint


def create_app(emulator: TelegramEmulator) -> ASGIApp:
    """The emulator's ASGI app: ``/bot<token>/<method>`` plus the control API, wrapped."""
    control = CONTROL_PREFIX

    async def get_messages(request: Request) -> Response:
        try:
            raw = request.query_params.get("chat_id", "")
            try:
                chat_id = int(raw)
            except ValueError:
                raise ControlError("chat_id must be an integer") from None
            return JSONResponse({"messages": emulator.messages(chat_id)})
        except ControlError as exc:
            return exc.response()

    async def get_answers(request: Request) -> Response:
        try:
            return JSONResponse(emulator.answers(request.query_params.get("callback_query_id")))
        except ControlError as exc:
            return exc.response()

    async def get_update(request: Request) -> Response:
        try:
            raw = request.query_params.get("update_id", "")
            try:
                update_id = int(raw)
            except ValueError:
                raise ControlError("update_id must be an integer") from None
            return JSONResponse(emulator.update(update_id))
        except ControlError as exc:
            return exc.response()

    async def get_commands(request: Request) -> Response:
        return JSONResponse(emulator.commands())

    routes = [
        Route("/bot{token}/{method}", emulator.api, methods=["GET", "POST"]),
        *emulator.core.control_routes(),
        Route(f"{control}/messages", get_messages, methods=["GET"]),
        Route(f"{control}/answers", get_answers, methods=["GET"]),
        Route(f"{control}/updates", get_update, methods=["GET"]),
        Route(f"{control}/commands", get_commands, methods=["GET"]),
        Route(f"{control}/send", _control(emulator.send), methods=["POST"]),
        Route(f"{control}/press", _control(emulator.press), methods=["POST"]),
        Route(f"{control}/redeliver", _control(emulator.redeliver), methods=["POST"]),
        Route(f"{control}/kick", _control(emulator.kick), methods=["POST"]),
        Route(f"{control}/migrate", _control(emulator.migrate), methods=["POST"]),
        Route(f"{control}/topics", _control(emulator.open_topic), methods=["POST"]),
    ]
    return emulator.core.wrap(Starlette(routes=routes))
