"""Redis changes role under a running bridge (a primary demoted and promoted back with REPLICAOF)
while the public keeps mentioning the institution and staff answer: every mention reaches both
chats once, every reply reaches X once, and the process never ends. Each test starts (and
stops) its own Redis processes."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
import redis

from bridge.redisproc import RedisProcess
from tests.e2e.conftest import BridgeProcess, Deployment, Emulators, wait_for
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit

REPLY = "Terima kasih, laporan Anda kami teruskan ke dinas terkait."


def mention_id(message: dict[str, Any]) -> str | None:
    """The X post a chat message mirrors, by the link it carries."""
    found = re.search(r"status/(\d+)", json.dumps(message))
    return found.group(1) if found else None


def mirrored(emulators: Emulators) -> tuple[Counter[str | None], Counter[str | None]]:
    """How many times each mention is shown in Slack and in Telegram."""
    return (
        Counter(mention_id(m) for m in emulators.messages()),
        Counter(mention_id(m) for m in emulators.telegram_messages()),
    )


def mention(emulators: Emulators, n: int) -> str:
    return str(emulators.post(f"warga_{n}", f"@humas_demo lampu jalan mati nomor {n}")["id"])


def all_mirrored(emulators: Emulators, ids: list[str]) -> Callable[[], bool]:
    def done() -> bool:
        slack, telegram = mirrored(emulators)
        return all(slack[i] and telegram[i] for i in ids)

    return done


def ask_a_reply_that_x_is_slow_to_take(emulators: Emulators, mentioned: str) -> None:
    """Rina answers ``mentioned`` from Slack; X takes 2 s to accept it. Returns once the reply
    is on its way to X."""
    message = next(m for m in emulators.messages() if mention_id(m) == mentioned)
    emulators.x_control(
        "faults", {"method": "POST", "path": "/2/tweets", "status": 0, "delay_s": 2}
    )
    view = open_reply_form(emulators, "U0RINA", message)
    assert submit(emulators, "U0RINA", view, REPLY)["view"] == "closed"
    wait_for(
        lambda: (
            not emulators.http.get(f"{emulators.x_server.url}/_emulator/faults").json()["faults"]
        ),
        what="the reply on its way to X",
    )


def refused_calls(node: RedisProcess) -> int:
    """Commands Redis refused or failed so far (READONLY, UNBLOCKED...)."""
    with redis.Redis(port=node.port) as client:
        stats = client.info("commandstats")
    return sum(
        int(s.get("rejected_calls", 0)) + int(s.get("failed_calls", 0)) for s in stats.values()
    )


def assert_once_each(emulators: Emulators, ids: list[str], bridge: BridgeProcess) -> None:
    """Watch a while for anything repeated late, then check what people see."""
    time.sleep(3)
    slack, telegram = mirrored(emulators)
    assert {i: slack[i] for i in ids} == dict.fromkeys(ids, 1)
    assert {i: telegram[i] for i in ids} == dict.fromkeys(ids, 1)
    posted = replies_on_x(emulators)
    assert [(p["in_reply_to"], p["text"].endswith(REPLY)) for p in posted] == [(ids[0], True)]
    assert bridge.alive()


def assert_one_outage_logged(log: str) -> None:
    assert log.count("Redis unavailable") == 1, log
    assert log.count("Redis answers again") == 1, log
    assert "Traceback" not in log, log


@pytest.mark.slow
def test_a_demotion_and_promotion_mid_traffic_lose_nothing_and_post_nothing_twice(
    deployment: Deployment, private_redis: RedisProcess
) -> None:
    emulators = deployment.emulators
    deployment.env["REACHABLE_REDIS_URL"] = private_redis.url
    bridge = deployment.start()
    ids = [mention(emulators, n) for n in range(3)]
    wait_for(all_mirrored(emulators, ids), timeout=40, what="the first mentions in both chats")
    ask_a_reply_that_x_is_slow_to_take(emulators, ids[0])

    refused_before = refused_calls(private_redis)
    private_redis.demote()
    ids += [mention(emulators, n) for n in range(3, 6)]  # the public goes on meanwhile
    wait_for(
        lambda: refused_calls(private_redis) > refused_before + 20,
        what="the bridge trying its demoted Redis for a while",
    )
    private_redis.promote()
    ids += [mention(emulators, n) for n in range(6, 8)]

    wait_for(all_mirrored(emulators, ids), timeout=60, what="every mention in both chats")
    wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    assert_once_each(emulators, ids, bridge)
    assert_one_outage_logged(deployment.log.read_text())
