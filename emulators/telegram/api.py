"""The Telegram Bot API the emulator serves to the real python-telegram-bot client
(``base_url=<url>/bot``): ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "...", "parameters": {...}}`` with HTTP status N, in Telegram's own wording;
texts parsed into plain text plus UTF-16 entities, per-chat message ids, Telegram's flood
limits. getUpdates and the webhook methods are in :mod:`emulators.telegram.updates`.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulators.clock import Rule, whole_seconds
from emulators.core import MAX_BODY_BYTES
from emulators.telegram.model import (
    BOT_RATE,
    BUTTON_KINDS,
    CHAT_ACTIONS,
    CHAT_RATE,
    COMMAND_RE,
    GROUP_RATE,
    MAX_CALLBACK_DATA,
    NOT_MODIFIED,
    TOKEN_RE,
    TOPIC_COLORS,
    Args,
    BotApiError,
    Chat,
    Described,
    JSONDict,
    StoredMessage,
    bad_request,
    too_many_requests,
)
from emulators.telegram.parse_modes import parse_text
from emulators.telegram.text import (
    MAX_TEXT_UTF16,
    EntitiesError,
    Entity,
    EntityParseError,
    check_entities,
    finish,
    utf16_len,
)
from emulators.telegram.updates import TelegramUpdates


class TelegramBotApi(TelegramUpdates):
    """The Bot API's methods, each answering from the state under its lock."""

    @cached_property
    def _methods(self) -> dict[str, Callable[[Args], Any]]:
        return {
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

    def _send_chat_action(self, args: Args) -> bool:
        self._chat(args)
        if args.text("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True


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
