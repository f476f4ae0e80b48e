"""The Telegram emulator's state: one bot, its chats, the people who write in them, the
messages and the pending updates, behind one lock (uvicorn serves it from its own thread while
tests read it from theirs).

:class:`TelegramState` holds them and what both the Bot API (:mod:`emulators.telegram.api`)
and the control API (:mod:`emulators.telegram.control`) do with them: the JSON shapes of users,
chats, members and messages, new messages placed in their thread or topic, forum topics opened,
updates queued for the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

from emulators.core import EmulatorCore
from emulators.telegram.model import (
    OPT_IN_UPDATES,
    TOKEN_RE,
    TOPIC_COLORS,
    CallbackQuery,
    Chat,
    JSONDict,
    StoredMessage,
    Webhook,
    bad_request,
    fault_response,
)


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


class TelegramState:
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

    # -- messages --------------------------------------------------------------------------------

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
