"""A process whose Redis goes away while it starts starts again once Redis is back, instead of
ending (the chaos suite caught a poller that never came back this way); one that finds a
replica where the primary should be waits for a primary."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from app import runtime as runtime_module
from app.config import load_config
from app.runtime import Runtime
from app.settings import AppSettings
from bridge.pipeline.supervise import backfill_open_threads
from bridge.store.store import Store
from cli.redisproc import RedisProcess
from tests.e2e.conftest import BridgeProcess, Deployment, wait_for
from tests.e2e.test_redis_failover import refused_calls


async def test_redis_restarting_mid_start_does_not_end_the_process(
    deployment: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_process = RedisProcess(directory=tmp_path / "redis", appendonly=True)
    (tmp_path / "redis").mkdir()
    redis_process.start()
    for name, value in {**deployment.env, "REACHABLE_REDIS_URL": redis_process.url}.items():
        if name.startswith("REACHABLE_"):
            monkeypatch.setenv(name, value)
    backfills: list[str] = []

    async def backfill_while_redis_restarts(store: Store) -> int:
        """The first start loses Redis just here, half-way through; it is back 1.5 s later."""
        if not backfills:
            redis_process.kill()
            threading.Timer(1.5, redis_process.start).start()
        backfills.append("tried")
        return await backfill_open_threads(store)

    monkeypatch.setattr(runtime_module, "backfill_open_threads", backfill_while_redis_restarts)
    runtime = Runtime(
        settings=AppSettings(), config=load_config(deployment.config), roles={"worker"}
    )
    stop = asyncio.Event()
    running = asyncio.create_task(runtime.run(stop))
    try:
        ready = asyncio.create_task(runtime.ready.wait())
        done, _ = await asyncio.wait({ready, running}, timeout=30, return_when="FIRST_COMPLETED")
        assert ready in done, running.exception() if running.done() else "not ready in 30 s"
        assert backfills == ["tried", "tried"]
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=20)
        redis_process.cleanup()


def test_a_bridge_started_on_a_demoted_redis_starts_once_it_is_promoted(
    deployment: Deployment, private_redis: RedisProcess
) -> None:
    """Mid-failover the address may still lead to the old primary, now a replica: the bridge
    waits for a primary instead of ending."""
    private_redis.demote()
    deployment.env["REACHABLE_REDIS_URL"] = private_redis.url
    bridge = BridgeProcess(env=deployment.env, config=deployment.config, log=deployment.log)
    deployment.processes.append(bridge)
    wait_for(
        lambda: refused_calls(private_redis) >= 3 or not bridge.alive(),
        what="the bridge trying its demoted Redis",
    )
    assert bridge.alive(), deployment.log.read_text()
    private_redis.promote()
    mention = deployment.emulators.post("warga_budi", "@humas_demo trotoar rusak")
    wait_for(
        lambda: any(mention["id"] in str(m) for m in deployment.emulators.messages()),
        timeout=40,
        what="the mention in Slack once Redis is a primary again",
    )
    assert bridge.alive()
