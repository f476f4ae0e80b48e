"""With time compressed: a late thread escalates once, reminds on schedule, stops once answered;
with two workers, still once per step."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.conftest import CONFIG, Deployment, slack_buttons, wait_for
from tests.e2e.test_mentions_to_slack import settle
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit

FAST = CONFIG.replace("sla: 4h", "sla: 3s").replace(
    "escalation: {to: supervisors}",
    "escalation: {to: supervisors, remind_every: 2s}\nreports: {to: supervisors, every: 4s}",
)


def mirrors(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Top-level messages that mirror a thread (notices and reports carry no blocks)."""
    return [m for m in messages if m.get("thread_ts") in (None, m["ts"]) and m.get("blocks")]


def test_a_late_thread_escalates_once_reminds_and_stops_when_answered(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.config.write_text(FAST)
    deployment.start("poller", "web")
    deployment.start("worker")
    deployment.start("worker")
    emulators.post("warga_budi", "@humas_demo halo, ada yang bisa bantu?")
    mirror = settle(deployment, 1)[0]

    escalated = wait_for(
        lambda: mirrors(emulators.messages("C0SUPER")),
        timeout=20,
        what="the escalation",
    )
    assert len(escalated) == 1
    assert "past its SLA (3s, route everything-else)" in str(escalated[0]["blocks"])
    assert "reply_institution" in slack_buttons(escalated[0]), "the same buttons as any mirror"
    assert f"/archives/C0HUMAS/p{mirror['ts'].replace('.', '')}|Open where it was mirrored" in str(
        escalated[0]["blocks"]
    )

    def reminders() -> list[dict[str, object]]:
        return [m for m in emulators.messages("C0SUPER") if "Still unanswered" in str(m["text"])]

    wait_for(lambda: len(reminders()) >= 2, timeout=20, what="two reminders")
    assert all(m["thread_ts"] == escalated[0]["ts"] for m in reminders())
    assert "nobody has claimed it" in str(reminders()[0]["text"])

    view = open_reply_form(emulators, "U0RINA", mirror)
    submit(emulators, "U0RINA", view, "Halo, silakan sampaikan laporannya.")
    wait_for(lambda: replies_on_x(emulators), what="the answer on X")
    wait_for(
        lambda: "Answered by rina" in str(mirrors(emulators.messages("C0SUPER"))[0]["blocks"]),
        what="the escalated mirror showing the answer",
    )
    count = len(reminders())
    time.sleep(5)  # more than two reminder intervals
    assert len(reminders()) <= count + 1  # at most one was already on its way
    assert len(mirrors(emulators.messages("C0SUPER"))) == 1, "escalated once, with two workers"

    # The scheduled report (every 4 s here): one per period, whatever the number of workers.
    def reports() -> list[str]:
        return [
            str(m["text"]).split("\n", 1)[0]
            for m in emulators.messages("C0SUPER")
            if "Reachable report" in str(m["text"])
        ]

    wait_for(lambda: len(reports()) >= 2, timeout=15, what="two scheduled reports")
    assert len(reports()) == len(set(reports())), reports()
    latest = next(
        str(m["text"])
        for m in reversed(emulators.messages("C0SUPER"))
        if "Reachable report" in str(m["text"])
    )
    assert latest.startswith("```Reachable report, ")
