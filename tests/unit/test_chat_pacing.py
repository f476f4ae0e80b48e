"""Each chat paces its own messages: its limits, scaled by the platform time of the emulators."""

from __future__ import annotations

from adapters.slack.chat import SlackChat
from adapters.slack.config import SlackDestination
from adapters.telegram.chat import TelegramChat
from adapters.telegram.config import TelegramDestination
from app.config import parse_config
from app.settings import AppSettings

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: telegram, chat_id: -1001}}
routes: [{name: all, to: [desk]}]
""")


def test_slack_paces_a_channel_at_its_interval_and_the_bot_not_at_all() -> None:
    for scale, expected in ((1.0, 1.5), (10.0, 0.15)):
        chat = SlackChat(
            settings=AppSettings(
                slack_bot_token="xoxb-1",
                slack_signing_secret="s",
                slack_channel_interval_s=1.5,
                platform_time_scale=scale,
            ),
            config=lambda: CONFIG,
            store=None,  # type: ignore[arg-type]  # pacing needs no storage
        )
        channel = SlackDestination(chat="slack", channel="C0HUMAS")
        assert chat.channel_interval_s(channel) == expected
        assert chat.overall_interval_s() == 0.0


def test_telegram_paces_groups_private_chats_and_the_bot_overall() -> None:
    for scale in (1.0, 2.0):
        chat = TelegramChat(
            settings=AppSettings(
                telegram_bot_token="1:t",
                telegram_group_interval_s=3.0,
                telegram_private_interval_s=1.0,
                telegram_messages_per_s=20.0,
                platform_time_scale=scale,
            ),
            config=lambda: CONFIG,
            store=None,  # type: ignore[arg-type]  # pacing needs no storage
        )
        group = TelegramDestination(chat="telegram", chat_id=-1001)
        private = TelegramDestination(chat="telegram", chat_id=1001)
        assert chat.channel_interval_s(group) == 3.0 / scale
        assert chat.channel_interval_s(private) == 1.0 / scale
        assert chat.overall_interval_s() == 0.05 / scale
