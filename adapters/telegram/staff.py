"""What staff do in Telegram: answer a mirrored mention, and link their own X account.

A reply starts with a button on the mirrored message (or by answering that message directly);
the text comes back as a preview with one send button per identity the person may use, and
pressing one queues the reply on the desk. Linking (/link, /pin, /unlink, or a PIN pasted on its
own) works only in a private chat with the bot, where links and PINs stay private.

``TelegramChat`` owns the bot and registers these handlers, after its gate has dropped repeated
updates and anything from unknown chats. What they say in chat is queued (``answers``) and goes
out in the chat's pace; only the answer to a button press (the toast) is made at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import uuid
from collections.abc import Callable, Collection

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes

from adapters.telegram import render, texts
from adapters.telegram.answers import Answers
from adapters.telegram.errors import retry_after_s
from bridge.actions import (
    ActionDispatcher,
    Actor,
    Admin,
    AskDismissal,
    Assign,
    ChatAction,
    ChatStyle,
    Claim,
    Dismiss,
    Link,
    PreviewReply,
    Release,
    SubmitReply,
    parse_command,
)
from bridge.config import Config, PersonConfig
from bridge.desks.claims import DISMISS_REASONS
from bridge.desks.replies import ReplyRefused
from bridge.desks.strangers import refuse_stranger
from bridge.domain.models import Identity, MentionCard, MirrorRef
from bridge.store.store import Store
from bridge.text import messages

log = logging.getLogger(__name__)
# A report in <pre> stays under Telegram's 4,096 characters with room for the markup.
REPORT_LIMIT = 3900

REPLY_ACTIONS = ("reply_institution", "reply_personal", "reply_again")
DRAFT_ACTIONS = ("send_institution", "send_personal", "cancel")
DRAFT_TTL_S = 86400
# Telegram keeps an unconfirmed update for 24 hours: an action is remembered for two days.
ACTION_KEEP_S = 2 * 86400
# The longest flood-control wait before answering a button press (a press goes stale in seconds).
BUTTON_ANSWER_WAIT_MAX_S = 3.0


def action_identity(update: Update) -> str | None:
    """What stays the same however often one action arrives, even in an update with another
    update_id: the callback query's id of a button press, the chat and message id of a command
    or a message."""
    if update.callback_query is not None:
        return f"callback:{update.callback_query.id}"
    message = update.message
    if message is not None:
        return f"message:{message.chat_id}:{message.message_id}"
    return None


def stranger_action(
    update: Update, *, bot_id: int, bot_username: str, commands: Collection[str]
) -> str | None:
    """What someone not in ``people`` asked of this bot, when the update is an action: a button
    press, one of its ``commands`` (not another bot's), or an answer to one of its messages.
    None for anything else they say."""
    if update.callback_query is not None:
        return f"button {(update.callback_query.data or '').partition(':')[0]}"
    message = update.message
    if message is None or message.text is None:
        return None
    if message.text.startswith("/"):
        name, _, addressee = message.text.split()[0][1:].partition("@")
        ours = name.lower() in commands and addressee.lower() in ("", bot_username.lower())
        return f"/{name.lower()}" if ours else None
    answered = message.reply_to_message
    if answered is not None and answered.from_user is not None and answered.from_user.id == bot_id:
        return "reply"
    return None


class StaffHandlers:
    """The python-telegram-bot handlers for staff's buttons, replies, /help and linking."""

    def __init__(
        self,
        *,
        chat: str,
        config: Callable[[], Config],
        store: Store,
        actions: ActionDispatcher,
        person: Callable[[int | None], PersonConfig | None],
        answers: Answers,
    ) -> None:
        self.chat = chat
        self._answers = answers
        self._config = config
        self._store = store
        self._actions = actions
        self._person = person
        self._style = ChatStyle(prefix="/", link_of=message_link)

    def _actor(self, person: PersonConfig, user: object, message: Message | None) -> Actor:
        """``person`` as ``user`` (their Telegram id), acting in ``message``'s chat."""
        topic = message.message_thread_id if message and message.is_topic_message else None
        where = str(message.chat_id) if message else ""
        return Actor(person=person, chat=self.chat, user_id=str(user), where=where, topic=topic)

    async def _dispatch(self, action: ChatAction[str]) -> str:
        return await self._actions.dispatch(action)

    async def answer_stranger(self, update: Update, asked: str) -> None:
        """Someone not in ``people`` acted: told so once a minute in this chat, otherwise not
        answered at all (not even the button's spinner: that too is a call to Telegram)."""
        chat, user = update.effective_chat, update.effective_user
        where = str(chat.id) if chat else "-"
        user_id = str(user.id) if user else "-"
        log.warning("refused %s by Telegram user %s in %s: not in people", asked, user_id, where)
        if not await refuse_stranger(
            self._store, chat=self.chat, where=where, user_id=user_id, what=asked
        ):
            return
        text = messages.unknown_person()
        if update.callback_query is not None:
            await answer_button(update.callback_query, text)
        elif update.effective_message is not None:
            await self._answers.reply(update.effective_message, text)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query: CallbackQuery | None = update.callback_query
        if query is None:
            return
        action, _, argument = (query.data or "").partition(":")
        person = self._person(query.from_user.id if query.from_user else None)
        text: str | None
        if person is None:
            log.warning("refused %s by unknown Telegram user %s", action, query.from_user.id)
            text = messages.unknown_person()
        elif action in REPLY_ACTIONS and self._actions.handles(SubmitReply):
            text = await self._ask_for_reply(query, person)
        elif action in DRAFT_ACTIONS and self._actions.handles(SubmitReply):
            text = await self._on_draft(query, person, action, argument)
        elif action in ("claim", "release", "dismiss", "dreason") and self._actions.handles(Claim):
            text = await self._on_thread_action(query, person, action, argument)
        else:
            log.info("%s pressed %s in Telegram (not available yet)", person.key, action)
            text = messages.not_available_yet(action)
        await answer_button(query, text)

    async def _on_thread_action(
        self, query: CallbackQuery, person: PersonConfig, action: str, argument: str
    ) -> str | None:
        """Claim and release on a mirror; Dismiss asks why, and a reason button dismisses."""
        message = query.message
        if not isinstance(message, Message):
            return messages.reply_thread_gone()
        shown = await self._store.shown_in(self.chat, str(message.chat_id), str(message.message_id))
        if shown is None:
            return messages.reply_thread_gone()
        thread_id = shown[0]
        actor = self._actor(person, query.from_user.id, message)
        if action == "claim":
            return await self._dispatch(Claim(actor, thread_id))
        if action == "release":
            return await self._dispatch(Release(actor, thread_id))
        if action == "dismiss":
            refused = await self._actions.dispatch(AskDismissal(actor, thread_id))
            return refused or await self._ask_dismiss_reason(message, thread_id, shown[1])
        if argument == "cancel":
            answer = None
        else:
            answer = await self._dispatch(Dismiss(actor, thread_id, reason=argument))
        with contextlib.suppress(TelegramError):
            await message.delete()
        return answer

    async def _ask_dismiss_reason(
        self, mirror: Message, thread_id: str, mention_id: str
    ) -> str | None:
        buttons = [
            InlineKeyboardButton(messages.dismiss_reason_label(r), callback_data=f"dreason:{r}")
            for r in DISMISS_REASONS
        ]
        rows = [
            buttons[:2],
            buttons[2:],
            [InlineKeyboardButton(texts.cancel(), callback_data="dreason:cancel")],
        ]
        await self._answers.reply(
            mirror,
            messages.dismiss_question(),
            markup=InlineKeyboardMarkup(rows),
            shows=(thread_id, mention_id),
        )
        return None

    async def _ask_for_reply(self, query: CallbackQuery, person: PersonConfig) -> str | None:
        """A reply button: ask for the text with a message the person answers (ForceReply)."""
        message = query.message
        if not isinstance(message, Message):
            return messages.reply_thread_gone()
        shown = await self._store.shown_in(self.chat, str(message.chat_id), str(message.message_id))
        if shown is None:
            return messages.reply_thread_gone()
        await self._answers.reply(
            message,
            texts.write_reply(name=person.name or person.key),
            markup=ForceReply(selective=True),
            shows=shown,
        )
        return None

    async def on_reply_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text written in reply to a mirrored mention (or to our prompt): show a preview with
        the send buttons this person may use."""
        message = update.effective_message
        if (
            message is None
            or message.reply_to_message is None
            or not self._actions.handles(PreviewReply)
        ):
            return
        shown = await self._store.shown_in(
            self.chat, str(message.chat_id), str(message.reply_to_message.message_id)
        )
        if shown is None:
            return
        user = message.from_user.id if message.from_user else None
        person = self._person(user)
        if person is None:
            await self._answers.reply(message, messages.unknown_person())
            return
        actor = self._actor(person, user, message)
        preview = await self._actions.dispatch(
            PreviewReply(actor, shown[0], shown[1], message.text or "")
        )
        if preview is None:
            return
        if isinstance(preview, str):
            await self._answers.reply(message, preview)
            return
        draft_id = uuid.uuid4().hex[:12]
        # Answering a mirror of an answered thread is a deliberate further reply.
        await self._store.save_draft(
            draft_id,
            {
                "thread": shown[0],
                "mention": shown[1],
                "text": preview.text,
                "person": person.key,
                "again": "1" if preview.again else "",
            },
            ttl_s=DRAFT_TTL_S,
        )
        buttons = (
            []
            if preview.length > preview.limit
            else [
                InlineKeyboardButton(
                    texts.send_as(identity.value, handle=handle),
                    callback_data=f"send_{identity.value}:{draft_id}",
                )
                for identity, handle in preview.identities
            ]
        )
        buttons.append(InlineKeyboardButton(texts.cancel(), callback_data=f"cancel:{draft_id}"))
        await self._answers.reply(
            message,
            render.reply_preview(preview),
            markup=InlineKeyboardMarkup([buttons]),
        )

    async def _on_draft(
        self, query: CallbackQuery, person: PersonConfig, action: str, draft_id: str
    ) -> str | None:
        """send_institution / send_personal / cancel on a preview."""
        draft = await self._store.draft(draft_id)
        preview = query.message if isinstance(query.message, Message) else None
        if not draft:
            return texts.draft_gone()
        if draft["person"] != person.key:
            return texts.not_your_draft()
        # Taking the draft is atomic: of two quick presses, only one sends.
        if not await self._store.take_draft(draft_id):
            return texts.draft_gone()
        if action == "cancel":
            if preview is not None:
                await self._answers.edit(preview, texts.cancelled())
            return None
        identity = Identity(action.removeprefix("send_"))
        reply = SubmitReply(
            self._actor(person, query.from_user.id, preview),
            thread_id=draft["thread"],
            mention_id=draft["mention"],
            text=draft["text"],
            identity=identity,
            again=bool(draft.get("again")),
        )
        try:
            queued = await self._actions.dispatch(reply)
        except ReplyRefused as refused:
            return refused.reason
        if preview is not None:
            await self._answers.edit(preview, queued + "\n\n" + draft["text"])
        return None

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await self._answers.reply(update.effective_message, texts.help_text())

    async def on_link_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/link, /pin <PIN>, /unlink: only in a private chat, where links and PINs stay private."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        await self._link_step(message)

    async def on_admin_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/rules, /route <text>, /reload: admins only, in a destination group or privately."""
        message = update.effective_message
        if message is None or message.text is None or not self._actions.handles(Admin):
            return
        user = message.from_user.id if message.from_user else None
        person = self._person(user)
        if person is None:
            return
        action = parse_command(message.text, self._actor(person, user, message), style=self._style)
        assert isinstance(action, Admin)
        answer, report = await self._actions.dispatch(action)
        if report:
            text, mode = f"<pre>{html.escape(answer[:REPORT_LIMIT])}</pre>", ParseMode.HTML
        else:
            text, mode = answer, None
        await self._answers.reply(message, text, parse_mode=mode)

    async def on_unanswered(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/unanswered [page]: open threads, oldest first, with links to their mirrors."""
        await self._answer_staff(update)

    async def on_show(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/show <ref>: post an open thread (one folded into a burst digest) here, with its
        buttons."""
        await self._answer_staff(update)

    async def _answer_staff(self, update: Update) -> None:
        """A command for staff only; anyone not on the staff list is told so."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        user = message.from_user.id if message.from_user else None
        person = self._person(user)
        if person is None:
            text = messages.unknown_person()
        else:
            actor = self._actor(person, user, message)
            action = parse_command(message.text, actor, style=self._style)
            assert not isinstance(action, Admin)
            text = await self._actions.dispatch(action)
        await self._answers.reply(message, text)

    async def on_assign(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/assign <ref> <person>, or /assign <person> in answer to a mirrored mention."""
        message = update.effective_message
        if message is None or message.text is None or not self._actions.handles(Assign):
            return
        user = message.from_user.id if message.from_user else None
        person = self._person(user)
        shown = None
        if message.reply_to_message is not None:
            shown = await self._store.shown_in(
                self.chat, str(message.chat_id), str(message.reply_to_message.message_id)
            )
        if person is None:
            answer = messages.unknown_person()
        else:
            actor = self._actor(person, user, message)
            action = parse_command(
                message.text, actor, style=self._style, in_reply_to=shown[0] if shown else None
            )
            assert not isinstance(action, Admin)
            answer = await self._actions.dispatch(action)
        await self._answers.reply(message, answer)

    async def on_pasted_pin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A PIN pasted on its own in the private chat finishes linking, like /pin."""
        message = update.effective_message
        if message is not None and message.text is not None:
            await self._link_step(message, pasted_pin=message.text)

    async def _link_step(self, message: Message, *, pasted_pin: str | None = None) -> None:
        """/link, /pin <PIN>, /unlink, or a PIN on its own (``pasted_pin``)."""
        user = message.from_user.id if message.from_user else None
        person = self._person(user)
        if person is None:
            answer = messages.unknown_person()
        elif message.chat.type != ChatType.PRIVATE:
            answer = texts.link_private_only()
        else:
            actor = self._actor(person, user, message)
            action = (
                Link(actor, "pin", pasted_pin, self._style)
                if pasted_pin is not None
                else parse_command(message.text or "", actor, style=self._style)
            )
            assert isinstance(action, Link)
            answer = await self._actions.dispatch(action)
        await self._answers.reply(message, answer)


async def answer_button(query: CallbackQuery, text: str | None) -> None:
    """Answer a button press at once, with ``text`` as an alert (or just end its spinner).

    Not a message: Telegram counts it against no chat's limit, so it takes no turn in the
    chat's pace; but a press goes stale within seconds (Telegram then refuses the answer as
    "query is too old"), so flood control's wait is honoured only when it is that short, and
    anything else is logged: the press's effect stands, its toast is lost.
    """
    for _ in range(2):
        try:
            await query.answer(text=text[:200] if text else None, show_alert=bool(text))
            return
        except RetryAfter as exc:
            wait = retry_after_s(exc)
            if wait > BUTTON_ANSWER_WAIT_MAX_S:
                log.warning("could not answer a button press: Telegram asks to wait %.0f s", wait)
                return
            await asyncio.sleep(wait)
        except TelegramError as exc:
            log.info("could not answer a button press: %s", exc)
            return


async def message_link(ref: MirrorRef) -> str | None:
    """t.me link to a message of a supergroup (members open it in their app); basic groups
    have none."""
    chat_id = int(ref.channel)
    if not str(chat_id).startswith("-100"):
        return None
    return f"https://t.me/c/{str(chat_id)[4:]}/{ref.message_id}"


async def with_origin_link(card: MentionCard) -> MentionCard:
    """An escalated mirror links to the message it was escalated from, when in Telegram."""
    if card.origin is None or card.origin.chat != "telegram":
        return card
    link = await message_link(card.origin)
    return card.model_copy(update={"origin_link": link}) if link else card
