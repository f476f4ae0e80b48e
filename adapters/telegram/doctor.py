"""`reachable doctor` for Telegram: the bot token, the bot in each destination chat (an admin
where topics are used), and the webhook when the bridge runs in webhook mode."""

from __future__ import annotations

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import Forbidden, InvalidToken, TelegramError

from bridge.config import TelegramDestination
from bridge.doctor import DoctorContext, Finding, fail, ok, warn

AREA = "Telegram"


async def examine_telegram(context: DoctorContext) -> list[Finding]:
    settings = context.settings
    if settings.telegram_bot_token is None:
        return [
            fail(
                AREA,
                "bot token",
                "REACHABLE_TELEGRAM_BOT_TOKEN is not set",
                "ask @BotFather for the bot's token (/token)",
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
                "bot token",
                "Telegram refused the bot token",
                "set REACHABLE_TELEGRAM_BOT_TOKEN to the token @BotFather gave (/token); "
                "after /revoke the old one stops working",
            )
        ]
    except TelegramError as exc:
        return [fail(AREA, "bot token", f"getMe failed: {exc}", "see the detail")]
    try:
        findings = [ok(AREA, "bot token", f"@{bot.username}")]
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
    check = f"chat {destination.chat_id}"
    add_the_bot = f"add @{bot.username} to the group, and check chat_id in the config"
    try:
        chat = await bot.get_chat(destination.chat_id)
        member = await bot.get_chat_member(destination.chat_id, bot.id)
    except Forbidden as exc:
        return fail(AREA, check, f"the bot was removed from the chat ({exc.message})", add_the_bot)
    except TelegramError as exc:
        return fail(AREA, check, f"Telegram answered: {exc.message}", add_the_bot)
    title = chat.title or chat.effective_name or str(destination.chat_id)
    if member.status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return fail(AREA, check, f"the bot is not a member of {title}", add_the_bot)
    if destination.topic is not None:
        if not chat.is_forum:
            return fail(
                AREA,
                check,
                f"the config names topic {destination.topic}, but {title} has no topics",
                "turn Topics on in the group's settings, or remove topic from the destination",
            )
        if member.status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
            return fail(
                AREA,
                check,
                f"the bot posts into a topic of {title} but is not an admin there",
                f"make @{bot.username} an admin of {title} with the right to manage topics",
            )
        if not getattr(member, "can_manage_topics", True):
            return fail(
                AREA,
                check,
                f"the bot is an admin of {title} without the right to manage topics",
                "give it 'Manage topics' in the group's admin settings",
            )
    return ok(AREA, check, f"the bot is {member.status} of {title}")


async def _way_in(context: DoctorContext, bot: Bot) -> Finding:
    settings = context.settings
    info = await bot.get_webhook_info()
    wanted = settings.telegram_webhook_url
    if wanted is None:
        if info.url:
            return warn(
                AREA,
                "long polling",
                f"a webhook is set ({info.url}); the bridge removes it when it starts polling",
                "nothing to do, unless another program uses this bot: each bot has one reader",
            )
        return ok(AREA, "long polling", "no webhook set: the bridge reads with getUpdates")
    if settings.telegram_webhook_secret is None:
        return fail(
            AREA,
            "webhook",
            "webhook mode without REACHABLE_TELEGRAM_WEBHOOK_SECRET",
            "set a random secret (reachable keygen makes one), so forged updates are refused",
        )
    if info.url and info.url != wanted:
        return warn(
            AREA,
            "webhook",
            f"Telegram sends updates to {info.url}; the bridge sets {wanted} when it starts",
            "make sure no other deployment uses this bot",
        )
    if info.last_error_message:
        return warn(
            AREA,
            "webhook",
            f"Telegram's last delivery failed: {info.last_error_message}",
            "check that the public address reaches /telegram/webhook over HTTPS",
        )
    return ok(AREA, "webhook", f"updates go to {wanted}")
