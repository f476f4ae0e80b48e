"""A process whose Redis goes away while it starts starts again once Redis is back, instead of
ending (the chaos suite caught a poller that never came back this way)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from bridge import runtime as runtime_module
from bridge.config import load_config
from bridge.redisproc import RedisProcess
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.store import Store
from bridge.supervision import backfill_open_threads
from tests.e2e.conftest import Deployment


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
    runtime = Runtime(settings=Settings(), config=load_config(deployment.config), roles={"worker"})
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
