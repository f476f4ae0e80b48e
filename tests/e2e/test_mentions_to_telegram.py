"""Mentions reach the Telegram group too; one thread state shows in Slack and Telegram alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bridge.desks.claims import short_reference
from bridge.domain.models import ThreadStatus, thread_id_for
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from bridge.store.threads import change_state
from tests.e2e.conftest import (
    BASIC_GROUP,
    CONFIG,
    FORUM,
    GROUP,
    TELEGRAM_TOKEN,
    UNKNOWN_GROUP,
    Deployment,
    settled,
    slack_buttons,
    telegram_buttons,
    wait_for,
)
from tests.e2e.test_mentions_to_slack import (
    HOSTILE,
    post_the_three_mentions,
    section_text,
    settle,
    settle_telegram,
)
from tests.e2e.test_mentions_to_slack import telegram_text as mention_text

FAMILY = "👨\u200d👩\u200d👧"


@pytest.fixture
async def store(deployment: Deployment) -> AsyncIterator[Store]:
    client = connect(deployment.env["REACHABLE_REDIS_URL"])
    yield Store(client, Keys("e2e"))
    await client.aclose()


def test_mentions_appear_once_in_the_group_threaded_and_literal(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    post_the_three_mentions(deployment)

    messages = {mention_text(m): m for m in settle_telegram(deployment, 3)}
    assert len(settle(deployment, 3)) == 3  # and once each in Slack

    root = messages["@humas_demo jalan rusak di depan pasar #lapor"]
    reply = messages["@humas_demo @warga_budi betul, parah sekali"]
    assert reply["reply_to_message_id"] == root["message_id"]
    assert messages[HOSTILE]["reply_to_message_id"] is None
    assert "Route: complaints · priority high · SLA 30m" in root["text"]
    buttons = [
        b["callback_data"].split(":")[0]
        for row in root["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert buttons == ["reply_institution", "reply_personal", "claim", "dismiss"]
    # Telegram parsed every message: no "can't parse entities", no other refusal.
    assert {c["status"] for c in emulators.telegram_calls("sendMessage")} == {200}


def test_a_long_post_and_an_emoji_on_the_limit_arrive_whole(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    long_text = "@humas_demo " + " ".join(f"kalimat{n}" for n in range(1200))
    emulators.post("warga_budi", long_text[:10_000])
    messages = settle_telegram(deployment, 3)
    parts = [mention_text(messages[0])] + [m["text"].split("\n", 1)[1] for m in messages[1:]]
    assert " ".join(parts).split() == long_text[:10_000].split()
    assert all(m["reply_to_message_id"] == messages[0]["message_id"] for m in messages[1:])
    assert [m["text"].split("\n", 1)[0] for m in messages[1:]] == [
        "(2/3, continued)",
        "(3/3, continued)",
    ]

    edge = "@humas_demo " + "a" * 4070 + FAMILY + " selesai"
    emulators.post("siti_rahma", edge)
    wait_for(lambda: len(emulators.telegram_messages()) >= 5, what="the boundary post")
    texts = [m["text"] for m in emulators.telegram_messages()[3:]]
    assert FAMILY in "".join(texts)
    assert all(t.count("\u200d") in (0, 2) for t in texts)


def test_an_update_delivered_three_times_is_acted_on_once(deployment: Deployment) -> None:
    """Telegram delivers a press again, before it was handled and after: it acts once."""
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle_telegram(deployment, 1)[0]
    pressed = emulators.telegram_control(
        "press",
        {"user_id": 1001, "chat_id": GROUP, "message_id": message["message_id"], "action": "claim"},
    ).json()
    emulators.telegram_control("redeliver", {"update_id": pressed["update_id"]})
    answer = emulators.answer_text(pressed["callback_query_id"])
    assert "It is yours" in answer
    # Delivered once more after it was handled: still one answer, and no more.
    emulators.telegram_control("redeliver", {"update_id": pressed["update_id"]})
    wait_for(lambda: emulators.telegram_pending() == 0, what="every delivery taken")
    answers = settled(
        lambda: len(emulators.telegram_calls("answerCallbackQuery")), until=bool, what="answers"
    )
    assert answers == 1


def test_updates_from_unknown_chats_and_people_change_nothing(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.telegram_control("send", {"user_id": 1001, "chat_id": UNKNOWN_GROUP, "text": "/help"})
    emulators.telegram_control("send", {"user_id": 1001, "chat_id": GROUP, "text": "/help"})
    helped = wait_for(
        lambda: [m for m in emulators.telegram_messages() if m["from"]["is_bot"]],
        what="help in the known group",
    )
    assert "Reachable mirrors public mentions" in helped[0]["text"]
    assert [m for m in emulators.telegram_messages(UNKNOWN_GROUP) if m["from"]["is_bot"]] == []
    emulators.post("warga_budi", "@humas_demo halo")
    message = wait_for(
        lambda: [m for m in emulators.telegram_messages() if m.get("reply_markup")],
        what="a mirrored mention",
    )[0]
    query = emulators.press(6666, GROUP, message["message_id"], "reply_institution")
    answer = emulators.answer_text(query)
    assert "not on Reachable's staff list" in answer


async def test_a_state_change_edits_both_chats(deployment: Deployment, store: Store) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo jalan rusak")
    settle_telegram(deployment, 1)
    settle(deployment, 1)
    thread_id = (await store.thread_ids())[0]

    await change_state(store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
    telegram = wait_for(
        lambda: [m for m in emulators.telegram_messages() if "rina is on it" in m["text"]],
        what="Telegram redrawn",
    )[0]
    slack = wait_for(
        lambda: [m for m in emulators.messages() if "rina is on it" in str(m["blocks"])],
        what="Slack redrawn",
    )[0]
    assert [
        b["callback_data"].split(":")[0]
        for row in telegram["reply_markup"]["inline_keyboard"]
        for b in row
    ] == ["reply_institution", "reply_personal", "claim", "release", "dismiss"]
    assert section_text(slack) == "@humas_demo jalan rusak"

    # Claiming again draws the very same message: Telegram says "not modified", which is done.
    await change_state(store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
    effect_key = f"refresh:humas-telegram:{thread_id}:2"
    effect = await _wait_effect(store, effect_key)
    assert effect == "done"
    edits = emulators.telegram_calls("editMessageText")
    assert [c["status"] for c in edits] == [200, 400]

    await change_state(store, thread_id, status=ThreadStatus.ANSWERED, by="rina")
    # Answered: one deliberate "Reply again" replaces the reply buttons.
    wait_for(
        lambda: (
            "Answered by rina" in emulators.telegram_messages()[0]["text"]
            and telegram_buttons(emulators.telegram_messages()[0]) == ["reply_again"]
        ),
        what="only 'Reply again' left in Telegram",
    )
    wait_for(
        lambda: slack_buttons(emulators.messages()[0]) == ["reply_again"],
        what="only 'Reply again' left in Slack",
    )


async def _wait_effect(store: Store, effect_key: str) -> str | None:
    for _ in range(100):
        effect = await store.effect(effect_key)
        if effect is not None and effect.state in ("done", "failed"):
            return effect.state
        await asyncio.sleep(0.1)
    return None


def test_a_bot_removed_from_the_group_is_reported_once_and_not_retried(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    assert emulators.telegram_control("kick", {"chat_id": GROUP}).status_code == 200
    emulators.post("warga_budi", "@humas_demo satu")
    emulators.post("siti_rahma", "@humas_demo dua")
    settle(deployment, 2)
    settled(lambda: len(emulators.messages("C0SUPER")), until=bool, what="an alert to the admins")
    alerts = emulators.messages("C0SUPER")
    assert len(alerts) == 1, [a["text"] for a in alerts]
    assert "cannot post to Telegram chat -1001000000001" in alerts[0]["text"]
    assert "humas-telegram" in alerts[0]["text"]
    assert [c["status"] for c in emulators.telegram_calls("sendMessage")] == [403, 403]


def test_a_group_upgraded_to_a_supergroup_keeps_working(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.config.write_text(CONFIG.replace(str(GROUP), str(BASIC_GROUP)))
    deployment.start()
    emulators.post("warga_budi", "@humas_demo sebelum")
    wait_for(lambda: emulators.telegram_messages(BASIC_GROUP), what="the basic group")
    migrated = emulators.telegram_control("migrate", {"chat_id": BASIC_GROUP}).json()
    new_group = migrated["migrate_to_chat_id"]
    emulators.post("siti_rahma", "@humas_demo sesudah")
    moved = wait_for(
        lambda: [m for m in emulators.telegram_messages(new_group) if m["from"]["is_bot"]],
        what="the mention in the new supergroup",
    )
    assert [mention_text(m) for m in moved] == ["@humas_demo sesudah"]
    # People in the new supergroup are served as before.
    query = emulators.press(1001, new_group, moved[-1]["message_id"], "claim")
    answer = emulators.answer_text(query)
    assert "It is yours" in answer


def test_a_forum_topic_destination_keeps_the_conversation_in_its_topic(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    topic = emulators.telegram_control("topics", {"chat_id": FORUM, "name": "Keluhan"}).json()
    thread = topic["message_thread_id"]
    other = emulators.telegram_control("topics", {"chat_id": FORUM, "name": "Pujian"}).json()
    other_thread = other["message_thread_id"]
    deployment.config.write_text(
        CONFIG.replace(
            "  supervisors:",
            f"  desk-topic: {{chat: telegram, chat_id: {FORUM}, topic: {thread}}}\n"
            f"  praise-topic: {{chat: telegram, chat_id: {FORUM}, topic: {other_thread}}}\n"
            "  supervisors:",
        ).replace("to: [humas-slack, humas-telegram], sla: 4h", "to: [desk-topic], sla: 4h")
    )
    deployment.start()
    first = emulators.post("warga_budi", "@humas_demo halo desk")
    emulators.post("siti_rahma", "@humas_demo @warga_budi ikut", in_reply_to=first["id"])
    messages = wait_for(
        lambda: (
            len([m for m in emulators.telegram_messages(FORUM) if m["from"]["is_bot"]]) >= 2
            and [m for m in emulators.telegram_messages(FORUM) if m["from"]["is_bot"]]
        ),
        what="two posts in the topic",
    )
    assert [m["message_thread_id"] for m in messages] == [thread, thread]
    assert messages[1]["reply_to_message_id"] == messages[0]["message_id"]

    # /show in the other topic shows the thread in that topic, the destination asked from.
    reference = short_reference(
        thread_id_for(network="x", account="humas", conversation_id=str(first["id"]))
    )
    emulators.telegram_control(
        "send",
        {
            "user_id": 1001,
            "chat_id": FORUM,
            "message_thread_id": other_thread,
            "text": f"/show {reference}",
        },
    )
    shown = wait_for(
        lambda: next(
            (
                m
                for m in emulators.telegram_messages(FORUM)
                if m.get("message_thread_id") == other_thread and telegram_buttons(m)
            ),
            None,
        ),
        what="the thread shown in the other topic",
    )
    assert "halo desk" in shown["text"]


def test_webhook_mode_takes_updates_with_the_secret_and_refuses_forgeries(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    webhook = f"http://127.0.0.1:{emulators.bridge_port}/telegram/webhook"
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"] = webhook
    deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"] = "s3cret-token"
    deployment.start()
    # The listener sets the webhook beside the web app starting: maybe just after /healthz.
    wait_for(
        lambda: (
            emulators.http.get(
                f"{emulators.telegram_server.url}/bot{TELEGRAM_TOKEN}/getWebhookInfo"
            ).json()["result"]["url"]
            == webhook
        ),
        what="the webhook to be set",
    )
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle_telegram(deployment, 1)[0]
    query = emulators.press(1001, GROUP, message["message_id"], "claim")
    answer = emulators.answer_text(query)
    assert "It is yours" in answer
    forged = {
        "update_id": 1,
        "callback_query": {
            "id": "9",
            "from": {"id": 1001, "is_bot": False, "first_name": "Rina"},
            "chat_instance": "1",
            "data": "claim:1",
        },
    }
    for headers in ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, {}):
        response = emulators.http.post(webhook, json=forged, headers=headers)
        assert response.status_code == 403
    assert len(emulators.telegram_calls("answerCallbackQuery")) == 1

    # Back to long polling: the webhook is deleted and presses arrive by getUpdates.
    deployment.stop_all()
    del deployment.env["REACHABLE_TELEGRAM_WEBHOOK_URL"]
    del deployment.env["REACHABLE_TELEGRAM_WEBHOOK_SECRET"]
    deployment.start()
    wait_for(
        lambda: (
            not emulators.http.get(
                f"{emulators.telegram_server.url}/bot{TELEGRAM_TOKEN}/getWebhookInfo"
            ).json()["result"]["url"]
        ),
        what="the webhook to be deleted",
    )
    assert emulators.telegram_calls("deleteWebhook")
    query = emulators.press(1001, GROUP, message["message_id"], "release")
    assert "released" in emulators.answer_text(query).lower()
