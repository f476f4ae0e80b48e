"""Time to first response, kept as a histogram in Redis so every process serves the same one
at /metrics (``bridge.ops.metrics`` reads it)."""

from __future__ import annotations

from redis.asyncio.client import Pipeline

from bridge.store.store import Store

# Time to first response, in seconds: 1 min ... 1 day.
TTFR_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400)


def observe_first_response(pipe: Pipeline, store: Store, seconds: float) -> None:
    """Add one time-to-first-response observation to the shared histogram."""
    key = store.keys.histogram("first_response_seconds")
    for bound in TTFR_BUCKETS:
        if seconds <= bound:
            pipe.hincrby(key, f"le_{bound}", 1)
    pipe.hincrby(key, "count", 1)
    pipe.hincrbyfloat(key, "sum", max(seconds, 0.0))
