"""An admin edits the rules while the bridge runs: every process follows, a broken file does not."""

from __future__ import annotations

import signal
from typing import Any

from tests.e2e.conftest import CONFIG, Deployment, wait_for

NEW_RULE = """routes:
  - {name: floods, match: {any_words: [banjir]}, to: [supervisors], priority: urgent}
"""


def reloads(deployment: Deployment) -> int:
    return deployment.log.read_text().count("reloaded (the file changed)")


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(str(m.get("blocks") or m.get("text")) for m in messages)


def test_two_workers_follow_a_new_rules_file_and_ignore_a_broken_one(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_CONFIG_WATCH_S"] = "0.3"
    deployment.start("poller", "web")
    deployment.start("worker")
    deployment.start("worker")
    emulators.post("warga_a", "@humas_demo banjir di jalan Sudirman")
    wait_for(lambda: "banjir di jalan Sudirman" in texts(emulators.messages()), what="mention 1")

    deployment.config.write_text(CONFIG.replace("routes:\n", NEW_RULE, 1))
    wait_for(lambda: reloads(deployment) == 3, what="all three processes reloading")
    for n in range(4):
        emulators.post(f"warga_{n}", f"@humas_demo banjir lagi nomor {n}")
    supervisors = wait_for(
        lambda: len(emulators.messages("C0SUPER")) == 4 and emulators.messages("C0SUPER"),
        what="the new rule routing to the supervisors",
    )
    assert all("Route: floods · priority urgent" in str(m["blocks"]) for m in supervisors)
    assert "banjir lagi" not in texts(emulators.messages())

    # A broken file: the rules stay, every process says why, the admins hear it once.
    deployment.config.write_text(
        CONFIG.replace("routes:\n", NEW_RULE.replace("[supervisors]", "[supervisorz]"), 1)
    )
    notice = wait_for(
        lambda: [m for m in emulators.messages("C0SUPER") if "has 1 problem," in str(m["text"])],
        what="the admins' notice",
    )
    assert "routes[0].to[0]: unknown destination 'supervisorz'" in notice[0]["text"]
    assert "previous rules stay live" in notice[0]["text"]
    wait_for(
        lambda: deployment.log.read_text().count("the previous config stays live") == 3,
        what="every process refusing the file",
    )
    emulators.post("warga_z", "@humas_demo banjir tidak surut")
    wait_for(
        lambda: "banjir tidak surut" in texts(emulators.messages("C0SUPER")),
        what="the last good rules still routing",
    )
    assert (
        len([m for m in emulators.messages("C0SUPER") if "has 1 problem," in str(m["text"])]) == 1
    )

    # SIGHUP reloads at once (the file is still broken, so it is refused again).
    deployment.processes[1].process.send_signal(signal.SIGHUP)
    wait_for(
        lambda: "problem(s) (SIGHUP); the previous config stays live" in deployment.log.read_text(),
        what="a reload on SIGHUP",
    )
    assert deployment.processes[1].alive()
