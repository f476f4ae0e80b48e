"""Admins read, test and reload the rules from Slack and Telegram; others are politely refused."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import CONFIG, GROUP, Deployment, wait_for
from tests.e2e.test_reload import NEW_RULE


def bot_replies(deployment: Deployment, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in deployment.emulators.telegram_messages(chat_id) if m["from"]["is_bot"]]


def test_slack_admin_commands_and_a_reload_that_reaches_every_process(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_CONFIG_WATCH_S"] = "3600"  # only the chat command reloads here
    deployment.start("poller", "web")
    deployment.start("worker")

    rules = emulators.slash("U0SARI", "rules")
    assert "Rules, tried top to bottom" in rules and "everything-else" in rules
    route = emulators.slash("U0SARI", "route @humas_demo jalan RUSAK parah")
    assert "✓ any of the words rusak, lapor: rusak" in route
    assert "Result: route complaints → humas-slack, humas-telegram" in route
    assert "only Reachable's admins may use rules" in emulators.slash("U0RINA", "rules")
    assert "Write the text to test" in emulators.slash("U0SARI", "route")

    deployment.config.write_text(CONFIG.replace("routes:\n", NEW_RULE, 1))
    assert "The new config is live in every process" in emulators.slash("U0SARI", "reload")
    wait_for(
        lambda: deployment.log.read_text().count("reloaded (asked by sari)") >= 2,
        what="both processes reloading",
    )
    emulators.post("warga", "@humas_demo banjir setinggi lutut")
    wait_for(
        lambda: any(
            "banjir setinggi lutut" in str(m["blocks"]) for m in emulators.messages("C0SUPER")
        ),
        what="the worker routing with the reloaded rules",
    )

    deployment.config.write_text(CONFIG.replace("sla: 4h", "sla: later"))
    refused = emulators.slash("U0SARI", "reload")
    assert "routes[1].sla: 'later' is not a duration" in refused
    assert "previous rules stay live" in refused
    assert "Result: route floods" in emulators.slash("U0SARI", "route banjir")


def test_telegram_admin_commands_answer_admins_only(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.telegram_control("send", {"user_id": 1002, "chat_id": GROUP, "text": "/rules"})
    emulators.telegram_control(
        "send", {"user_id": 1002, "chat_id": GROUP, "text": "/route lapor, lampu mati"}
    )
    emulators.telegram_control("send", {"user_id": 1001, "chat_id": GROUP, "text": "/reload"})
    replies = wait_for(
        lambda: len(bot_replies(deployment, GROUP)) >= 3 and bot_replies(deployment, GROUP),
        what="three answers",
    )
    texts = [m["text"] for m in replies]
    assert any("Rules, tried top to bottom" in t for t in texts)
    assert any("Result: route complaints" in t for t in texts)
    assert any("only Reachable's admins may use reload" in t for t in texts)


def test_admins_read_the_rules_in_the_language_of_the_chat(deployment: Deployment) -> None:
    deployment.config.write_text(
        CONFIG.replace(
            "humas-telegram: {chat: telegram, chat_id: -1001000000001}",
            "humas-telegram: {chat: telegram, chat_id: -1001000000001, locale: id, "
            "timezone: Asia/Makassar}",
        )
    )
    emulators = deployment.emulators
    deployment.start()
    emulators.telegram_control("send", {"user_id": 1002, "chat_id": GROUP, "text": "/rules"})
    emulators.telegram_control(
        "send", {"user_id": 1002, "chat_id": GROUP, "text": "/route lapor, lampu mati"}
    )
    replies = wait_for(
        lambda: len(bot_replies(deployment, GROUP)) >= 2 and bot_replies(deployment, GROUP),
        what="two answers in the group",
    )
    rules, route = sorted((m["text"] for m in replies), key=lambda t: "Hasil" in t)
    assert "Aturan, dicoba dari atas ke bawah" in rules
    assert "jika salah satu kata rusak, lapor" in rules
    assert "selalu (penampung semua)" in rules
    assert "WITA:" in route and "unggahan baru" in route
    assert "✓ salah satu kata rusak, lapor: lapor" in route
    assert "Hasil: rute complaints → humas-slack, humas-telegram · prioritas tinggi" in route

    english = emulators.slash("U0SARI", "route lapor, lampu mati")
    assert "Result: route complaints → humas-slack, humas-telegram · priority high" in english
