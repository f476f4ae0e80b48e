"""Staff link their own X account from chat and answer as themselves, from Slack and Telegram.

Slack links on the web (the bridge's one-time start page, then OAuth 2.0 with PKCE, back through
the bridge's callback); Telegram with the PIN flow in a private chat. Afterwards no token or
secret is readable in Redis or in the logs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import httpx
import redis

from tests.e2e.conftest import (
    GROUP,
    SLACK_SECRET,
    SLACK_TOKEN,
    TELEGRAM_TOKEN,
    TOKEN_KEY,
    X_CONSUMER,
    X_HUMAS_TOKEN,
    X_OAUTH_CLIENT,
    X_TOKEN,
    Deployment,
    Emulators,
    telegram_buttons,
    wait_for,
)
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_replies import open_reply_form, submit
from tests.e2e.web_browser import Browser

RINA_TELEGRAM = 1001
PERSONAL_REPLY = "Saya Rina dari Humas, sudah saya teruskan ke dinas terkait."


def posts_by(emulators: Emulators, author: str) -> list[dict[str, Any]]:
    response = emulators.http.get(
        f"{emulators.x_server.url}/_emulator/posts", params={"author": author}
    )
    return list(response.json()["posts"])


def consent(emulators: Emulators, url: str, username: str) -> httpx.Response:
    """What a person does in the browser: open X's page, type the username, approve."""
    page = emulators.http.get(url)
    assert page.status_code == 200, page.text
    form = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]*)" value="([^"]*)"', page.text)
    }
    action = html.unescape(re.search(r'<form method="post" action="([^"]*)"', page.text)[1])
    return emulators.http.post(
        httpx.URL(url).join(action),
        data={**form, "username": username, "decision": "authorize"},
        follow_redirects=False,
    )


def slack_ephemerals(emulators: Emulators, user: str) -> list[str]:
    response = emulators.http.get(
        f"{emulators.slack_server.url}/_emulator/ephemerals", params={"user": user}
    )
    return [str(e["text"]) for e in response.json()["ephemerals"]]


def private_chat(emulators: Emulators, user_id: int) -> list[str]:
    return [str(m["text"]) for m in emulators.telegram_messages(user_id)]


def say_privately(emulators: Emulators, user_id: int, text: str) -> None:
    result = emulators.telegram_control(
        "send", {"user_id": user_id, "chat_id": user_id, "text": text}
    )
    assert result.status_code == 200, result.text


def assert_no_secret_leaked(deployment: Deployment, secrets: list[str]) -> None:
    """Scan every Redis key and value, and every log line of the bridge."""
    dump = []
    with redis.Redis.from_url(deployment.env["REACHABLE_REDIS_URL"], decode_responses=True) as r:
        for key in r.scan_iter(match="*", count=1000):
            kind = r.type(key)
            if kind == "string":
                dump.append(f"{key} {r.get(key)}")
            elif kind == "hash":
                dump.append(f"{key} {r.hgetall(key)}")
            elif kind == "stream":
                dump.append(f"{key} {r.xrange(key)}")
            elif kind == "set":
                dump.append(f"{key} {r.smembers(key)}")
            elif kind == "zset":
                dump.append(f"{key} {r.zrange(key, 0, -1)}")
            else:
                dump.append(f"{key} ({kind})")
    stored = "\n".join(dump)
    logs = deployment.log.read_text()
    assert "rina_personal" in stored, "the scan must see the linked account"
    assert logs.strip(), "the scan must see the bridge's log"
    for secret in secrets:
        assert secret not in stored, f"a secret is readable in Redis: {secret[:6]}…"
        assert secret not in logs, f"a secret is in the logs: {secret[:6]}…"


def link_offer_in_slack(emulators: Emulators, user: str) -> str:
    """A person types ``/reachable link``: the bot's private answer."""

    def offers() -> list[str]:
        return [t for t in slack_ephemerals(emulators, user) if "/link/start/" in t]

    earlier = len(offers())
    emulators.slash(user, "link")
    return wait_for(lambda: offers()[earlier:], what="the link offer")[-1]


def start_url_in(offer: str) -> str:
    found = re.search(r"(http://\S+/link/start/\S+)", offer)
    assert found is not None, offer
    return found[1]


def link_on_the_web(emulators: Emulators, user: str, handle: str) -> None:
    """A person asks for a link in Slack and approves Reachable on X as ``handle``, all in
    their own browser."""
    browser = Browser()
    try:
        consent_url = browser.continue_to_x(start_url_in(link_offer_in_slack(emulators, user)))
        page = browser.open(browser.approve_on_x(consent_url, handle))
        assert page.status_code == 200, page.text
    finally:
        browser.close()


def issued_tokens(emulators: Emulators, username: str) -> list[str]:
    """The tokens X gave the bridge for this person (read from the emulator's own memory)."""
    user = emulators.x.user(username)
    assert user is not None
    return emulators.x.oauth.issued_to(user.id)


def test_slack_link_on_the_web_then_reply_as_myself(
    deployment: Deployment, browsers: Callable[[], Browser]
) -> None:
    emulators = deployment.emulators
    # The most talkative log level: even then no token or secret may reach a log line.
    deployment.env["REACHABLE_LOG_LEVEL"] = "DEBUG"
    deployment.start()
    mention = emulators.post("warga_budi", "@humas_demo jalan rusak di depan pasar")
    message = settle(deployment, 1)[0]
    settle_telegram(deployment, 1)

    # Not linked yet: the form says so, and submitting tells how to link; nothing is posted.
    view = open_reply_form(emulators, "U0RINA", message, action="reply_personal")
    assert "not linked yet" in str(view["blocks"]) and "/reachable link" in str(view["blocks"])
    refused = submit(emulators, "U0RINA", view, PERSONAL_REPLY)
    assert refused["view"] == "kept_open"
    assert "/reachable link" in str(refused["body"])

    assert emulators.slash("U0RINA", "link") == "One moment…"
    offer = wait_for(
        lambda: [t for t in slack_ephemerals(emulators, "U0RINA") if "/link/start/" in t],
        what="the link offer",
    )[0]
    assert "/oauth/authorize?oauth_token=" in offer, "the PIN way is offered too"

    # The start page names whom the account will be linked to, then sends the browser to X.
    browser = browsers()
    start_url = start_url_in(offer)
    start = browser.open(start_url)
    assert start.status_code == 200
    assert "You are linking an account on X to rina (Slack U0RINA)." in start.text
    consent_url = browser.continue_to_x(start_url)
    assert consent_url.startswith(f"{emulators.x_server.url}/i/oauth2/authorize?")
    assert "scope=tweet.read%20tweet.write%20users.read%20offline.access" in consent_url

    callback = browser.approve_on_x(consent_url, "rina_personal")
    assert callback.startswith(f"http://127.0.0.1:{emulators.bridge_port}/link/x/callback?")
    page = browser.open(callback)
    assert page.status_code == 200 and "@rina_personal is linked" in page.text
    again = browser.open(callback)
    assert again.status_code == 400 and "already used" in again.text

    view = open_reply_form(emulators, "U0RINA", message, action="reply_personal")
    assert view["title"]["text"] == "Reply as @rina_personal"
    assert "your own account @rina_personal" in str(view["blocks"])
    assert submit(emulators, "U0RINA", view, PERSONAL_REPLY)["view"] == "closed"

    posted = wait_for(lambda: posts_by(emulators, "rina_personal"), what="the reply on X")
    assert [p["in_reply_to"] for p in posted] == [mention["id"]]
    assert posted[0]["text"].endswith(PERSONAL_REPLY)
    assert posts_by(emulators, "humas_demo") == []
    wait_for(
        lambda: "Answered by rina as @rina_personal" in str(emulators.messages()[0]["blocks"]),
        what="Slack shows the answer",
    )
    wait_for(
        lambda: "Answered by rina as @rina_personal" in emulators.telegram_messages()[0]["text"],
        what="Telegram shows the answer",
    )
    # The reply itself shows in the Slack thread and the Telegram reply chain.
    in_thread = wait_for(
        lambda: [m for m in emulators.messages() if "replied as @rina_personal" in m["text"]],
        what="the reply in the Slack thread",
    )
    assert in_thread[0]["thread_ts"] == message["ts"] and PERSONAL_REPLY in in_thread[0]["text"]
    chain = wait_for(
        lambda: [
            m for m in emulators.telegram_messages() if "replied as @rina_personal" in m["text"]
        ],
        what="the reply in the Telegram chain",
    )
    assert chain[0]["reply_to_message_id"] == emulators.telegram_messages()[0]["message_id"]

    audit = deployment.audit()
    assert "linked | rina via slack | @rina_personal (oauth2)" in audit
    assert "refused | rina via slack | as personal" in audit
    assert "posted | rina via slack | as personal" in audit

    # "Reply again" lets Rina pick the identity; this time she answers as the institution.
    view = open_reply_form(emulators, "U0RINA", message, action="reply_again")
    assert "@humas_demo (the institution)" in str(view["blocks"])
    assert "@rina_personal (yourself)" in str(view["blocks"])
    follow_up = "Update: perbaikan dijadwalkan minggu depan."
    result = emulators.slack_control(
        "submit",
        {
            "user": "U0RINA",
            "view_id": view["id"],
            "values": {"reply": {"text": follow_up}, "identity": {"as": "institution"}},
        },
    )
    assert result.json()["view"] == "closed", result.text
    institution = wait_for(lambda: posts_by(emulators, "humas_demo"), what="the second reply")
    assert [p["in_reply_to"] for p in institution] == [mention["id"]]
    assert institution[0]["text"].endswith(follow_up)
    assert len(posts_by(emulators, "rina_personal")) == 1

    assert_no_secret_leaked(
        deployment,
        [
            *issued_tokens(emulators, "rina_personal"),
            TOKEN_KEY,
            X_OAUTH_CLIENT[1],
            X_CONSUMER[1],
            X_HUMAS_TOKEN[0],
            X_HUMAS_TOKEN[1],
            X_TOKEN,
            SLACK_TOKEN,
            SLACK_SECRET,
            TELEGRAM_TOKEN,
        ],
    )


def test_telegram_link_with_a_pin_then_reply_as_myself(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    mention = emulators.post("warga_sari", "@humas_demo kapan jalan diperbaiki?")
    settle(deployment, 1)
    mirror = settle_telegram(deployment, 1)[0]

    # A link is private: asked in the group, the bot says to ask in private.
    emulators.telegram_control(
        "send", {"user_id": RINA_TELEGRAM, "chat_id": GROUP, "text": "/link"}
    )
    wait_for(
        lambda: any("private chat" in m["text"] for m in emulators.telegram_messages()),
        what="the bot's answer in the group",
    )
    assert not any("oauth" in m["text"] for m in emulators.telegram_messages())

    say_privately(emulators, RINA_TELEGRAM, "/link")
    offer = wait_for(
        lambda: [t for t in private_chat(emulators, RINA_TELEGRAM) if "oauth_token=" in t],
        what="the link offer in private",
    )[0]
    pin_url = re.search(r"(http://\S+/oauth/authorize\?oauth_token=\S+)", offer)[1]
    pin_page = consent(emulators, pin_url, "rina_personal")
    pin = re.search(r'<code id="pin">(\d+)</code>', pin_page.text)[1]
    say_privately(emulators, RINA_TELEGRAM, pin)
    wait_for(
        lambda: any(
            "@rina_personal is linked" in t for t in private_chat(emulators, RINA_TELEGRAM)
        ),
        what="the link confirmed",
    )

    emulators.telegram_control(
        "send",
        {
            "user_id": RINA_TELEGRAM,
            "chat_id": GROUP,
            "text": PERSONAL_REPLY,
            "reply_to_message_id": mirror["message_id"],
        },
    )
    preview = wait_for(
        lambda: [
            m
            for m in emulators.telegram_messages()
            if m.get("reply_markup") and "Preview" in m["text"]
        ],
        what="the preview",
    )[0]
    assert telegram_buttons(preview) == ["send_institution", "send_personal", "cancel"]
    assert "Send as me (@rina_personal)" in str(preview["reply_markup"])
    emulators.press(RINA_TELEGRAM, GROUP, preview["message_id"], "send_personal")

    posted = wait_for(lambda: posts_by(emulators, "rina_personal"), what="the reply on X")
    assert [p["in_reply_to"] for p in posted] == [mention["id"]]
    wait_for(
        lambda: "Answered by rina as @rina_personal" in emulators.telegram_messages()[0]["text"],
        what="Telegram shows the answer",
    )
    wait_for(
        lambda: "Answered by rina as @rina_personal" in str(emulators.messages()[0]["blocks"]),
        what="Slack shows the answer",
    )

    say_privately(emulators, RINA_TELEGRAM, "/unlink")
    wait_for(
        lambda: any("is unlinked" in t for t in private_chat(emulators, RINA_TELEGRAM)),
        what="the unlink confirmed",
    )
    assert_no_secret_leaked(
        deployment, [*issued_tokens(emulators, "rina_personal"), TOKEN_KEY, X_CONSUMER[1]]
    )
    assert len(posts_by(emulators, "rina_personal")) == 1


def test_an_expired_token_is_refreshed_and_a_revoked_one_is_reported(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.start()
    emulators.post("warga_a", "@humas_demo satu")
    emulators.post("warga_b", "@humas_demo dua")
    first, second = sorted(settle(deployment, 2), key=lambda m: "dua" in str(m["blocks"]))
    settle_telegram(deployment, 2)
    link_on_the_web(emulators, "U0RINA", "rina_personal")

    # The access token dies early: the bridge refreshes it (once) and posts.
    assert emulators.x_control("tokens/expire", {"username": "rina_personal"}).status_code == 200
    view = open_reply_form(emulators, "U0RINA", first, action="reply_personal")
    submit(emulators, "U0RINA", view, "Balasan pertama.")
    wait_for(lambda: posts_by(emulators, "rina_personal"), what="the first reply on X")
    refreshes = [
        c
        for c in emulators.http.get(f"{emulators.x_server.url}/_emulator/calls").json()["calls"]
        if c["path"] == "/2/oauth2/token"
    ]
    assert len(refreshes) == 2  # the code exchange, then one refresh

    # Rina revokes Reachable on X: the reply fails in plain words and the thread stays open.
    assert emulators.x_control("tokens/revoke", {"username": "rina_personal"}).status_code == 200
    view = open_reply_form(emulators, "U0RINA", second, action="reply_personal")
    submit(emulators, "U0RINA", view, "Balasan kedua.")
    notice = wait_for(
        lambda: [m for m in emulators.messages() if "could not be posted" in m["text"]],
        what="the failure told in Slack",
    )[0]
    assert "no longer accepts the link to your account @rina_personal" in notice["text"]
    assert len(posts_by(emulators, "rina_personal")) == 1
    assert "reply_personal" in str(
        next(m for m in emulators.messages() if m["ts"] == second["ts"])["blocks"]
    )


def test_a_reply_posted_directly_from_a_linked_account_answers_the_thread(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_LINKED_POLL_S"] = "0.5"
    deployment.start()
    link_on_the_web(emulators, "U0RINA", "rina_personal")
    cursor = "e2e:own-cursor:x:person:rina"
    with redis.Redis.from_url(deployment.env["REACHABLE_REDIS_URL"]) as r:
        wait_for(lambda: r.exists(cursor), what="the poller watching @rina_personal")

    mention = emulators.post("warga_budi", "@humas_demo lampu taman mati")
    settle(deployment, 1)
    settle_telegram(deployment, 1)
    emulators.post("rina_personal", "Sudah saya laporkan ke dinas.", in_reply_to=mention["id"])
    wait_for(
        lambda: "Answered by rina as @rina_personal" in str(emulators.messages()[0]["blocks"]),
        what="Slack shows the direct answer",
    )
    wait_for(
        lambda: "Answered by rina as @rina_personal" in emulators.telegram_messages()[0]["text"],
        what="Telegram shows the direct answer",
    )
