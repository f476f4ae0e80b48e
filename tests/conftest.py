"""Shared fixtures: a real redis-server per test session, started on a free port."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from bridge.store.keys import Keys
from bridge.store.store import Store, connect
from cli.redisproc import RedisProcess

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
# The CLI speaks the terminal's language; the tests read English whatever this machine speaks.
for _setting in ("LC_ALL", "LC_MESSAGES", "REACHABLE_LOCALE"):
    os.environ.pop(_setting, None)
os.environ["LANG"] = "C.UTF-8"
# Each parallel test process picks the ports of its servers from a range of its own.
if (_worker := os.environ.get("PYTEST_XDIST_WORKER", "")).startswith("gw"):
    _low = 20000 + int(_worker[2:]) % 8 * 1500
    os.environ["REACHABLE_FREE_PORTS"] = f"{_low}-{_low + 1500}"


@pytest.fixture(scope="session")
def redis_process() -> Iterator[RedisProcess]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed; `make test` installs it")
    process = RedisProcess().start()
    yield process
    process.cleanup()


@pytest.fixture
def redis_url(redis_process: RedisProcess) -> str:
    with redis.Redis(port=redis_process.port) as client:
        client.flushall()
    return redis_process.url


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    client = connect(redis_url)
    yield Store(client, Keys("test"))
    await client.aclose()
