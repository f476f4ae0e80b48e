"""Redis's memory over time: the upkeep reads it once an hour into a short list, from which
``reachable doctor`` tells how fast it grows and when it would reach its limit.

Once the retention periods are full, as much expires each day as comes in, and the memory is
flat; until then (or with threads left open) it grows.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_decimal

from bridge.store.store import Store
from bridge.text.i18n import current_locale

SAMPLE_EVERY_S = 3600.0
SAMPLES_KEPT = 14 * 24
DAY_MS = 86_400_000
# Growth is measured over the last week of readings, once they span a day.
WINDOW_MS = 7 * DAY_MS
# Flat: at this rate the memory would not grow by 2% in a month.
FLAT_SHARE_PER_MONTH = 0.02


@dataclass(frozen=True)
class Growth:
    """Bytes a day (least squares over the readings) and how many days the readings span."""

    per_day: float
    days: float

    def flat(self, used: int) -> bool:
        return self.per_day * 30 <= FLAT_SHARE_PER_MONTH * used

    def days_left(self, used: int, limit: int) -> float | None:
        """Days until ``limit`` at this rate; None when it does not grow."""
        if self.per_day <= 0:
            return None
        return max(limit - used, 0) / self.per_day


async def sample_memory(store: Store, *, now_ms: int, scale: float = 1.0) -> bool:
    """Read ``used_memory`` if the last reading is an hour old (times the retention scale,
    at least a second); True when it did."""
    redis, key = store.redis, store.keys.memory_samples
    latest = await redis.lindex(key, 0)
    every_ms = max(SAMPLE_EVERY_S * scale, 1.0) * 1000
    if latest is not None and now_ms - int(str(latest).split()[0]) < every_ms:
        return False
    used = int((await redis.info("memory"))["used_memory"])
    await record_sample(store, at_ms=now_ms, used=used)
    return True


async def record_sample(store: Store, *, at_ms: int, used: int) -> None:
    async with store.redis.pipeline(transaction=True) as pipe:
        pipe.lpush(store.keys.memory_samples, f"{at_ms} {used}")
        pipe.ltrim(store.keys.memory_samples, 0, SAMPLES_KEPT - 1)
        await pipe.execute()


async def samples(store: Store) -> list[tuple[int, int]]:
    """(epoch ms, used bytes), oldest first."""
    raw = await store.redis.lrange(store.keys.memory_samples, 0, -1)
    found = []
    for item in reversed(raw):
        at, _, used = str(item).partition(" ")
        found.append((int(at), int(used)))
    return found


def growth(readings: list[tuple[int, int]], *, scale: float = 1.0) -> Growth | None:
    """The growth over the last week of ``readings``; None until they span a day (times the
    retention scale)."""
    if not readings:
        return None
    newest = readings[-1][0]
    recent = [(at, used) for at, used in readings if newest - at <= WINDOW_MS]
    span_ms = newest - recent[0][0]
    if len(recent) < 3 or span_ms < DAY_MS * scale:
        return None
    mean_at = sum(at for at, _ in recent) / len(recent)
    mean_used = sum(used for _, used in recent) / len(recent)
    spread = sum((at - mean_at) ** 2 for at, _ in recent)
    slope = sum((at - mean_at) * (used - mean_used) for at, used in recent) / spread
    return Growth(per_day=slope * DAY_MS, days=span_ms / DAY_MS)


def amount(size: float) -> str:
    """Bytes as people read them: 512 KiB, 12.5 MiB, 3.2 GiB (in the reader's language)."""
    value, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            break
        value /= 1024
    pattern = "#,##0" if unit == "B" else "#,##0.0"
    return f"{format_decimal(value, format=pattern, locale=current_locale())} {unit}"
