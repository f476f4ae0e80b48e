"""A burst of mentions is folded into digests; every folded one can be listed, shown and
answered, and counts in the report."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from typing import Any

import httpx

from tests.e2e.conftest import (
    CONFIG,
    GROUP,
    ROOT,
    Deployment,
    settled,
    slack_buttons,
    telegram_buttons,
    wait_for,
)
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit

BURST = 15
DIGEST_EVERY_S = 5
FOLDING = f"bursts: {{fold_above: 3, digest_every: {DIGEST_EVERY_S}s, sample: 2}}\n"
DIGEST_COUNT = re.compile(r"Burst: (\d+) more mentions? since")
SAMPLE_LINE = re.compile(r"• \[([0-9a-f]{6})\] @(\w+): ")


def slack_text(message: dict[str, Any]) -> str:
    """What a person reads: mrkdwn's escapes undone."""
    return html.unescape(str(message.get("text", "")) + str(message.get("blocks") or ""))


def split(messages: list[dict[str, Any]], text_of: Any) -> tuple[list[str], list[str]]:
    """Single mirrors (their text) and digests (their text)."""
    singles, digests = [], []
    for message in messages:
        text = text_of(message)
        (digests if DIGEST_COUNT.search(text) else singles).append(text)
    return singles, digests


def shown(singles: list[str], digests: list[str]) -> int:
    return len(singles) + sum(int(DIGEST_COUNT.search(d).group(1)) for d in digests)  # type: ignore[union-attr]


def test_a_burst_is_folded_and_every_folded_mention_can_be_shown_and_answered(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.config.write_text(CONFIG + FOLDING)
    deployment.start()
    texts = {f"warga{i:02d}": f"@humas_demo keluhan nomor {i}" for i in range(BURST)}
    posted = {author: emulators.post(author, text) for author, text in texts.items()}

    def slack_view() -> tuple[list[str], list[str]]:
        return split(emulators.messages(), slack_text)

    def telegram_view() -> tuple[list[str], list[str]]:
        return split(emulators.telegram_messages(), lambda m: str(m["text"]))

    def counts() -> list[tuple[int, int, int]]:
        return [
            (shown(*view), len(view[0]), len(view[1])) for view in (slack_view(), telegram_view())
        ]

    # Watched for one more digest window once all are shown: nothing may be shown twice.
    settled(
        counts,
        until=lambda both: all(seen >= BURST for seen, _, _ in both),
        what="every mention in Slack and Telegram",
        window_s=DIGEST_EVERY_S + 1,
    )
    for singles, digests in (slack_view(), telegram_view()):
        assert shown(singles, digests) == BURST
        assert digests, "a burst of 15 against a threshold of 3 a minute is folded"
        assert len(singles) <= 4, singles
    singles, digests = slack_view()
    folded_in_both = 2 * BURST - len(singles) - len(telegram_view()[0])
    assert all("keluhan nomor" in text for text in singles)
    digest = digests[0]
    assert "The most urgent and oldest of them:" in digest
    assert "/reachable unanswered" in digest and "/reachable show <ref>" in digest
    assert len(SAMPLE_LINE.findall(digest)) == 2
    assert "/show <ref>" in telegram_view()[1][0]

    listed = emulators.slash("U0RINA", "unanswered")
    assert f"of {BURST}):" in listed

    reference, author = SAMPLE_LINE.findall(digest)[0]
    before = len(emulators.messages())
    answer = emulators.slash("U0RINA", f"show {reference}")
    assert f"The mention of @{author} is on its way here" in answer
    card = wait_for(
        lambda: next(
            (m for m in emulators.messages()[before:] if texts[author] in slack_text(m)),
            None,
        ),
        what="the folded mention shown on its own",
    )
    assert "reply_institution" in slack_buttons(card)
    assert "already shown in this chat" in emulators.slash("U0SARI", f"show {reference}")
    assert "No open thread" in emulators.slash("U0SARI", "show ffffff")
    assert "Write the thread's reference" in emulators.slash("U0SARI", "show")

    view = open_reply_form(emulators, "U0RINA", card)
    assert submit(emulators, "U0RINA", view, "Terima kasih, kami cek.")["view"] == "closed"
    reply = wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    assert [r["in_reply_to"] for r in reply] == [posted[author]["id"]]
    wait_for(
        lambda: (
            "Answered by rina"
            in str(next(m for m in emulators.messages() if m["ts"] == card["ts"])["blocks"])
        ),
        what="the shown card says it is answered",
    )

    # Telegram: /show in the group posts the card there too, with its buttons.
    telegram_before = len(emulators.telegram_messages())
    other, other_author = SAMPLE_LINE.findall(telegram_view()[1][0])[-1]
    emulators.telegram_control(
        "send", {"user_id": 1002, "chat_id": GROUP, "text": f"/show {other}"}
    )
    shown_card = wait_for(
        lambda: next(
            (
                m
                for m in emulators.telegram_messages()[telegram_before:]
                if texts[other_author] in m["text"] and telegram_buttons(m)
            ),
            None,
        ),
        what="the folded mention shown in Telegram",
    )
    assert "claim" in telegram_buttons(shown_card)

    metrics = httpx.get(f"http://127.0.0.1:{emulators.bridge_port}/metrics").text
    folded = int(re.search(r"^reachable_mentions_folded_total (\d+)", metrics, re.M).group(1))  # type: ignore[union-attr]
    assert folded == folded_in_both

    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "report",
            "--config",
            str(deployment.config),
            "--since",
            "1h",
        ],
        capture_output=True,
        text=True,
        env=deployment.env,
        cwd=ROOT,
        timeout=60,
        check=True,
    ).stdout
    assert "Came in bursts, folded into digests:" in report
