"""Who a Telegram update comes from is decided by user id only, and a missing id is nobody."""

from __future__ import annotations

from telegram import Update

from adapters.telegram.chat import TelegramChat
from adapters.telegram.staff import action_identity, stranger_action
from app.config import parse_config
from app.settings import AppSettings

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
        settings=AppSettings(telegram_bot_token="1:t"),
        config=lambda: CONFIG,
        store=None,  # type: ignore[arg-type]  # looking people up needs no storage
    )
    assert chat._person(None) is None
    assert chat._person(1001) is not None and chat._person(1001).key == "rina"  # type: ignore[union-attr]
    assert chat._person(1002) is None


PRESS = {
    "id": "9",
    "from": {"id": 6666, "is_bot": False, "first_name": "Eve"},
    "chat_instance": "1",
    "data": "claim:x",
}


def update(**fields: object) -> Update:
    return Update.de_json({"update_id": 1, **fields}, None)  # type: ignore[arg-type]


def message(text: str, *, reply_from: int | None = None) -> dict[str, object]:
    sent: dict[str, object] = {
        "message_id": 7,
        "date": 0,
        "chat": {"id": -1001, "type": "supergroup"},
        "from": {"id": 6666, "is_bot": False, "first_name": "Eve"},
        "text": text,
    }
    if reply_from is not None:
        sent["reply_to_message"] = {
            "message_id": 3,
            "date": 0,
            "chat": {"id": -1001, "type": "supergroup"},
            "from": {"id": reply_from, "is_bot": True, "first_name": "Bot"},
            "text": "a mirrored mention",
        }
    return sent


def test_what_a_stranger_asks_of_this_bot_and_what_is_only_talk() -> None:
    def asked(found: Update) -> str | None:
        return stranger_action(
            found, bot_id=42, bot_username="reachable_bot", commands={"rules", "help"}
        )

    assert asked(update(message=message("/rules now"))) == "/rules"
    assert asked(update(message=message("/Rules@Reachable_Bot"))) == "/rules"
    assert asked(update(message=message("/rules@other_bot"))) is None, "another bot's command"
    assert asked(update(message=message("/weather"))) is None, "not a command of ours"
    assert asked(update(message=message("hello"))) is None
    assert asked(update(message=message("me too", reply_from=42))) == "reply"
    assert asked(update(message=message("me too", reply_from=43))) is None
    assert asked(update(callback_query=PRESS)) == "button claim"


def test_a_press_and_a_command_are_known_by_what_stays_the_same_in_any_update() -> None:
    assert action_identity(update(callback_query=PRESS)) == "callback:9"
    assert action_identity(update(update_id=2, callback_query=PRESS)) == "callback:9"
    assert action_identity(update(message=message("/rules"))) == "message:-1001:7"
