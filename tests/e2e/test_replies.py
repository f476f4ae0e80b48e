"""Staff answer a mention from Slack as the institution; the reply appears on X, once."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import (
    GROUP,
    Deployment,
    Emulators,
    settled,
    slack_buttons,
    telegram_buttons,
    wait_for,
)
from tests.e2e.test_mentions_to_slack import settle, settle_telegram

REPLY = "Terima kasih, laporan Anda sudah kami teruskan ke dinas terkait."


def open_reply_form(
    emulators: Emulators, user: str, message: dict[str, Any], action: str = "reply_institution"
) -> dict[str, Any]:
    """Press the button and wait for the form it opens (not one left open before)."""

    def open_ids() -> set[str]:
        response = emulators.http.get(
            f"{emulators.slack_server.url}/_emulator/views", params={"user": user}
        )
        return {view["id"] for view in response.json()["views"]}

    before = open_ids()
    emulators.click(user, message["ts"], action)
    return dict(
        wait_for(
            lambda: [v for v in emulators.views(user) if v["id"] not in before],
            what=f"the form {action} opens",
        )[-1]
    )


def submit(emulators: Emulators, user: str, view: dict[str, Any], text: str) -> dict[str, Any]:
    result = emulators.slack_control("submit", {"user": user, "view_id": view["id"], "text": text})
    assert result.status_code == 200, result.text
    return dict(result.json())


def replies_on_x(emulators: Emulators) -> list[dict[str, Any]]:
    return list(
        emulators.http.get(
            f"{emulators.x_server.url}/_emulator/posts", params={"author": "humas_demo"}
        ).json()["posts"]
    )


def test_a_reply_as_the_institution_goes_out_once_and_every_mirror_says_so(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    mention = emulators.post("warga_budi", "@humas_demo jalan rusak di depan pasar")
    message = settle(deployment, 1)[0]
    settle_telegram(deployment, 1)

    view = open_reply_form(emulators, "U0RINA", message)
    form = str(view["blocks"])
    assert "@humas_demo jalan rusak di depan pasar" in form
    assert "posted publicly on X as @humas_demo" in form
    assert view["title"]["text"] == "Reply as @humas_demo"
    assert submit(emulators, "U0RINA", view, REPLY)["view"] == "closed"

    posted = wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    assert len(posted) == 1
    assert posted[0]["in_reply_to"] == mention["id"] and posted[0]["text"].endswith(REPLY)
    wait_for(
        lambda: "Answered by rina as @humas_demo" in str(emulators.messages()[0]["blocks"]),
        what="Slack shows the answer",
    )
    telegram = wait_for(
        lambda: [
            m
            for m in emulators.telegram_messages()
            if "Answered by rina as @humas_demo" in m["text"]
        ],
        what="Telegram shows the answer",
    )[0]
    assert telegram_buttons(telegram) == ["reply_again"]
    assert "after the mention" in telegram["text"]
    assert f"https://x.com/humas_demo/status/{posted[0]['id']}" in str(emulators.messages()[0])
    assert len(settled(lambda: replies_on_x(emulators), until=bool, what="one reply on X")) == 1

    lines = deployment.audit().splitlines()
    assert any("queued | rina via slack | as institution" in line for line in lines)
    assert any(
        "posted | rina via slack | as institution" in line and REPLY in line for line in lines
    )


def test_problems_come_back_inside_the_form_and_nothing_is_posted(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle(deployment, 1)[0]

    view = open_reply_form(emulators, "U0RINA", message)
    too_long = submit(emulators, "U0RINA", view, "a" * 281)
    assert too_long["view"] == "kept_open"
    assert "1 character too long for X (281 of 280" in str(too_long["body"])

    sari_form = open_reply_form(emulators, "U0SARI", message)
    refused = submit(emulators, "U0SARI", sari_form, "boleh saya jawab?")
    assert refused["view"] == "kept_open"
    assert "You may not reply as @humas_demo" in str(refused["body"])

    personal_form = open_reply_form(emulators, "U0RINA", message, action="reply_personal")
    personal = submit(emulators, "U0RINA", personal_form, "saya pribadi")
    assert "personal X account is not linked" in str(personal["body"])
    assert replies_on_x(emulators) == []

    # Slack keeps one form per person: the personal one replaced the first.
    view = open_reply_form(emulators, "U0RINA", message)
    link_heavy = "https://example.org/" + "x" * 300 + " ok"  # a link counts 23, whatever its size
    assert submit(emulators, "U0RINA", view, link_heavy)["view"] == "closed"
    wait_for(lambda: replies_on_x(emulators), what="the one valid reply")
    wait_for(
        lambda: "Answered by rina" in str(emulators.messages()[0]["blocks"]),
        what="the thread answered",
    )
    # Once answered, only a deliberate "Reply again" is left: nobody answers twice by accident.
    assert slack_buttons(emulators.messages()[0]) == ["reply_again"]
    on_x = settled(lambda: replies_on_x(emulators), until=bool, what="the valid reply on X")
    assert [p["text"].split(" ", 1)[-1] for p in on_x] == [link_heavy]


def test_a_reply_written_in_telegram_is_previewed_then_sent_once(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    mention = emulators.post("warga_budi", "@humas_demo lampu jalan mati")
    mirror = settle_telegram(deployment, 1)[0]

    def bot_messages() -> list[dict[str, Any]]:
        return [m for m in emulators.telegram_messages() if m["from"]["is_bot"]]

    # Sari may not speak for the institution and is told so.
    emulators.telegram_control(
        "send",
        {
            "user_id": 1002,
            "chat_id": GROUP,
            "text": "sip",
            "reply_to_message_id": mirror["message_id"],
        },
    )
    wait_for(
        lambda: any("You may not reply as @humas_demo" in m["text"] for m in bot_messages()),
        what="Sari's refusal",
    )

    # Rina presses the reply button, answers the prompt, and gets a preview to confirm.
    emulators.press(1001, GROUP, mirror["message_id"], "reply_institution")
    prompt = wait_for(
        lambda: [m for m in bot_messages() if "write your reply" in m["text"]], what="the prompt"
    )[0]
    emulators.telegram_control(
        "send",
        {
            "user_id": 1001,
            "chat_id": GROUP,
            "text": REPLY,
            "reply_to_message_id": prompt["message_id"],
        },
    )
    preview = wait_for(
        lambda: [m for m in bot_messages() if m["text"].startswith("Preview")], what="the preview"
    )[0]
    assert f"Preview ({len(REPLY)}/280 characters on X)" in preview["text"]
    buttons = [
        b["callback_data"].split(":")[0]
        for row in preview["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert buttons == ["send_institution", "cancel"]
    assert replies_on_x(emulators) == []

    # Only its author can send it; Rina sends it, once, however often she presses.
    assert "Only the person who wrote" in emulators.answer_text(
        emulators.press(1002, GROUP, preview["message_id"], "send_institution")
    )
    emulators.press(1001, GROUP, preview["message_id"], "send_institution")
    posted = wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    assert posted[0]["in_reply_to"] == mention["id"] and posted[0]["text"].endswith(REPLY)
    wait_for(
        lambda: "Answered by rina as @humas_demo" in emulators.telegram_messages()[0]["text"],
        what="the mirror answered",
    )
    sent = next(m for m in bot_messages() if m["message_id"] == preview["message_id"])
    assert sent["text"].startswith("Posting your reply as @humas_demo")
    assert not sent.get("reply_markup")  # nothing left to press twice
    assert len(settled(lambda: replies_on_x(emulators), until=bool, what="one reply on X")) == 1


def test_a_reply_x_refuses_is_reported_in_the_chat_and_the_thread_stays_open(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_budi", "@humas_demo halo")
    message = settle(deployment, 1)[0]
    assert (
        emulators.x_control(
            "faults", {"method": "POST", "path": "/2/tweets", "status": 403, "times": 1}
        ).status_code
        == 200
    )
    view = open_reply_form(emulators, "U0RINA", message)
    assert submit(emulators, "U0RINA", view, REPLY)["view"] == "closed"
    notice = wait_for(
        lambda: [m for m in emulators.messages() if "could not be posted" in m.get("text", "")],
        what="the failure told in the channel",
    )[0]
    assert "rina asked to post as @humas_demo" in notice["text"]
    assert replies_on_x(emulators) == []
    mirror = emulators.messages()[0]
    assert [b for b in mirror["blocks"] if b["type"] == "actions"], "the thread stays open"


def test_an_answer_posted_directly_on_x_marks_the_thread_answered_everywhere(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    mention = emulators.post("warga_budi", "@humas_demo kapan dibuka?")
    settle(deployment, 1)
    settle_telegram(deployment, 1)
    # Someone with the account's password answers in X's own app, not through Reachable.
    direct = emulators.post("humas_demo", "Besok pukul 08.00.", in_reply_to=mention["id"])
    wait_for(
        lambda: "Answered directly on X as @humas_demo" in str(emulators.messages()[0]),
        what="Slack shows the direct answer",
    )
    wait_for(
        lambda: "Answered directly on X" in emulators.telegram_messages()[0]["text"],
        what="Telegram shows the direct answer",
    )
    assert f"https://x.com/humas_demo/status/{direct['id']}" in str(emulators.messages()[0])
