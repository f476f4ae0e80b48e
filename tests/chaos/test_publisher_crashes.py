"""A worker killed (SIGKILL) at the worst moments of publishing still posts each reply once.

The three moments: after the reply is marked as being posted but before the post; after X has
the post but before Reachable records it; after the record but before the mirrors are redrawn.
Each run requests one reply from Slack, lets the worker die at the point, starts a new worker,
and checks X and both chats. ``REACHABLE_CHAOS_RUNS`` sets the runs per point (20 by default,
as `make chaos` runs them; `make test` runs a few).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.failpoints import POINTS
from tests.e2e.conftest import BridgeProcess, Deployment, wait_for
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit

RUNS = int(os.environ.get("REACHABLE_CHAOS_RUNS", "20"))


def start_worker(deployment: Deployment, crash_at: str, crash_dir: Path) -> BridgeProcess:
    env = {**deployment.env, "REACHABLE_CRASH_AT": crash_at, "REACHABLE_CRASH_DIR": str(crash_dir)}
    worker = BridgeProcess(env=env, config=deployment.config, roles=("worker",), log=deployment.log)
    deployment.processes.append(worker)
    return worker


def worker_died(worker: BridgeProcess) -> Callable[[], bool]:
    return lambda: not worker.alive()


def reply_posted(deployment: Deployment, mention_id: str) -> Callable[[], bool]:
    return lambda: any(p["in_reply_to"] == mention_id for p in replies_on_x(deployment.emulators))


def answered_everywhere(deployment: Deployment, count: int) -> bool:
    emulators = deployment.emulators
    slack = [m for m in emulators.messages() if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
    telegram = [m for m in emulators.telegram_messages() if "Answered by" in m["text"]]
    answered = [m for m in slack if "Answered by rina as @humas_demo" in str(m["blocks"])]
    return len(answered) == count and len(telegram) == count


@pytest.mark.slow
@pytest.mark.timeout(90 + RUNS * 15)
@pytest.mark.parametrize("point", POINTS)
def test_each_reply_reaches_x_once_whenever_the_worker_dies(
    deployment: Deployment, tmp_path: Path, point: str
) -> None:
    emulators = deployment.emulators
    crash_dir = tmp_path / "crashes"
    crash_dir.mkdir()
    deployment.env["REACHABLE_CLAIM_IDLE_S"] = "1"
    deployment.start("poller", "web")
    worker = start_worker(deployment, point, crash_dir)
    mentions = [
        emulators.post(f"warga_{run}", f"@humas_demo lampu jalan nomor {run} mati")
        for run in range(RUNS)
    ]
    mirrored = settle(deployment, RUNS)
    settle_telegram(deployment, RUNS)
    by_text: dict[str, dict[str, Any]] = {
        str(m["id"]): next(msg for msg in mirrored if f"nomor {run} mati" in str(msg["blocks"]))
        for run, m in enumerate(mentions)
    }

    deaths = 0
    for run, mention in enumerate(mentions):
        view = open_reply_form(emulators, "U0RINA", by_text[str(mention["id"])])
        assert submit(emulators, "U0RINA", view, f"Sudah kami catat, nomor {run}.")["view"] == (
            "closed"
        )
        wait_for(worker_died(worker), timeout=30, what=f"the worker to die at {point}")
        assert worker.process.wait() == -signal.SIGKILL
        deaths += 1
        worker = start_worker(deployment, point, crash_dir)
        wait_for(reply_posted(deployment, str(mention["id"])), timeout=30, what=f"reply {run}")

    wait_for(lambda: answered_everywhere(deployment, RUNS), timeout=60, what="every mirror")
    posted = replies_on_x(emulators)
    assert deaths == RUNS == len(list(crash_dir.iterdir()))
    assert sorted(p["in_reply_to"] for p in posted) == sorted(m["id"] for m in mentions)
    assert worker.alive()
