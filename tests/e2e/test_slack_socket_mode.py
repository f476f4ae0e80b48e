"""Slack over Socket Mode: no public address, the bridge opens the websocket itself.

The mentions still mirror, and staff still claim, reply and use commands, through a connection
that drops in the middle of the run: nothing is lost and nothing happens twice.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import TIME_SCALE, BridgeProcess, Deployment, Emulators, wait_for
from tests.e2e.test_mentions_to_slack import settle
from tests.e2e.test_replies import REPLY, open_reply_form, replies_on_x, submit


def socket_state(emulators: Emulators) -> dict[str, Any]:
    return dict(emulators.http.get(f"{emulators.slack_server.url}/_emulator/socket").json())


def wait_connected(emulators: Emulators, *, after_drops: int = 0) -> None:
    wait_for(
        lambda: (
            socket_state(emulators)["connections"]
            and socket_state(emulators)["dropped"] >= after_drops
        ),
        timeout=20,
        what="the bridge's Socket Mode connection",
    )


def test_mirrors_replies_and_commands_survive_a_dropped_websocket(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    deployment.use_slack_socket_mode()
    deployment.start()
    wait_connected(emulators)
    refused = emulators.http.post(
        f"http://127.0.0.1:{emulators.bridge_port}/slack/events", json={"type": "url_verification"}
    )
    assert refused.status_code == 404, "Socket Mode takes no Slack requests over HTTP"

    mention = emulators.post("warga_budi", "@humas_demo jalan rusak di depan pasar")
    emulators.post("warga_ani", "@humas_demo kapan pendaftaran dibuka?")
    settle(deployment, 2)

    dropped = emulators.slack_control("socket/drop", {})
    assert dropped.json()["dropped"] == 1
    emulators.post("warga_citra", "@humas_demo lampu jalan mati")
    wait_connected(emulators, after_drops=1)
    messages = settle(deployment, 3)
    first = next(m for m in messages if "jalan rusak" in str(m["blocks"]))

    view = open_reply_form(emulators, "U0RINA", first)
    # The submission reaches the bridge, but the connection drops before its ack: Slack shows
    # the person an error, and the person presses Send again on the same form.
    emulators.slack_control("socket/drop", {"after_next_send": True})
    lost = emulators.slack_control(
        "submit", {"user": "U0RINA", "view_id": view["id"], "text": REPLY}
    )
    assert lost.status_code == 504, lost.text
    wait_connected(emulators, after_drops=2)
    again = submit(emulators, "U0RINA", view, REPLY)
    assert again["status"] == 200
    assert "already sent on its way" in again["body"] or "already answered" in again["body"]

    posted = wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    assert posted[0]["in_reply_to"] == mention["id"]
    wait_for(
        lambda: "Answered by rina as @humas_demo" in str(emulators.messages()),
        what="Slack shows the answer",
    )
    unanswered = emulators.slash("U0SARI", "unanswered")
    assert unanswered.count("@warga_") == 2 and "warga_budi" not in unanswered
    assert len(replies_on_x(emulators)) == 1
    mirrors = [m for m in emulators.messages() if m.get("thread_ts") in (None, m["ts"])]
    assert len(mirrors) == 3


def test_a_wrong_app_token_stops_the_start_with_what_to_fix(deployment: Deployment) -> None:
    deployment.use_slack_socket_mode()
    deployment.env["REACHABLE_SLACK_APP_TOKEN"] = "xapp-1-wrong"
    process = BridgeProcess(
        env=deployment.env, config=deployment.config, roles=("web",), log=deployment.log
    )
    deployment.processes.append(process)
    wait_for(lambda: not process.alive(), timeout=30, what="the bridge to stop")
    assert process.stop() != 0
    log = deployment.log.read_text()
    assert "Slack refused to open a Socket Mode connection (invalid_auth)" in log
    assert "REACHABLE_SLACK_APP_TOKEN" in log and "xapp-1-wrong" not in log


def test_slack_down_at_start_is_waited_out(deployment: Deployment) -> None:
    """Slack answering 503 when the bridge first asks for a Socket Mode address: the process
    keeps trying instead of ending, and connects once Slack is back."""
    emulators = deployment.emulators
    deployment.use_slack_socket_mode()
    fault = {"method": "POST", "path": "/api/apps.connections.open", "status": 503, "times": 2}
    assert emulators.slack_control("faults", fault).status_code == 200
    deployment.start()
    wait_connected(emulators)
    assert all(process.alive() for process in deployment.processes)
    assert "cannot open a Socket Mode connection yet" in deployment.log.read_text()
    emulators.post("warga_budi", "@humas_demo halo")
    settle(deployment, 1)


def test_a_rate_limit_at_start_is_waited_out_as_long_as_slack_asks(deployment: Deployment) -> None:
    """Slack saying "slow down" (HTTP 200 rate_limited) to the first request for a Socket
    Mode address: the process waits Slack's Retry-After, then connects."""
    emulators = deployment.emulators
    deployment.use_slack_socket_mode()
    fault = {"path": "/api/apps.connections.open", "error": "rate_limited", "retry_after": 3}
    assert emulators.slack_control("faults", fault).status_code == 200
    deployment.start()
    wait_connected(emulators)
    assert all(process.alive() for process in deployment.processes)
    opens = [
        c
        for c in emulators.http.get(f"{emulators.slack_server.url}/_emulator/calls").json()["calls"]
        if c["path"] == "/api/apps.connections.open"
    ]
    # Slack's 3 s, on the emulators' faster clock.
    assert opens[1]["time"] - opens[0]["time"] >= 3 / TIME_SCALE - 0.01
