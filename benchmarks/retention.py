"""Redis memory under a steady stream of mentions: it grows while the retention window fills,
then stays flat, because as much expires each second as comes in.

Retention runs in seconds here (REACHABLE_RETENTION_SCALE: a day lasts one second), so the
window of closed threads (20 "days") is full after about half a minute rather than months.
Every mention is answered a little later, as the institution would, directly on X. Two other
things turn over on their own clock, and are full after a minute: each thread's escalation
timer, due at its SLA deadline (20 s here), and the one-minute count of arrivals per chat
that tells a burst.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import redis

from benchmarks.harness import Bench
from emulators.x import PostSpec

Result = dict[str, Any]

CONFIG = """
accounts:
  - {{key: humas, handle: humas_demo, poll_every: {poll}, backfill: 1}}
destinations:
  desk: {{chat: slack, channel: {channel}}}
routes:
  - {{name: everything, to: [desk], sla: 20s}}
retention: {{threads: 20d, effects: 2d, streams: 1d, dropped: 1d}}
"""
DAY_S = 86400
# When a mention is answered, after it is posted.
ANSWER_AFTER_S = 2.0
# The arrivals of the last minute, counted per chat to see a burst coming.
ARRIVALS_S = 60


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares growth per second of (seconds, value) points."""
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points) or 1.0
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


def retention(workdir: Path, rate_per_s: float = 4.0, duration_s: float = 150.0) -> Result:
    """``rate_per_s`` mentions a second for ``duration_s``, each answered two seconds later;
    Redis's used memory and key count every two seconds."""
    bench = Bench(
        workdir,
        poll="1s",
        config=CONFIG,
        env={"REACHABLE_RETENTION_SCALE": repr(1 / DAY_S)},
    )
    window_s = 20 + ANSWER_AFTER_S + 2  # kept after closing, answered after, polled
    full_from = max(window_s, ARRIVALS_S) + 10
    try:
        bench.start()
        bench.post_mentions(1, tag="warm-up")
        bench.wait_for_messages(1, timeout_s=60)
        started = time.monotonic()
        unanswered: list[tuple[float, str]] = []
        samples: list[tuple[float, int, int]] = []
        posted = 0
        next_sample = 0.0
        with redis.Redis.from_url(bench.redis.url) as client:
            while (now := time.monotonic() - started) < duration_s:
                while posted < now * rate_per_s:
                    post_id = bench.post_mentions(1, tag=f"steady-{posted}")[0][0]
                    unanswered.append((now + ANSWER_AFTER_S, post_id))
                    posted += 1
                while unanswered and unanswered[0][0] <= now:
                    _, post_id = unanswered.pop(0)
                    bench.x.add_post(
                        PostSpec(
                            author="humas_demo", text=f"Terima kasih {post_id}", in_reply_to=post_id
                        )
                    )
                if now >= next_sample:
                    used = int(client.info("memory")["used_memory"])
                    samples.append((round(now, 1), used, int(client.dbsize())))
                    next_sample += 2.0
                time.sleep(0.02)
        filling = [(t, used) for t, used, _ in samples if 4 <= t <= window_s]
        full = [(t, used) for t, used, _ in samples if t >= full_from]
        keys_full = [(t, keys) for t, _, keys in samples if t >= full_from]
        return {
            "mentions": posted,
            "rate_per_s": rate_per_s,
            "window_s": window_s,
            "full_from_s": full_from,
            "growth_filling_kb_per_min": round(slope(filling) * 60 / 1024, 1),
            "growth_full_kb_per_min": round(slope(full) * 60 / 1024, 1),
            "keys_growth_full_per_min": round(slope(keys_full) * 60, 1),
            "used_mb_at_full": round(_at(samples, full_from) / 2**20, 2),
            "used_mb_at_end": round(samples[-1][1] / 2**20, 2),
            "keys_at_full": _keys_at(samples, full_from),
            "keys_at_end": samples[-1][2],
            "samples": samples,
        }
    finally:
        bench.close()


def _at(samples: list[tuple[float, int, int]], second: float) -> int:
    return next(used for t, used, _ in samples if t >= second)


def _keys_at(samples: list[tuple[float, int, int]], second: float) -> int:
    return next(keys for t, _, keys in samples if t >= second)
