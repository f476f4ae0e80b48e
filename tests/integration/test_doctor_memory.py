"""`reachable doctor` on Redis's memory, against a real Redis: what it uses of its limit, how
fast it grows (from the hourly readings the upkeep keeps), when it would be full at that rate,
or that retention holds it flat; and a warning with the fix when it would be full within a
month or has no limit at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.ops.doctor import check_redis, render_table
from bridge.ops.findings import Finding, Status
from bridge.ops.maintenance import Maintenance
from bridge.ops.memory import record_sample, samples
from bridge.store.keys import Keys
from bridge.store.store import Store, connect, now_ms
from cli.redisproc import RedisProcess

HOUR_MS = 3_600_000
MIB = 1024 * 1024


@pytest.fixture
async def redis_with_limit(tmp_path: Path) -> AsyncIterator[Store]:
    server = RedisProcess(directory=tmp_path, appendonly=True, maxmemory="64mb").start()
    client = connect(server.url)
    yield Store(client, Keys("doctor"))
    await client.aclose()
    server.cleanup()


@pytest.fixture
async def redis_without_limit(tmp_path: Path) -> AsyncIterator[Store]:
    server = RedisProcess(directory=tmp_path, appendonly=True).start()
    client = connect(server.url)
    yield Store(client, Keys("doctor"))
    await client.aclose()
    server.cleanup()


async def readings_over_the_past(store: Store, *, days: int, per_day: float, used: int) -> None:
    """Hourly readings as the upkeep took them, ending an hour ago at ``used`` bytes."""
    now = now_ms()
    for hour in range(days * 24, 0, -1):
        await record_sample(store, at_ms=now - hour * HOUR_MS, used=int(used - per_day * hour / 24))


def found(findings: list[Finding], check: str) -> Finding:
    return next(f for f in findings if f.area == "Redis" and f.check == check)


async def test_memory_is_shown_against_its_limit_and_flat_once_retention_holds_it(
    redis_with_limit: Store,
) -> None:
    store = redis_with_limit
    used = int((await store.redis.info("memory"))["used_memory"])
    await readings_over_the_past(store, days=7, per_day=0, used=used)
    assert await Maintenance(store, owner="test").step() in (True, False)
    taken = await samples(store)
    assert len(taken) == 7 * 24 + 1 and abs(taken[-1][0] - now_ms()) < 5000  # one now, real

    findings = await check_redis(store, "redis://redis.example:6379/0")
    memory = found(findings, "memory")
    assert memory.status is Status.OK
    assert "of maxmemory 64.0 MiB, policy noeviction" in memory.detail
    assert memory.detail.startswith("used ") and "(peak " in memory.detail
    growth = found(findings, "growth")
    assert growth.status is Status.OK
    assert growth.detail.startswith("flat (") and growth.detail.endswith("): retention holds it")
    assert "a day over the last 1 week" in growth.detail

    await Maintenance(store, owner="test").step()  # within the hour: no second reading
    assert len(await samples(store)) == len(taken)


async def test_a_redis_full_within_a_month_at_its_growth_is_a_warning_with_the_fix(
    redis_with_limit: Store,
) -> None:
    store = redis_with_limit
    used = int((await store.redis.info("memory"))["used_memory"])
    await readings_over_the_past(store, days=10, per_day=3 * MIB, used=used)
    findings = await check_redis(store, "redis://127.0.0.1:6379/0")
    growth = found(findings, "growth")
    assert growth.status is Status.WARN, render_table(findings)
    assert (64 * MIB - used) / (3 * MIB) < 30  # about three weeks left
    assert growth.detail == (
        "3.0 MiB a day over the last 1 week: maxmemory is reached in about 3 weeks"
    )
    assert "shorten the periods under `retention:`" in growth.fix
    assert "fix: give Redis more memory" in render_table(findings)


async def test_a_slow_growth_shows_when_the_limit_would_be_reached(
    redis_with_limit: Store,
) -> None:
    store = redis_with_limit
    used = int((await store.redis.info("memory"))["used_memory"])
    await readings_over_the_past(store, days=3, per_day=MIB / 4, used=used)
    growth = found(await check_redis(store, "redis://127.0.0.1:6379/0"), "growth")
    assert growth.status is Status.OK
    assert growth.detail == (
        "256.0 KiB a day over the last 3 days: maxmemory is reached in about 8 months"
    )


async def test_a_redis_without_a_memory_limit_is_a_warning_with_the_fix(
    redis_without_limit: Store,
) -> None:
    findings = await check_redis(redis_without_limit, "redis://127.0.0.1:6379/0")
    memory = found(findings, "memory")
    assert memory.status is Status.WARN
    assert "maxmemory is 0 (no limit): Redis may grow until this machine's" in memory.detail
    assert "set maxmemory in redis.conf" in memory.fix
    growth = found(findings, "growth")
    assert growth.status is Status.OK and growth.detail.startswith("not measured yet")
