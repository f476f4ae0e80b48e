"""Claim, take over, release and dismiss across Slack and Telegram, on one shared thread."""

from __future__ import annotations

from tests.e2e.conftest import GROUP, Deployment, slack_buttons, telegram_buttons, wait_for
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_personal_replies import slack_ephemerals

RINA_TG, SARI_TG = 1001, 1002


def test_one_claim_wins_across_chats_then_a_takeover_a_refused_release_and_a_dismissal(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo trotoar rusak")
    slack = settle(deployment, 1)[0]
    telegram = settle_telegram(deployment, 1)[0]

    emulators.click("U0RINA", slack["ts"], "claim")
    wait_for(
        lambda: any("It is yours" in t for t in slack_ephemerals(emulators, "U0RINA")),
        what="Rina's claim confirmed",
    )
    wait_for(
        lambda: "rina is on it" in emulators.telegram_messages()[0]["text"],
        what="Telegram showing Rina's claim",
    )
    assert "release" in telegram_buttons(emulators.telegram_messages()[0])
    assert "rina is on it · since " in emulators.telegram_messages()[0]["text"]
    assert "since <!date^" in str(emulators.messages()[0]["blocks"]), "local time in Slack"

    # Sari, in Telegram, is told who has it; pressing again within a minute takes it over.
    told = emulators.answer_text(emulators.press(SARI_TG, GROUP, telegram["message_id"], "claim"))
    assert "rina claimed this" in told and "press Claim again within a minute" in told
    took = emulators.answer_text(emulators.press(SARI_TG, GROUP, telegram["message_id"], "claim"))
    assert "You took this over from rina" in took
    wait_for(
        lambda: "sari is on it" in str(emulators.messages()[0]["blocks"]),
        what="Slack showing Sari's claim",
    )

    # Rina may not release Sari's claim (Sari could release Rina's: she is a supervisor).
    emulators.click("U0RINA", slack["ts"], "release")
    wait_for(
        lambda: any(
            "only they or a supervisor" in t for t in slack_ephemerals(emulators, "U0RINA")
        ),
        what="the refused release",
    )

    # Sari dismisses it in Telegram: she is asked why, and the reason shows everywhere.
    emulators.press(SARI_TG, GROUP, telegram["message_id"], "dismiss")
    question = wait_for(
        lambda: [m for m in emulators.telegram_messages() if "Why dismiss" in m["text"]],
        what="the question why",
    )[0]
    assert telegram_buttons(question) == ["dreason"] * 5
    emulators.press(SARI_TG, GROUP, question["message_id"], "dreason:spam")
    wait_for(
        lambda: "Dismissed by sari: Spam" in str(emulators.messages()[0]["blocks"]),
        what="Slack showing the dismissal",
    )
    wait_for(
        lambda: "Dismissed by sari: Spam" in emulators.telegram_messages()[0]["text"],
        what="Telegram showing the dismissal",
    )
    assert slack_buttons(emulators.messages()[0]) == []
    assert not [m for m in emulators.telegram_messages() if "Why dismiss" in m["text"]]


def test_dismissing_from_slack_asks_for_a_reason_and_a_new_mention_reopens(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    first = emulators.post("warga_budi", "@humas_demo info lowongan?")
    slack = settle(deployment, 1)[0]
    emulators.click("U0RINA", slack["ts"], "dismiss")
    view = emulators.views("U0RINA")[-1]
    result = emulators.slack_control(
        "submit",
        {
            "user": "U0RINA",
            "view_id": view["id"],
            "values": {"reason": {"reason": "not_for_us"}, "note": {"note": "ke BKN"}},
        },
    )
    assert result.json()["view"] == "closed", result.text
    wait_for(
        lambda: "Dismissed by rina: Not for us (ke BKN)" in str(emulators.messages()[0]["blocks"]),
        what="the dismissal with its reason",
    )
    emulators.post("warga_budi", "@humas_demo halo? masih menunggu", in_reply_to=first["id"])
    wait_for(
        lambda: "claim" in slack_buttons(emulators.messages()[0]),
        what="the thread reopened by the new mention",
    )
