"""Who a Telegram update comes from is decided by user id only, and a missing id is nobody."""

from __future__ import annotations

from adapters.telegram.chat import TelegramChat
from bridge.config import parse_config
from bridge.settings import Settings

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: telegram, chat_id: -1001}}
people:
  - {key: slacker, slack: U0SLACK, speaks_for: [humas]}
  - {key: rina, telegram: 1001}
routes: [{name: all, to: [desk]}]
""")


def test_an_update_without_a_sender_is_nobody_not_a_slack_only_person() -> None:
    chat = TelegramChat(
        settings=Settings(telegram_bot_token="1:t"),
        config=lambda: CONFIG,
        store=None,  # type: ignore[arg-type]  # looking people up needs no storage
    )
    assert chat._person(None) is None
    assert chat._person(1001) is not None and chat._person(1001).key == "rina"  # type: ignore[union-attr]
    assert chat._person(1002) is None
