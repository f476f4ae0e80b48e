"""The Telegram emulator's control API: reading chats, button answers, commands and issued
updates as they stand, and doing what people do in a Telegram client (write, reply, press a
button, open a forum topic, remove the bot, upgrade a group), each reaching the bot as the
update Telegram would send.
"""

from __future__ import annotations

import json
import secrets
import time

from emulators.telegram.model import (
    BotApiError,
    CallbackQuery,
    Chat,
    ControlError,
    JSONDict,
    StoredMessage,
)
from emulators.telegram.state import TelegramState
from emulators.telegram.text import MAX_TEXT_UTF16, finish, render_html, utf16_len


class TelegramControl(TelegramState):
    """The control API's readings and people's actions, for tests and the demo."""

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
