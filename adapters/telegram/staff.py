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
from collections.abc import Awaitable, Callable, Collection

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

from adapters.telegram import render
from adapters.telegram.answers import Answers
from adapters.telegram.errors import retry_after_s
from bridge.config import Config, PersonConfig
from bridge.desks.admin import AdminDesk, answer_admin_command
from bridge.desks.claims import DISMISS_REASONS, ThreadDesk, short_reference
from bridge.desks.linking import ChatUser, LinkDesk, answer_link_command
from bridge.desks.replies import ReplyDesk, ReplyRefused
from bridge.desks.strangers import refuse_stranger
from bridge.desks.unanswered import answer_show, answer_unanswered
from bridge.domain.models import Identity, MirrorRef, ThreadStatus
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
        desk: ReplyDesk | None,
        linking: LinkDesk | None,
        person: Callable[[int | None], PersonConfig | None],
        answers: Answers,
        admin: AdminDesk | None = None,
        threads: ThreadDesk | None = None,
    ) -> None:
        self.chat = chat
        self._answers = answers
        self._config = config
        self._store = store
        self._desk = desk
        self._linking = linking
        self._person = person
        self._admin = admin
        self._threads = threads

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
        elif action in REPLY_ACTIONS and self._desk is not None:
            text = await self._ask_for_reply(query, person)
        elif action in DRAFT_ACTIONS and self._desk is not None:
            text = await self._on_draft(query, person, action, argument)
        elif action in ("claim", "release", "dismiss", "dreason") and self._threads is not None:
            text = await self._on_thread_action(query, person, action, argument)
        else:
            log.info("%s pressed %s in Telegram (not available yet)", person.key, action)
            text = messages.not_available_yet(action)
        await answer_button(query, text)

    async def _on_thread_action(
        self, query: CallbackQuery, person: PersonConfig, action: str, argument: str
    ) -> str | None:
        """Claim and release on a mirror; Dismiss asks why, and a reason button dismisses."""
        assert self._threads is not None
        message = query.message
        if not isinstance(message, Message):
            return messages.reply_thread_gone()
        shown = await self._store.shown_in(self.chat, str(message.chat_id), str(message.message_id))
        if shown is None:
            return messages.reply_thread_gone()
        thread_id = shown[0]
        if action == "claim":
            return await self._threads.claim(thread_id, person, chat=self.chat)
        if action == "release":
            return await self._threads.release(thread_id, person, chat=self.chat)
        if action == "dismiss":
            refused = await self._threads.refuse_dismissal(thread_id, person, chat=self.chat)
            return refused or await self._ask_dismiss_reason(message, thread_id, shown[1])
        if argument == "cancel":
            answer = None
        else:
            answer = await self._threads.dismiss(thread_id, person, reason=argument, chat=self.chat)
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
            [InlineKeyboardButton(messages.telegram_cancel(), callback_data="dreason:cancel")],
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
            messages.telegram_write_reply(name=person.name or person.key),
            markup=ForceReply(selective=True),
            shows=shown,
        )
        return None

    async def on_reply_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text written in reply to a mirrored mention (or to our prompt): show a preview with
        the send buttons this person may use."""
        message = update.effective_message
        if message is None or message.reply_to_message is None or self._desk is None:
            return
        shown = await self._store.shown_in(
            self.chat, str(message.chat_id), str(message.reply_to_message.message_id)
        )
        if shown is None:
            return
        person = self._person(message.from_user.id if message.from_user else None)
        if person is None:
            await self._answers.reply(message, messages.unknown_person())
            return
        thread = await self._store.thread(shown[0])
        if thread is None:
            return
        account = self._config().account(thread.account)
        identities = await self._desk.identities_for(person, account)
        if not identities:
            link = messages.link_command(self.chat)
            await self._answers.reply(
                message, messages.reply_no_identity(handle=account.handle, link_command=link)
            )
            return
        personal = await self._desk.linked_handle(person, thread.network)
        handles = {Identity.INSTITUTION: account.handle, Identity.PERSONAL: personal or ""}
        text = message.text or ""
        unpostable = self._desk.unpostable(text)
        if unpostable:
            await self._answers.reply(message, unpostable)
            return
        length, limit = self._desk.measure(thread.network, text) or (len(text), 0)
        draft_id = uuid.uuid4().hex[:12]
        # Answering a mirror of an answered thread is a deliberate further reply.
        again = "1" if thread.status is ThreadStatus.ANSWERED else ""
        await self._store.save_draft(
            draft_id,
            {
                "thread": shown[0],
                "mention": shown[1],
                "text": text,
                "person": person.key,
                "again": again,
            },
            ttl_s=DRAFT_TTL_S,
        )
        buttons = (
            []
            if length > limit
            else [
                InlineKeyboardButton(
                    messages.telegram_send_as(identity.value, handle=handles[identity]),
                    callback_data=f"send_{identity.value}:{draft_id}",
                )
                for identity in identities
            ]
        )
        buttons.append(
            InlineKeyboardButton(messages.telegram_cancel(), callback_data=f"cancel:{draft_id}")
        )
        mention = await self._store.thread_mention(shown[0], shown[1])
        await self._answers.reply(
            message,
            render.reply_preview(text=text, length=length, limit=limit, mention=mention),
            markup=InlineKeyboardMarkup([buttons]),
        )

    async def _on_draft(
        self, query: CallbackQuery, person: PersonConfig, action: str, draft_id: str
    ) -> str | None:
        """send_institution / send_personal / cancel on a preview."""
        assert self._desk is not None
        draft = await self._store.draft(draft_id)
        preview = query.message if isinstance(query.message, Message) else None
        if not draft:
            return messages.telegram_draft_gone()
        if draft["person"] != person.key:
            return messages.telegram_not_your_draft()
        # Taking the draft is atomic: of two quick presses, only one sends.
        if not await self._store.take_draft(draft_id):
            return messages.telegram_draft_gone()
        if action == "cancel":
            if preview is not None:
                await self._answers.edit(preview, messages.telegram_cancelled())
            return None
        identity = Identity(action.removeprefix("send_"))
        try:
            request = await self._desk.request(
                thread_id=draft["thread"],
                mention_id=draft["mention"],
                text=draft["text"],
                identity=identity,
                person=person,
                chat=self.chat,
                where=self._desk.destination_of(
                    chat=self.chat, address=str(preview.chat_id) if preview else ""
                ),
                again=bool(draft.get("again")),
            )
        except ReplyRefused as refused:
            return refused.reason
        handle = (
            self._config().account(request.account).handle
            if identity is Identity.INSTITUTION
            else await self._desk.linked_handle(person, request.network)
        )
        if preview is not None:
            await self._answers.edit(
                preview, messages.reply_queued(handle=handle) + "\n\n" + draft["text"]
            )
        return None

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await self._answers.reply(update.effective_message, messages.telegram_help())

    async def on_link_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/link, /pin <PIN>, /unlink: only in a private chat, where links and PINs stay private."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        verb, _, argument = message.text.lstrip("/").partition(" ")
        verb = verb.split("@", 1)[0].lower()
        await self._link_step(message, verb, argument)

    async def on_admin_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/rules, /route <text>, /reload: admins only, in a destination group or privately."""
        message = update.effective_message
        if message is None or message.text is None or self._admin is None:
            return
        verb, _, argument = message.text.lstrip("/").partition(" ")
        verb = verb.split("@", 1)[0].lower()
        person = self._person(message.from_user.id if message.from_user else None)
        if person is None:
            return
        answer, report = await answer_admin_command(
            self._admin, person, verb, argument, chat=self.chat
        )
        if report:
            text, mode = f"<pre>{html.escape(answer[:REPORT_LIMIT])}</pre>", ParseMode.HTML
        else:
            text, mode = answer, None
        await self._answers.reply(message, text, parse_mode=mode)

    async def on_unanswered(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/unanswered [page]: open threads, oldest first, with links to their mirrors."""
        await self._answer_staff(
            update,
            lambda message, argument: answer_unanswered(
                self._store,
                config=self._config(),
                chat=self.chat,
                argument=argument,
                link_of=message_link,
                command="/unanswered",
            ),
        )

    async def on_show(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/show <ref>: post an open thread (one folded into a burst digest) here, with its
        buttons."""
        await self._answer_staff(
            update,
            lambda message, argument: answer_show(
                self._store,
                config=self._config(),
                chat=self.chat,
                address=str(message.chat_id),
                argument=argument,
                link_of=message_link,
                command="/show",
                topic=message.message_thread_id if message.is_topic_message else None,
            ),
        )

    async def _answer_staff(
        self, update: Update, answer: Callable[[Message, str], Awaitable[str]]
    ) -> None:
        """A command for staff only: ``answer`` gets the message and the text after the
        command; anyone not on the staff list is told so."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        person = self._person(message.from_user.id if message.from_user else None)
        if person is None:
            text = messages.unknown_person()
        else:
            text = await answer(message, message.text.partition(" ")[2])
        await self._answers.reply(message, text)

    async def on_assign(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/assign <ref> <person>, or /assign <person> in answer to a mirrored mention."""
        message = update.effective_message
        if message is None or message.text is None or self._threads is None:
            return
        person = self._person(message.from_user.id if message.from_user else None)
        words = message.text.split()[1:]
        shown = None
        if message.reply_to_message is not None:
            shown = await self._store.shown_in(
                self.chat, str(message.chat_id), str(message.reply_to_message.message_id)
            )
        if person is None:
            answer = messages.unknown_person()
        elif shown is not None and len(words) == 1:
            answer = await self._threads.reassign(
                short_reference(shown[0]), person, words[0], chat=self.chat
            )
        elif len(words) == 2:
            answer = await self._threads.reassign(words[0], person, words[1], chat=self.chat)
        else:
            answer = messages.assign_usage(command="/assign")
        await self._answers.reply(message, answer)

    async def on_pasted_pin(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A PIN pasted on its own in the private chat finishes linking, like /pin."""
        message = update.effective_message
        if message is not None and message.text is not None:
            await self._link_step(message, "pin", message.text)

    async def _link_step(self, message: Message, verb: str, argument: str) -> None:
        person = self._person(message.from_user.id if message.from_user else None)
        if person is None:
            answer = messages.unknown_person()
        elif message.chat.type != ChatType.PRIVATE:
            answer = messages.link_private_only()
        elif self._linking is None:
            answer = messages.link_not_set_up()
        else:
            user_id = str(message.from_user.id if message.from_user else "")
            asker = ChatUser(chat=self.chat, user_id=user_id, where=str(message.chat_id))
            answer = await answer_link_command(
                self._linking, person, verb, argument, asker=asker, pin_command="/pin <PIN>"
            )
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
