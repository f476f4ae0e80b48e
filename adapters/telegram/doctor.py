"""`reachable doctor` for Telegram: the bot token, the bot in each destination chat (an admin
where topics are used), and the webhook when the bridge runs in webhook mode."""

from __future__ import annotations

from telegram import Bot, ChatMember
from telegram.constants import ChatMemberStatus
from telegram.error import Forbidden, InvalidToken, TelegramError

from adapters.telegram.config import TelegramDestination
from adapters.telegram.settings import telegram_settings
from bridge.ops.findings import DoctorContext, Finding, fail, ok, warn
from bridge.text.i18n import _

AREA = "Telegram"


async def examine_telegram(context: DoctorContext) -> list[Finding]:
    settings, check = telegram_settings(context.settings), _("bot token")
    if settings.telegram_bot_token is None:
        return [
            fail(
                AREA,
                check,
                _("REACHABLE_TELEGRAM_BOT_TOKEN is not set"),
                _("ask @BotFather for the bot's token (/token)"),
            )
        ]
    api = settings.telegram_api_url.rstrip("/")
    bot = Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
    )
    try:
        await bot.initialize()
    except InvalidToken:
        return [
            fail(
                AREA,
                check,
                _("Telegram refused the bot token"),
                _(
                    "set REACHABLE_TELEGRAM_BOT_TOKEN to the token @BotFather gave (/token); "
                    "after /revoke the old one stops working"
                ),
            )
        ]
    except TelegramError as exc:
        return [fail(AREA, check, _("getMe failed: {error}", error=exc), _("see the detail"))]
    try:
        findings = [ok(AREA, check, f"@{bot.username}")]
        chats = [
            d for d in context.config.destinations.values() if isinstance(d, TelegramDestination)
        ]
        for destination in chats:
            findings.append(await _chat(bot, destination))
        findings.append(await _way_in(context, bot))
        return findings
    finally:
        await bot.shutdown()


async def _chat(bot: Bot, destination: TelegramDestination) -> Finding:
    check = _("chat {chat}", chat=destination.chat_id)
    add_the_bot = _("add @{bot} to the group, and check chat_id in the config", bot=bot.username)
    try:
        chat = await bot.get_chat(destination.chat_id)
        member = await bot.get_chat_member(destination.chat_id, bot.id)
    except Forbidden as exc:
        said = _("the bot was removed from the chat ({error})", error=exc.message)
        return fail(AREA, check, said, add_the_bot)
    except TelegramError as exc:
        return fail(AREA, check, _("Telegram answered: {error}", error=exc.message), add_the_bot)
    title = chat.title or chat.effective_name or str(destination.chat_id)
    if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        said = _("the bot is not a member of {title}", title=title)
        return fail(AREA, check, said, add_the_bot)
    if destination.topic is not None:
        problem = _topic_problem(bot, destination, chat.is_forum, member, title)
        if problem is not None:
            return fail(AREA, check, *problem)
    return ok(
        AREA,
        check,
        _("the bot is {status} of {title}", status=_member_status(member.status), title=title),
    )


def _topic_problem(
    bot: Bot,
    destination: TelegramDestination,
    is_forum: bool | None,
    member: ChatMember,
    title: str,
) -> tuple[str, str] | None:
    """(problem, fix) when the bot cannot post into the destination's topic."""
    if not is_forum:
        return (
            _(
                "the config names topic {topic}, but {title} has no topics",
                topic=destination.topic,
                title=title,
            ),
            _("turn Topics on in the group's settings, or remove topic from the destination"),
        )
    if member.status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        return (
            _("the bot posts into a topic of {title} but is not an admin there", title=title),
            _(
                "make @{bot} an admin of {title} with the right to manage topics",
                bot=bot.username,
                title=title,
            ),
        )
    if not getattr(member, "can_manage_topics", True):
        return (
            _("the bot is an admin of {title} without the right to manage topics", title=title),
            _("give it 'Manage topics' in the group's admin settings"),
        )
    return None


def _member_status(status: str) -> str:
    """Telegram's word for the bot's place in a chat, as the reader says it."""
    said: dict[str, str] = {
        ChatMemberStatus.OWNER: _("owner"),
        ChatMemberStatus.ADMINISTRATOR: _("administrator"),
        ChatMemberStatus.MEMBER: _("member"),
        ChatMemberStatus.RESTRICTED: _("restricted member"),
    }
    return said.get(status, status)


async def _way_in(context: DoctorContext, bot: Bot) -> Finding:
    settings = telegram_settings(context.settings)
    info = await bot.get_webhook_info()
    wanted = settings.telegram_webhook_url
    if wanted is None:
        return _long_polling(info.url)
    check = "webhook"
    if settings.telegram_webhook_secret is None:
        return fail(
            AREA,
            check,
            _("webhook mode without REACHABLE_TELEGRAM_WEBHOOK_SECRET"),
            _("set a random secret (reachable keygen makes one), so forged updates are refused"),
        )
    if info.url and info.url != wanted:
        return warn(
            AREA,
            check,
            _(
                "Telegram sends updates to {url}; the bridge sets {wanted} when it starts",
                url=info.url,
                wanted=wanted,
            ),
            _("make sure no other deployment uses this bot"),
        )
    if info.last_error_message:
        return warn(
            AREA,
            check,
            _("Telegram's last delivery failed: {error}", error=info.last_error_message),
            _("check that the public address reaches /telegram/webhook over HTTPS"),
        )
    return ok(AREA, check, _("updates go to {url}", url=wanted))


def _long_polling(webhook: str | None) -> Finding:
    check = _("long polling")
    if webhook:
        return warn(
            AREA,
            check,
            _(
                "a webhook is set ({url}); the bridge removes it when it starts polling",
                url=webhook,
            ),
            _("nothing to do, unless another program uses this bot: each bot has one reader"),
        )
    return ok(AREA, check, _("no webhook set: the bridge reads with getUpdates"))
