"""Redis changes role under a running bridge (a primary demoted and promoted back with REPLICAOF;
a primary killed and its replica promoted by Redis Sentinel) while the public keeps mentioning
the institution and staff answer: every mention reaches both chats once, every reply reaches X
once, and the process never ends. Each test starts (and stops) its own Redis processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from cli.redisproc import RedisProcess
from tests.e2e.conftest import GROUP, ROOT, BridgeProcess, Deployment, Emulators, wait_for
from tests.e2e.replicated import MASTER, ReplicatedRedis
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit

REPLY = "Terima kasih, laporan Anda kami teruskan ke dinas terkait."
RINA_TELEGRAM = 1001


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


def assert_once_each_mirrored(emulators: Emulators, ids: list[str], bridge: BridgeProcess) -> None:
    """Watch a while for anything repeated late, then check what people see in the chats."""
    time.sleep(3)
    slack, telegram = mirrored(emulators)
    assert {i: slack[i] for i in ids} == dict.fromkeys(ids, 1)
    assert {i: telegram[i] for i in ids} == dict.fromkeys(ids, 1)
    assert bridge.alive()


def assert_once_each(emulators: Emulators, ids: list[str], bridge: BridgeProcess) -> None:
    """Each mention once in each chat, the reply to the first once on X."""
    assert_once_each_mirrored(emulators, ids, bridge)
    posted = replies_on_x(emulators)
    assert [(p["in_reply_to"], p["text"].endswith(REPLY)) for p in posted] == [(ids[0], True)]
    assert bridge.alive()


def assert_one_outage_logged(log_file: Path) -> None:
    """The process said once that Redis was unavailable, once that it answers again (when
    every role got through, which may come a pause after what people see), and no more."""
    wait_for(lambda: "Redis answers again" in log_file.read_text(), what="the end of the outage")
    log = log_file.read_text()
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
    assert_one_outage_logged(deployment.log)


@pytest.fixture
def replicated(tmp_path: Path) -> Any:
    instance = ReplicatedRedis(tmp_path / "redis", sentinels=1)
    yield instance
    instance.cleanup()


def use_sentinels(deployment: Deployment, replicated: ReplicatedRedis) -> None:
    # The URL's host and port are not used with Sentinel: nothing listens there.
    deployment.env["REACHABLE_REDIS_URL"] = "redis://127.0.0.1:1/0"
    deployment.env["REACHABLE_REDIS_SENTINELS"] = replicated.addresses
    deployment.env["REACHABLE_REDIS_SENTINEL_MASTER"] = MASTER


@pytest.mark.slow
def test_the_bridge_follows_a_sentinel_failover_and_loses_nothing(
    deployment: Deployment, replicated: ReplicatedRedis
) -> None:
    emulators = deployment.emulators
    use_sentinels(deployment, replicated)
    bridge = deployment.start()
    ids = [mention(emulators, n) for n in range(3)]
    wait_for(all_mirrored(emulators, ids), timeout=40, what="the first mentions in both chats")
    ask_a_reply_that_x_is_slow_to_take(emulators, ids[0])

    old = replicated.primary()
    new = replicated.fail_over()  # the primary dies; Sentinel promotes its replica
    assert new is not old and replicated.primary() is new
    ids += [mention(emulators, n) for n in range(3, 6)]

    wait_for(all_mirrored(emulators, ids), timeout=60, what="every mention in both chats")
    wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    assert_once_each(emulators, ids, bridge)
    assert_one_outage_logged(deployment.log)
    with redis.Redis(port=new.port, decode_responses=True) as client:
        assert client.xlen("e2e:stream:mentions") >= len(ids)  # the bridge writes to the new one


@pytest.mark.slow
def test_a_switchover_of_a_running_primary_loses_and_repeats_nothing(
    deployment: Deployment, replicated: ReplicatedRedis
) -> None:
    """SENTINEL FAILOVER promotes the replica while the old primary runs on, taking writes,
    until the sentinels demote it seconds later: whatever the bridge wrote there meanwhile
    would be lost, and those mentions routed and posted a second time."""
    emulators = deployment.emulators
    use_sentinels(deployment, replicated)
    bridge = deployment.start()
    ids = [mention(emulators, n) for n in range(2)]
    wait_for(all_mirrored(emulators, ids), timeout=40, what="the first mentions in both chats")

    # The next read of mentions takes 4 s: the switchover happens, and more mentions are
    # posted, while it is on its way; it returns them after the promotion.
    emulators.x_control(
        "faults",
        {"method": "GET", "path": "/2/users/*/mentions", "status": 0, "delay_s": 4},
    )
    wait_for(
        lambda: (
            not emulators.http.get(f"{emulators.x_server.url}/_emulator/faults").json()["faults"]
        ),
        what="a read of mentions on its way",
    )
    old = replicated.start_switchover()
    replicated.wait_promoted(old)
    ids += [mention(emulators, n) for n in range(2, 5)]
    wait_for(all_mirrored(emulators, ids), timeout=40, what="every mention in both chats")
    replicated.wait_rejoined(old)  # what the old primary took is gone now
    assert_once_each_mirrored(emulators, ids, bridge)


def test_the_doctor_shows_what_the_sentinels_see(deployment: Deployment, tmp_path: Path) -> None:
    replicated = ReplicatedRedis(tmp_path / "redis", sentinels=3)
    try:
        use_sentinels(deployment, replicated)
        result = subprocess.run(
            [sys.executable, "-m", "cli", "doctor", "--config", str(deployment.config)],
            capture_output=True,
            text=True,
            env=deployment.env,
            cwd=ROOT,
            timeout=90,
        )
        out = result.stdout
        primary, replica = replicated.primary(), replicated.replica()
        assert result.returncode == 0, out + result.stderr
        assert f"mymaster is at 127.0.0.1:{primary.port}, watched by 3 sentinels; 2 must" in out
        assert f"127.0.0.1:{replica.port}" in out
        assert "enough sentinels agree to fail over" in out
    finally:
        replicated.cleanup()


def test_a_telegram_button_pressed_while_redis_is_demoted_takes_effect_after_the_promotion(
    deployment: Deployment, private_redis: RedisProcess
) -> None:
    """Telegram counts an update as delivered once the bridge has fetched it: a press whose
    handling a failover cut short must be handled again by the bridge, or it is lost."""
    emulators = deployment.emulators
    deployment.env["REACHABLE_REDIS_URL"] = private_redis.url
    bridge = deployment.start()
    mentioned = mention(emulators, 1)
    wait_for(all_mirrored(emulators, [mentioned]), timeout=40, what="the mention in both chats")
    message = next(m for m in emulators.telegram_messages() if mention_id(m) == mentioned)

    refused_before = refused_calls(private_redis)
    private_redis.demote()
    pressed = emulators.press(RINA_TELEGRAM, GROUP, message["message_id"], "claim")
    wait_for(
        lambda: refused_calls(private_redis) > refused_before + 10,
        what="the bridge trying its demoted Redis for a while",
    )
    private_redis.promote()

    assert "It is yours" in emulators.answer_text(pressed)
    wait_for(
        lambda: "rina is on it" in str(emulators.messages()[0]["blocks"]),
        what="Slack showing Rina's claim",
    )
    assert bridge.alive()
    assert_one_outage_logged(deployment.log)
