"""What the bot says in Telegram, as answers that wait their turn in the chat's pace.

Handlers describe an answer (a reply to a message, an edit of one of the bot's messages, a word
in a person's private chat), queue it (:mod:`bridge.pipeline.answers`) and return; when its
turn comes, :func:`call_of` makes python-telegram-bot's arguments of it again. A reply goes where
``Message.reply_text`` puts one: in a group under the message answered, in its forum topic.
The answer to a button press (the toast) is not a message and is not queued: Telegram counts it
against no chat's limit, and refuses it once the press is a few seconds old
(``staff.answer_button``).
"""

from __future__ import annotations

from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup, LinkPreviewOptions, Message, ReplyParameters
from telegram.constants import ChatType

from bridge.pipeline.answers import AnswerQueue

Markup = InlineKeyboardMarkup | ForceReply


class Answers:
    """The bot's answers, queued on ``queue`` by the chat they go to."""

    def __init__(self, queue: AnswerQueue) -> None:
        self.queue = queue

    async def reply(
        self,
        message: Message,
        text: str,
        *,
        markup: Markup | None = None,
        parse_mode: str | None = None,
        shows: tuple[str, str] | None = None,
    ) -> None:
        """Answer ``message``. ``shows``: the thread and mention the answer stands for (a
        question staff answer by replying to it)."""
        answer: dict[str, Any] = {"op": "send", "chat_id": message.chat_id, "text": text}
        if parse_mode:
            answer["parse_mode"] = parse_mode
        if message.chat.type != ChatType.PRIVATE:
            answer["reply_to"] = message.message_id
        if message.is_topic_message and message.message_thread_id:
            answer["topic"] = message.message_thread_id
        if markup is not None:
            answer["markup"] = markup.to_dict()
        await self.queue.put(str(message.chat_id), answer, shows=shows)

    async def edit(self, message: Message, text: str) -> None:
        """Replace the text of one of the bot's messages (its buttons go)."""
        answer = {
            "op": "edit",
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "text": text,
        }
        await self.queue.put(str(message.chat_id), answer)

    async def tell(self, chat_id: int, text: str) -> None:
        """A word in a private chat with the bot."""
        await self.queue.put(str(chat_id), {"op": "send", "chat_id": chat_id, "text": text})


def call_of(answer: dict[str, Any], bot: Any) -> tuple[str, dict[str, Any]]:
    """What to call for a queued answer ("send" or "edit") and python-telegram-bot's arguments;
    link previews stay off (a link in an answer is for following, not for a card)."""
    kwargs: dict[str, Any] = {
        "chat_id": int(answer["chat_id"]),
        "text": str(answer["text"]),
        "link_preview_options": LinkPreviewOptions(is_disabled=True),
    }
    if answer.get("parse_mode"):
        kwargs["parse_mode"] = str(answer["parse_mode"])
    if answer.get("op") == "edit":
        return "edit", {**kwargs, "message_id": int(answer["message_id"])}
    if answer.get("reply_to"):
        kwargs["reply_parameters"] = ReplyParameters(
            message_id=int(answer["reply_to"]), allow_sending_without_reply=True
        )
    if answer.get("topic"):
        kwargs["message_thread_id"] = int(answer["topic"])
    markup = answer.get("markup")
    if markup:
        kind = ForceReply if "force_reply" in markup else InlineKeyboardMarkup
        kwargs["reply_markup"] = kind.de_json(markup, bot)
    return "send", kwargs
