"""One mention, two languages: the Telegram group reads Bahasa Indonesia on WITA time, the
Slack channel English; each person's own answers follow their language."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from adapters.telegram import texts as telegram_texts
from bridge.text import messages
from bridge.text.i18n import speaking
from tests.e2e.conftest import CONFIG, GROUP, Deployment, wait_for
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_replies import REPLY, replies_on_x

CONFIG_TWO_LANGUAGES = CONFIG.replace(
    "humas-telegram: {chat: telegram, chat_id: -1001000000001}",
    "humas-telegram: {chat: telegram, chat_id: -1001000000001, locale: id, "
    "timezone: Asia/Makassar}",
).replace(
    "{key: rina, slack: U0RINA, telegram: 1001, speaks_for: [humas]}",
    "{key: rina, name: Rina, slack: U0RINA, telegram: 1001, speaks_for: [humas], locale: id}",
)


def in_indonesian(say: Any, **values: Any) -> str:
    """What the catalogue says in Bahasa Indonesia, checked to be a translation at all."""
    with speaking("id"):
        said = str(say(**values))
    with speaking("en"):
        assert said != str(say(**values)), f"{say.__name__} is not translated"
    return said


def slack_labels(message: dict[str, Any]) -> list[str]:
    return [
        element["text"]["text"]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def telegram_labels(message: dict[str, Any]) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in keyboard for button in row]


def test_each_destination_and_person_reads_their_own_language(deployment: Deployment) -> None:
    assert CONFIG_TWO_LANGUAGES.count("locale: id") == 2
    deployment.config.write_text(CONFIG_TWO_LANGUAGES)
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo lampu jalan mati di depan sekolah")
    slack = settle(deployment, 1)[0]
    telegram = settle_telegram(deployment, 1)[0]

    assert "New mention of @humas_demo" in slack["text"]
    assert slack_labels(slack)[:2] == ["Reply as @humas_demo", "Reply as myself"]
    assert "Claim" in slack_labels(slack)
    assert "WITA" in telegram["text"] and "WIB" not in telegram["text"]
    followers = in_indonesian(messages.followers, count=2).removeprefix("2 ")
    assert re.search(rf"[\d.]+ {followers}", telegram["text"]), telegram["text"]
    assert in_indonesian(messages.action_label, action_id="claim", handle="humas_demo") in (
        telegram_labels(telegram)
    )
    assert in_indonesian(
        messages.action_label, action_id="reply_institution", handle="humas_demo"
    ) in telegram_labels(telegram)

    # Rina (Bahasa Indonesia) answers from the group: prompt, preview and confirmation in it.
    def bot_messages() -> list[dict[str, Any]]:
        return [m for m in emulators.telegram_messages() if m["from"]["is_bot"]]

    emulators.press(1001, GROUP, telegram["message_id"], "reply_institution")
    ask = in_indonesian(telegram_texts.write_reply, name="Rina")
    prompt = wait_for(lambda: [m for m in bot_messages() if ask in m["text"]], what="the prompt")
    emulators.telegram_control(
        "send",
        {
            "user_id": 1001,
            "chat_id": GROUP,
            "text": REPLY,
            "reply_to_message_id": prompt[0]["message_id"],
        },
    )
    preview_heading = in_indonesian(
        telegram_texts.preview, text="", length=len(REPLY), limit=280, network="X", too_long=None
    )
    preview = wait_for(
        lambda: [m for m in bot_messages() if m["text"].startswith(preview_heading.strip())],
        what="the preview",
    )[0]
    emulators.press(1001, GROUP, preview["message_id"], "send_institution")
    wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    confirmation = in_indonesian(messages.reply_queued, handle="humas_demo")
    wait_for(
        lambda: any(
            m["message_id"] == preview["message_id"] and m["text"].startswith(confirmation)
            for m in bot_messages()
        ),
        what="the confirmation in Bahasa Indonesia",
    )
    answered = wait_for(
        lambda: [
            m
            for m in emulators.telegram_messages()
            if m["message_id"] == telegram["message_id"]
            and "Rina" in m["text"]
            and "✅" in m["text"]
        ],
        what="the Telegram mirror answered",
    )[0]
    assert "Answered by" not in answered["text"] and "@humas_demo" in answered["text"]
    under_a_minute = in_indonesian(messages.human_duration, delta=timedelta(0))
    assert " menit" in answered["text"] or under_a_minute in answered["text"]
    wait_for(
        lambda: "Answered by Rina as @humas_demo" in str(emulators.messages()),
        what="Slack answered in English",
    )

    # In the English Slack channel, each person's own answers follow their language.
    assert messages.unanswered_none() in emulators.slash("U0SARI", "unanswered")
    assert in_indonesian(messages.unanswered_none) in emulators.slash("U0RINA", "unanswered")
