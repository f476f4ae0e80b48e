"""Telegram as a chat sink: posts mirrored mentions and reads updates (python-telegram-bot).

Updates come in by long polling (no public address needed) or a webhook, and are stored before
Telegram is told they arrived (``updates.py``); this module gates each stored one and routes it
to its handlers. What staff do with the bot (reply buttons, previews, /help, linking) is in
``staff.py``; what the bot says back waits its turn in the chat's pace (``answers.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from starlette.routing import Route
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, ChatMigrated, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from adapters.telegram import render, texts
from adapters.telegram.answers import Answers, call_of
from adapters.telegram.config import TELEGRAM
from adapters.telegram.errors import wrap_telegram_error
from adapters.telegram.settings import telegram_settings
from adapters.telegram.staff import (
    ACTION_KEEP_S,
    StaffHandlers,
    action_identity,
    stranger_action,
    with_origin_link,
)
from adapters.telegram.updates import ALLOWED_UPDATES, Handling, TelegramUpdates
from bridge.actions import LINK_VERBS, ActionDispatcher
from bridge.config import Config, Destination, PersonConfig
from bridge.desks.admin import ADMIN_VERBS
from bridge.desks.alerts import alert_admins
from bridge.desks.linking import PIN_RE
from bridge.domain.models import MentionCard, MirrorRef
from bridge.errors import ReachableError
from bridge.pipeline.answers import AnswerQueue, Pace, Sent
from bridge.pipeline.runner import consumer_name
from bridge.ports import AdapterContext, PostProgress
from bridge.settings import Settings
from bridge.store.redis_outage import is_outage
from bridge.store.store import Store
from bridge.text import i18n, messages
from bridge.text.i18n import N_

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"


class TelegramChat:
    chat = TELEGRAM.name

    def __init__(
        self,
        *,
        settings: Settings,
        config: Callable[[], Config],
        store: Store,
        actions: ActionDispatcher | None = None,
    ) -> None:
        """``settings``: the bridge's composed settings (the core's and Telegram's)."""
        telegram = telegram_settings(settings)
        if telegram.telegram_bot_token is None:
            raise ReachableError(
                "Telegram is configured as a destination, but REACHABLE_TELEGRAM_BOT_TOKEN is "
                "not set"
            )
        if telegram.telegram_webhook_url and telegram.telegram_webhook_secret is None:
            raise ReachableError(
                "REACHABLE_TELEGRAM_WEBHOOK_URL is set but REACHABLE_TELEGRAM_WEBHOOK_SECRET is "
                "not: Telegram's calls could not be told from forged ones"
            )
        self.settings = telegram
        self.platform_time = settings.platform_time
        self._config = config
        self._store = store
        self._answers = AnswerQueue(
            store,
            chat=self.chat,
            send=self._send_answer,
            pace_of=self._answer_pace,
            owner=consumer_name("telegram-answers"),
            platform_time=settings.platform_time,
        )
        self.answers = Answers(self._answers)
        self._staff = StaffHandlers(
            chat=self.chat,
            config=config,
            store=store,
            actions=actions or ActionDispatcher(store, config=config),
            person=self._person,
            answers=self.answers,
        )
        api = telegram.telegram_api_url.rstrip("/")
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(telegram.telegram_bot_token.get_secret_value())
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .updater(None)
            .build()
        )
        self.updates = TelegramUpdates(
            bot=self.bot, store=store, settings=settings, chat=self.chat, process=self._process
        )
        # The updates being handled now, by id(update): what the gate and errors made of each.
        self._handling: dict[int, Handling] = {}
        # Actions marked as done whose handling a Redis outage cut short: they may act when
        # their update is tried again.
        self._unfinished: set[str] = set()
        self._register_handlers()
        self._started = False

    @classmethod
    async def from_context(cls, context: AdapterContext) -> TelegramChat:
        chat = cls(
            settings=context.settings,
            config=context.config,
            store=context.store,
            actions=context.actions,
        )
        try:
            await chat.application.initialize()
        except InvalidToken:
            raise ReachableError(
                "Telegram refused the bot token: check REACHABLE_TELEGRAM_BOT_TOKEN (the token "
                "@BotFather gave, with no space around it)"
            ) from None
        chat._started = True
        return chat

    @property
    def bot(self) -> Any:
        return self.application.bot

    # -- posting ---------------------------------------------------------------------------------

    async def _chat_id(self, destination: Destination) -> int:
        """The configured chat, or the supergroup it became (Telegram's migrate_to_chat_id)."""
        migrated = await self._store.redis.get(
            self._store.keys.chat_migration(self.chat, destination.address)
        )
        return int(migrated) if migrated else int(destination.address)

    async def _send(self, destination: Destination, **kwargs: Any) -> Message:
        chat_id = await self._chat_id(destination)
        try:
            return await self.bot.send_message(chat_id=chat_id, **kwargs)  # type: ignore[no-any-return]
        except ChatMigrated as exc:
            await self._remember_migration(chat_id, exc.new_chat_id)
            try:
                return await self.bot.send_message(chat_id=exc.new_chat_id, **kwargs)  # type: ignore[no-any-return]
            except Exception as again:
                raise wrap_telegram_error(again) from again
        except Exception as exc:
            raise wrap_telegram_error(exc) from exc

    async def _remember_migration(self, old: int, new: int) -> None:
        log.warning("Telegram group %s became supergroup %s; update the config", old, new)
        await self._store.redis.set(self._store.keys.chat_migration(self.chat, str(old)), new)

    async def post_mention(
        self,
        *,
        destination: Destination,
        card: MentionCard,
        reply_to: MirrorRef | None,
        effect_key: str,
        progress: PostProgress,
    ) -> MirrorRef:
        """A long post goes out in parts (``render`` cuts it the same way every time), one
        step each: every part waits for its own turn in the chat's pace, and a retry posts
        only the parts not recorded yet. The first part, with the buttons, is the mirror and
        replies to the thread's first message; the others reply to it."""
        topic = getattr(destination, "topic", None)
        parts = render.mention_messages(await with_origin_link(card))
        first = progress.posted(0)
        chat_id: int | None = None
        for step, part in enumerate(parts):
            if progress.posted(step) is not None:
                continue
            anchor = first if step else (reply_to.message_id if reply_to else None)
            await progress.turn()
            message = await self._send(
                destination,
                text=part.html,
                parse_mode=ParseMode.HTML,
                message_thread_id=topic,
                reply_parameters=ReplyParameters(
                    message_id=int(anchor), allow_sending_without_reply=True
                )
                if anchor
                else None,
                reply_markup=_markup(part.keyboard),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            progress.record(step, str(message.message_id))
            first, chat_id = first or str(message.message_id), message.chat_id
        assert first is not None
        return MirrorRef(
            chat=self.chat,
            channel=str(chat_id if chat_id is not None else await self._chat_id(destination)),
            message_id=first,
            thread_root=reply_to.message_id if reply_to else None,
        )

    async def edit_mention(
        self, *, destination: Destination, ref: MirrorRef, card: MentionCard
    ) -> None:
        first = render.mention_messages(await with_origin_link(card))[0]
        try:
            await self.bot.edit_message_text(
                chat_id=int(ref.channel),
                message_id=int(ref.message_id),
                text=first.html,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(first.keyboard),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except BadRequest as exc:
            # Telegram refuses an edit that changes nothing; the message already shows it.
            if "message is not modified" not in str(exc).lower():
                raise wrap_telegram_error(exc) from exc
        except Exception as exc:
            raise wrap_telegram_error(exc) from exc

    async def post_notice(
        self,
        *,
        destination: Destination,
        text: str,
        reply_to: MirrorRef | None = None,
        monospace: bool = False,
        effect_key: str | None = None,  # Telegram keeps no tag on a message
    ) -> None:
        shown = render.escape(text[: render.MESSAGE_LIMIT - 20])
        await self._send(
            destination,
            text=f"<pre>{shown}</pre>" if monospace else shown,
            parse_mode=ParseMode.HTML,
            message_thread_id=getattr(destination, "topic", None),
            reply_parameters=ReplyParameters(
                message_id=int(reply_to.message_id), allow_sending_without_reply=True
            )
            if reply_to
            else None,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def tell_privately(self, *, user_id: str, where: str, text: str) -> None:
        """A word for one person (a link made to their name), in their private chat with the
        bot (``where``), where they asked for the link; it waits its turn there."""
        try:
            await self.answers.tell(int(where), text)
        except (RedisError, OSError, ValueError) as exc:
            log.warning("could not tell Telegram user %s: %s", user_id, exc)

    async def _send_answer(self, answer: dict[str, Any]) -> Sent | None:
        """The one call of a queued answer (``bridge.pipeline.answers`` paces it), Telegram's errors
        as the core's; an edit that changes nothing is done."""
        method, kwargs = call_of(answer, self.bot)
        try:
            if method == "edit":
                await self.bot.edit_message_text(**kwargs)
                return None
            try:
                message = await self.bot.send_message(**kwargs)
            except ChatMigrated as exc:
                await self._remember_migration(kwargs["chat_id"], exc.new_chat_id)
                message = await self.bot.send_message(**{**kwargs, "chat_id": exc.new_chat_id})
        except BadRequest as exc:
            if method == "edit" and "message is not modified" in str(exc).lower():
                return None
            raise wrap_telegram_error(exc) from exc
        except Exception as exc:
            raise wrap_telegram_error(exc) from exc
        return Sent(channel=str(message.chat_id), message_id=str(message.message_id))

    async def _answer_pace(self, channel: str) -> Pace:
        """Answers in a destination take turns with its mirrors (paced by its configured
        address, also once the group became a supergroup); in any chat with the bot's others."""
        chat_id = int(channel)
        return Pace(
            channel=await self._paced_as(chat_id),
            interval_s=self.platform_time.seconds(self.settings.chat_interval_s(chat_id)),
            overall_interval_s=self.overall_interval_s(),
        )

    async def _paced_as(self, chat_id: int) -> str:
        addresses = [d.address for d in self._config().destinations.values() if d.chat == self.chat]
        for address in addresses:
            if int(address) == chat_id:
                return address
        keys = [self._store.keys.chat_migration(self.chat, address) for address in addresses]
        migrated = await self._store.redis.mget(keys) if keys else []
        for address, became in zip(addresses, migrated, strict=True):
            if became is not None and int(became) == chat_id:
                return address
        return str(chat_id)

    async def find_posted(
        self,
        *,
        destination: Destination,
        reply_to: MirrorRef | None,
        effect_key: str,
        since: datetime | None = None,
    ) -> MirrorRef | None:
        """Telegram's Bot API cannot list a chat's messages, so an interrupted post cannot be
        looked up; it is posted again (at worst, one duplicate of the message whose very call
        a crash cut off: the parts of a long post recorded before it are not)."""
        return None

    def channel_interval_s(self, destination: Destination) -> float:
        return self.platform_time.seconds(self.settings.chat_interval_s(int(destination.address)))

    def overall_interval_s(self) -> float:
        """Telegram allows a bot about 30 messages a second overall."""
        return self.platform_time.seconds(1 / self.settings.telegram_messages_per_s)

    # -- listening -------------------------------------------------------------------------------

    def web_routes(self) -> Sequence[Route]:
        if self.settings.telegram_webhook_url is None:
            return []
        return [Route(WEBHOOK_PATH, self.updates.on_webhook, methods=["POST"])]

    async def _set_commands(self) -> None:
        """The command menu in each language Reachable speaks; Telegram picks the one of the
        person's app language, and the config's default locale for everyone else."""
        default = self._config().locale
        for locale in (None, *i18n.available_locales()):
            with i18n.speaking(locale or default):
                commands = [
                    BotCommand(name, description)
                    for name, description in texts.command_descriptions().items()
                ]
            with contextlib.suppress(TelegramError):
                await self.bot.set_my_commands(commands, language_code=locale)

    async def listen(self, stop: asyncio.Event) -> None:
        """Until ``stop``: take updates in (register the webhook, or long-poll), handle the
        stored ones, and send the bot's answers in their turn."""
        await self._set_commands()
        tasks = [
            asyncio.create_task(self.updates.consume(stop), name="telegram-updates"),
            asyncio.create_task(self._answers.run(stop), name="telegram-answers"),
        ]
        try:
            if self.settings.telegram_webhook_url is not None:
                await self._use_webhook()
            else:
                # Telegram refuses getUpdates while a webhook is set: polling again drops it.
                with contextlib.suppress(TelegramError):
                    await self.bot.delete_webhook()
                tasks.append(asyncio.create_task(self.updates.poll(stop), name="telegram-poll"))
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _process(self, update: Update) -> Handling:
        """Run the handlers on a stored update; what it came to (see ``Handling``)."""
        handling = Handling()
        self._handling[id(update)] = handling
        try:
            with self._voice_of(update):
                await self.application.process_update(update)
        finally:
            del self._handling[id(update)]
        if handling.outage is not None and handling.action is not None:
            self._unfinished.add(handling.action)
        return handling

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler failed. A Redis outage stops the update there (no later handler may run
        without the gate) and has it tried again; anything else is logged, as
        python-telegram-bot does, and the update counts as handled."""
        handling, error = self._handling.get(id(update)), context.error
        if handling is not None and error is not None and is_outage(error):
            handling.outage = error
            raise ApplicationHandlerStop
        log.error("handling a Telegram update failed", exc_info=error)

    async def _use_webhook(self) -> None:
        secret = self.settings.telegram_webhook_secret
        assert secret is not None
        try:
            await self.bot.set_webhook(
                url=self.settings.telegram_webhook_url,
                secret_token=secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
        except TelegramError as exc:
            raise ReachableError(f"Telegram refused the webhook: {exc}") from exc
        log.info("Telegram delivers updates to %s", self.settings.telegram_webhook_url)

    def _register_handlers(self) -> None:
        app = self.application
        app.add_handler(TypeHandler(Update, self._once_and_known), group=-1)
        staff = self._staff
        app.add_handler(CallbackQueryHandler(staff.on_button))
        app.add_handler(CommandHandler(["help", "start"], staff.on_help))
        app.add_handler(CommandHandler(list(LINK_VERBS), staff.on_link_command))
        app.add_handler(CommandHandler(list(ADMIN_VERBS), staff.on_admin_command))
        app.add_handler(CommandHandler("unanswered", staff.on_unanswered))
        app.add_handler(CommandHandler("show", staff.on_show))
        app.add_handler(CommandHandler("assign", staff.on_assign))
        app.add_handler(
            MessageHandler(filters.TEXT & filters.REPLY & ~filters.COMMAND, staff.on_reply_text)
        )
        app.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE & filters.Regex(PIN_RE) & ~filters.COMMAND,
                staff.on_pasted_pin,
            )
        )
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self._on_error)

    def _commands(self) -> frozenset[str]:
        """The commands this bot answers, as its handlers are registered."""
        handlers = self.application.handlers.get(0, [])
        return frozenset(
            name for h in handlers if isinstance(h, CommandHandler) for name in h.commands
        )

    def _known_chat_ids(self) -> set[int]:
        return {int(d.address) for d in self._config().destinations.values() if d.chat == self.chat}

    def _person(self, user_id: int | None) -> PersonConfig | None:
        """The staff member with this Telegram id; nobody for an update without a sender (a
        Slack-only person has no Telegram id, and must not match one that is missing)."""
        people = self._config().people if user_id is not None else []
        return next((p for p in people if p.chat_user(self.chat) == str(user_id)), None)

    def _voice_of(self, update: Update) -> AbstractContextManager[None]:
        """The language of the answer: the person's for a button press or a private chat
        (only they see it), the group's destination's for what is said in the group."""
        config = self._config()
        chat, user, message = update.effective_chat, update.effective_user, update.effective_message
        topic = message.message_thread_id if message and message.is_topic_message else None
        where = config.destination_at(self.chat, str(chat.id) if chat else None, topic)
        if update.callback_query is not None or (chat is not None and chat.type == "private"):
            return config.speaking_with(self._person(user.id if user else None), where=where)
        return config.speaking_to(where)

    async def _once_and_known(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """First handler of every update: drop anything from unknown chats and people (leaving
        no trace), answer strangers' actions through their gate, then drop an action handled
        before (a press or a command sent again, in the same update or a new one).

        The action is marked here, just before its handler carries it out, so that it acts once
        however often it arrives. A crash between this mark and the act costs that one action:
        it does nothing, and the person, who sees no answer, presses or writes again (a new
        action). That window is the handler's own work, milliseconds; the update counts as seen
        only once it was handled, so a crash before the mark costs nothing (the stored update
        is handled again), and a Redis failure after it is no crash: the update is tried again
        and its action, noted as unfinished, acts.
        """
        await self._only_known(update)
        user = update.effective_user
        if user is not None and self._person(user.id) is None:
            asked = stranger_action(
                update,
                bot_id=self.bot.id,
                bot_username=self.bot.username,
                commands=self._commands(),
            )
            if asked is not None:
                await self._staff.answer_stranger(update, asked)
                raise ApplicationHandlerStop
            # Nothing else a stranger sends changes anything: no mark is kept, so that a
            # flood of chatter leaves no keys behind.
            return
        handling = self._handling.get(id(update), Handling())
        handling.action = identity = action_identity(update)
        if identity is not None and not await self._first_time(identity):
            log.info("ignored Telegram update %s: its action was handled", update.update_id)
            raise ApplicationHandlerStop
        handling.known = True

    async def _first_time(self, identity: str) -> bool:
        if identity in self._unfinished:
            self._unfinished.discard(identity)
            return True
        return await self._store.first_interaction(self.chat, identity, keep_s=ACTION_KEEP_S)

    async def _only_known(self, update: Update) -> None:
        chat = update.effective_chat
        user = update.effective_user
        if user is not None and user.id == self.bot.id:
            raise ApplicationHandlerStop
        migrated_from = update.effective_message and update.effective_message.migrate_from_chat_id
        known = self._known_chat_ids()
        if chat is not None and chat.type == ChatType.PRIVATE:
            if self._person(user.id if user else None) is None:
                log.warning("ignored a private Telegram message from unknown user %s", chat.id)
                raise ApplicationHandlerStop
            return
        if (
            chat is not None
            and chat.id not in known
            and migrated_from not in known
            and not await self._is_migrated_destination(chat.id)
        ):
            log.warning("ignored a Telegram update from chat %s, not a destination", chat.id)
            raise ApplicationHandlerStop

    async def _is_migrated_destination(self, chat_id: int) -> bool:
        for known in self._known_chat_ids():
            migrated = await self._store.redis.get(
                self._store.keys.chat_migration(self.chat, str(known))
            )
            if migrated and int(migrated) == chat_id:
                return True
        return False

    async def _on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was removed from a destination group: the admins must add it back."""
        change = update.my_chat_member
        if change is None or change.new_chat_member.status not in ("left", "kicked"):
            return
        config = self._config()
        for name, destination in config.destinations.items():
            if destination.chat == self.chat and int(destination.address) == change.chat.id:
                await alert_admins(
                    self._store,
                    config,
                    subject=f"unavailable:{name}",
                    say=functools.partial(_removed_from, name, destination),
                    avoid=name,
                )

    async def _on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            await self._remember_migration(message.chat_id, message.migrate_to_chat_id)

    async def ping(self) -> None:
        try:
            await self.bot.get_me()
        except Exception as exc:
            raise wrap_telegram_error(exc) from exc

    async def close(self) -> None:
        await self._answers.stop_sending()
        if self._started:
            await self.application.shutdown()
            self._started = False


def _markup(rows: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
            for row in rows
        ]
    )


def _removed_from(name: str, destination: Destination) -> str:
    """Said in the reader's language: where it happened, too."""
    return messages.destination_unavailable(
        name=name, where=destination.describe(), detail=N_("the bot was removed from it")
    )
