"""What supervisors look at: the unanswered list in both chats, /metrics and /readyz."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import GROUP, Deployment, wait_for
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit


def metrics(deployment: Deployment) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{deployment.emulators.bridge_port}/metrics").text
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def test_the_unanswered_list_metrics_and_readiness(deployment: Deployment) -> None:
    emulators = deployment.emulators
    deployment.start()
    for n in range(12):
        emulators.post(f"warga_{n}", f"@humas_demo pertanyaan nomor {n} <!channel>")
    mirrors = settle(deployment, 12)
    settle_telegram(deployment, 12)

    page = emulators.slash("U0SARI", "unanswered")
    assert "Unanswered threads, oldest first (1 to 10 of 12):" in page
    assert "] under a minute old · due in" in page and "unclaimed" in page
    assert "pertanyaan nomor 0 &lt;!channel&gt;" in page and "<!channel>" not in page
    assert "/archives/C0HUMAS/p" in page, "a permalink to the mirror"
    assert "More: /reachable unanswered 2" in page
    assert "(11 to 12 of 12)" in emulators.slash("U0SARI", "unanswered 2")

    # Sari, a supervisor, hands the oldest thread to Rina by its reference; Rina may not.
    reference = page.split("1. [", 1)[1][:6]
    done = emulators.slash("U0SARI", f"assign {reference} rina")
    assert f"Thread [{reference}] is now rina's" in done
    assert "Only supervisors" in emulators.slash("U0RINA", f"assign {reference} sari")
    wait_for(
        lambda: any("rina is on it" in str(m["blocks"]) for m in emulators.messages()),
        what="the assigned thread's mirror",
    )

    emulators.telegram_control("send", {"user_id": 1002, "chat_id": GROUP, "text": "/unanswered"})
    listed = wait_for(
        lambda: [m for m in emulators.telegram_messages() if "Unanswered threads" in m["text"]],
        what="the list in Telegram",
    )[0]
    assert "https://t.me/c/1000000001/" in listed["text"]

    before = metrics(deployment)
    assert before["reachable_mentions_in_total"] == 12
    assert before["reachable_mirrors_out_total"] == 24
    assert before["reachable_open_threads"] == 12  # a claimed thread is still unanswered
    newest = next(m for m in mirrors if "nomor 11" in str(m["blocks"]))
    submit(emulators, "U0RINA", open_reply_form(emulators, "U0RINA", newest), "Terima kasih.")
    wait_for(lambda: replies_on_x(emulators), what="the answer")
    after = wait_for(
        lambda: (m := metrics(deployment))["reachable_open_threads"] == 11 and m,
        what="the metrics moving",
    )
    assert after["reachable_replies_total{identity=institution}"] == 1
    assert after["reachable_first_response_seconds_count"] == 1
    assert after["reachable_first_response_seconds_bucket{le=+Inf}"] == 1

    ready = httpx.get(f"http://127.0.0.1:{emulators.bridge_port}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"redis": "ok", "slack": "ok", "telegram": "ok", "x": "ok"}
