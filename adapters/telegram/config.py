"""Telegram in the config: a destination is a group (or a topic of a forum), a person is known
by their numeric user id."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from adapters.telegram import texts
from bridge.chats import ChatDestination, ChatPlatform
from bridge.text.i18n import _


class TelegramDestination(ChatDestination):
    chat: Literal["telegram"]
    # Group ids are negative; supergroups start with -100 and exceed 32 bits.
    chat_id: int
    topic: Annotated[int, Field(gt=0)] | None = None

    @property
    def address(self) -> str:
        return str(self.chat_id)

    def describe(self) -> str:
        if self.topic:
            return _("Telegram chat {chat}, topic {topic}", chat=self.chat_id, topic=self.topic)
        return _("Telegram chat {chat}", chat=self.chat_id)


TELEGRAM = ChatPlatform(
    name="telegram",
    label="Telegram",
    destination=TelegramDestination,
    user_id=Annotated[int, Field(gt=0)],
    command_prefix="/",
    link_command=texts.link_command,
    unlink_command=texts.unlink_command,
    help=lambda _prefix: texts.help_text(),
)
