"""`reachable doctor` passes against the demo's setup: its config, emulators and settings, on a
Redis that keeps its data (AOF) within a memory limit, as an operator would run it before going
live."""

from __future__ import annotations

import os

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.config import load_config
from app.httpserver import free_port
from app.registry import API_URLS, DOCTORS
from bridge.ops.doctor import blocks_go_live, examine, render_table
from bridge.ops.findings import Status
from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from cli.demo import Emulators, demo_settings, start_emulators
from cli.redisproc import RedisProcess

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"


@pytest.fixture
async def demo_emulators() -> AsyncIterator[Emulators]:
    ports = {"x": free_port(), "slack": free_port(), "telegram": free_port()}
    emulators = await start_emulators(ports=ports, bridge_url="http://127.0.0.1:9/slack/events")
    try:
        yield emulators
    finally:
        for server in emulators.all():
            await server.stop()


async def test_the_demo_setup_is_ready_to_go_live(
    demo_emulators: Emulators, tmp_path: Path
) -> None:
    redis_server = RedisProcess(directory=tmp_path, appendonly=True, maxmemory="256mb").start()
    try:
        settings = demo_settings(emulators=demo_emulators, web_port=free_port())
        settings = settings.model_copy(update={"redis_url": redis_server.url})
        redis = connect(redis_server.url)
        try:
            findings = await examine(
                settings, load_config(DEMO_CONFIG), Store(redis, Keys("doctor")), DOCTORS, API_URLS
            )
        finally:
            await redis.aclose()
    finally:
        redis_server.cleanup()
    table = render_table(findings)
    assert not blocks_go_live(findings), table
    assert all(f.status is Status.OK for f in findings), table
    areas = {f.area for f in findings}
    assert {"Redis", "Encryption key", "Clock", "Slack", "Telegram"} <= areas
    assert any(area.startswith("X @") for area in areas)
