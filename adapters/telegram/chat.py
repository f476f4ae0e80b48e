"""Telegram as a chat sink: posts mirrored mentions and reads updates (python-telegram-bot).

Updates come in by long polling (no public address needed). One process at a time polls, by
holding a lease in Redis, since Telegram ends one ``getUpdates`` when another starts. Every
``update_id`` is acted on once, remembered for two days, because Telegram redelivers updates
that were not confirmed and restarts the numbering after a week of silence.

What staff do with the bot (reply buttons, previews, /help, linking) is in ``staff.py``; this
module posts, receives updates, gates them and routes them to those handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
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

from adapters.base import AdapterContext, PostProgress
from adapters.telegram import render
from adapters.telegram.staff import (
    ACTION_KEEP_S,
    StaffHandlers,
    action_identity,
    message_link,
    stranger_action,
)
from bridge import i18n, messages
from bridge.admin import ADMIN_VERBS, AdminDesk
from bridge.alerts import alert_admins
from bridge.claims import ThreadDesk
from bridge.config import Config, Destination, PersonConfig
from bridge.errors import (
    DestinationUnavailable,
    PermanentError,
    PlatformError,
    RateLimited,
    ReachableError,
    TransientError,
)
from bridge.failpoints import TELEGRAM_BEFORE_HANDLING, crash_point
from bridge.i18n import N_
from bridge.linking import PIN_RE, LinkDesk
from bridge.models import MentionCard, MirrorRef
from bridge.redis_outage import Outage, is_outage, outages_ignored, through_outages
from bridge.replies import ReplyDesk
from bridge.settings import Settings
from bridge.store import Store
from bridge.streams import consumer_name
from bridge.web import note_refused

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 25
WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
LINK_COMMANDS = ("link", "pin", "unlink")


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def wrap_telegram_error(exc: Exception) -> PlatformError:
    """Translate python-telegram-bot's exceptions into the core's error kinds."""
    if isinstance(exc, RetryAfter):
        return RateLimited("telegram", "flood control", retry_after=_seconds(exc))
    if isinstance(exc, TimedOut | NetworkError) and not isinstance(exc, BadRequest):
        return TransientError("telegram", str(exc))
    if isinstance(exc, Forbidden):
        log.warning("Telegram refused: %s", exc)
        return DestinationUnavailable("telegram", N_("the bot was removed or may not post there"))
    if isinstance(exc, BadRequest) and "chat not found" in str(exc).lower():
        return DestinationUnavailable(
            "telegram", N_("the chat does not exist or the bot is not in it")
        )
    if isinstance(exc, BadRequest | ChatMigrated | TelegramError):
        return PermanentError("telegram", str(exc))
    raise exc


class TelegramChat:
    chat = "telegram"

    def __init__(
        self,
        *,
        settings: Settings,
        config: Callable[[], Config],
        store: Store,
        desk: ReplyDesk | None = None,
        linking: LinkDesk | None = None,
        admin: AdminDesk | None = None,
        threads: ThreadDesk | None = None,
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ReachableError(
                "Telegram is configured as a destination, but REACHABLE_TELEGRAM_BOT_TOKEN is "
                "not set"
            )
        if settings.telegram_webhook_url and settings.telegram_webhook_secret is None:
            raise ReachableError(
                "REACHABLE_TELEGRAM_WEBHOOK_URL is set but REACHABLE_TELEGRAM_WEBHOOK_SECRET is "
                "not: Telegram's calls could not be told from forged ones"
            )
        self.settings = settings
        self._config = config
        self._store = store
        self._staff = StaffHandlers(
            chat=self.chat,
            config=config,
            store=store,
            desk=desk,
            linking=linking,
            person=self._person,
            admin=admin,
            threads=threads,
        )
        api = settings.telegram_api_url.rstrip("/")
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .updater(None)
            .build()
        )
        # Updates a Redis outage cut short, by update id: handled again once Redis answers.
        self._cut_short: dict[int, Exception] = {}
        self._register_handlers()
        self._started = False
        self._background: set[asyncio.Task[None]] = set()

    @classmethod
    async def from_context(cls, context: AdapterContext) -> TelegramChat:
        chat = cls(
            settings=context.settings,
            config=context.config,
            store=context.store,
            desk=context.desk,
            linking=context.linking,
            admin=context.admin,
            threads=context.threads,
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
        parts = render.mention_messages(await _with_origin_link(card))
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
        first = render.mention_messages(await _with_origin_link(card))[0]
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
        bot (``where``), where they asked for the link."""
        try:
            await self.bot.send_message(
                chat_id=int(where),
                text=text,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except TelegramError as exc:
            log.warning("could not tell Telegram user %s: %s", user_id, exc)

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

    # -- listening -------------------------------------------------------------------------------

    def web_routes(self) -> Sequence[Route]:
        if self.settings.telegram_webhook_url is None:
            return []
        return [Route(WEBHOOK_PATH, self._on_webhook, methods=["POST"])]

    async def _on_webhook(self, request: Request) -> Response:
        """Telegram's push: check the secret token, answer at once, handle in the background."""
        secret = self.settings.telegram_webhook_secret
        origin = request.client.host if request.client else None
        # Header values arrive decoded as latin-1: compared as bytes, non-ASCII is just wrong.
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode("latin-1")
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            await note_refused(
                self._store, door="telegram", origin=origin, reason="wrong secret token"
            )
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # python-telegram-bot reads whatever shape arrives; any of these means "not an update".
            await note_refused(
                self._store, door="telegram", origin=origin, reason="not a Telegram update"
            )
            return JSONResponse({"error": f"not a Telegram update: {exc}"}, status_code=400)
        task = asyncio.create_task(self._handle(update))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return JSONResponse({"ok": True})

    async def _set_commands(self) -> None:
        """The command menu in each language Reachable speaks; Telegram picks the one of the
        person's app language, and the config's default locale for everyone else."""
        default = self._config().locale
        for locale in (None, *i18n.available_locales()):
            with i18n.speaking(locale or default):
                commands = [
                    BotCommand(name, description)
                    for name, description in messages.telegram_command_descriptions().items()
                ]
            with contextlib.suppress(TelegramError):
                await self.bot.set_my_commands(commands, language_code=locale)

    async def listen(self, stop: asyncio.Event) -> None:
        """Receive updates: register the webhook, or long-poll while holding the lease."""
        await self._set_commands()
        if self.settings.telegram_webhook_url is not None:
            await self._use_webhook()
            await stop.wait()
            return
        # Telegram refuses getUpdates while a webhook is set: switching back to polling drops it.
        with contextlib.suppress(TelegramError):
            await self.bot.delete_webhook()
        lease = self._store.keys.poll_lease(self.chat, "updates")
        owner = consumer_name("telegram-updates")
        offset: int | None = None
        outage = Outage("Telegram updates")
        while not stop.is_set():
            try:
                holding = await self._store.acquire_lease(
                    lease, owner, (POLL_TIMEOUT_S + 15) * 1000
                )
            except (RedisError, OSError) as exc:
                # A Redis restart or failover must not end the process: its roles wait it out.
                if is_outage(exc):
                    await outage.wait(exc, stop)
                else:
                    log.error("Telegram updates: Redis refused the lease (%s); retrying", exc)
                    await _sleep(stop, 1)
                continue
            outage.over()
            if not holding:
                await _sleep(stop, 5)
                continue
            try:
                updates = await self._next_updates(offset, stop)
            except (TimedOut, NetworkError) as exc:
                log.warning("Telegram getUpdates failed: %s; retrying", exc)
                await _sleep(stop, 2)
                continue
            except TelegramError as exc:
                log.error("Telegram refused getUpdates: %s", exc)
                await _sleep(stop, 30)
                continue
            for update in updates:
                offset = update.update_id + 1
                await self._handle(update)
        outage.over(got_through=False)
        with outages_ignored():
            await self._store.release_lease(lease, owner)

    async def _handle(self, update: Update) -> None:
        """Handle one update; again if a Redis outage cut it short, once Redis answers:
        Telegram will not send an update the bridge has fetched a second time."""
        outage = Outage("Telegram update")
        try:
            while True:
                with self._voice_of(update):
                    await self.application.process_update(update)
                cut_short = self._cut_short.pop(update.update_id, None)
                if cut_short is None:
                    outage.over()
                    return
                await outage.wait(cut_short)
                # Its sighting, and its action's, may have been noted before the outage cut it
                # short: forgotten, so that the retry acts on it.
                await through_outages(
                    functools.partial(
                        self._store.forget_sighting, self.chat, str(update.update_id)
                    ),
                    role="Telegram update",
                )
                identity = action_identity(update)
                if identity is not None:
                    await through_outages(
                        functools.partial(self._store.forget_interaction, self.chat, identity),
                        role="Telegram update",
                    )
        finally:
            outage.over(got_through=False)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A handler failed. A Redis outage stops the update there (no later handler may run
        without its dedupe) and has it handled again (see ``_handle``); anything else is
        logged, as python-telegram-bot does without an error handler."""
        error = context.error
        if isinstance(update, Update) and isinstance(error, Exception) and is_outage(error):
            self._cut_short[update.update_id] = error
            raise ApplicationHandlerStop
        log.error("handling a Telegram update failed", exc_info=error)

    async def _next_updates(self, offset: int | None, stop: asyncio.Event) -> list[Update]:
        """One long poll, cut short when the process stops (so shutdown does not wait 25 s)."""
        poll = asyncio.create_task(
            self.bot.get_updates(
                offset=offset,
                timeout=POLL_TIMEOUT_S,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not poll.done():
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poll
        return list(poll.result()) if not poll.cancelled() else []

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
        app.add_handler(CommandHandler(list(LINK_COMMANDS), staff.on_link_command))
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
        if user_id is None:
            return None
        return next((p for p in self._config().people if p.telegram == user_id), None)

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
        no trace), answer strangers' actions through their gate, then drop repeats: of the
        update, and of the action in it (a press or a command sent again in a new update)."""
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
        identity = action_identity(update)
        if not await self._store.first_sighting(self.chat, str(update.update_id)) or (
            identity is not None
            and not await self._store.first_interaction(self.chat, identity, keep_s=ACTION_KEEP_S)
        ):
            log.info("ignored Telegram update %s: already handled", update.update_id)
            raise ApplicationHandlerStop
        crash_point(TELEGRAM_BEFORE_HANDLING, str(update.update_id))

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
        if self._background:
            await asyncio.wait(self._background, timeout=5)
        if self._started:
            await self.application.shutdown()
            self._started = False


async def _with_origin_link(card: MentionCard) -> MentionCard:
    """An escalated mirror links to the message it was escalated from, when in Telegram."""
    if card.origin is None or card.origin.chat != "telegram":
        return card
    link = await message_link(card.origin)
    return card.model_copy(update={"origin_link": link}) if link else card


def _markup(rows: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
            for row in rows
        ]
    )


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _removed_from(name: str, destination: Destination) -> str:
    """Said in the reader's language: where it happened, too."""
    return messages.destination_unavailable(
        name=name, where=destination.describe(), detail=N_("the bot was removed from it")
    )
