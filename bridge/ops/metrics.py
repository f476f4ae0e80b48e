"""Prometheus metrics at ``/metrics``, read from Redis so every process serves the same numbers.

Counters are Redis integers that stages increment as they work (one INCRBY in the same
transaction as the work), so a scrape of any web process sees the whole deployment, and a
restart loses nothing. prometheus_client renders the exposition format.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from bridge.store.first_response import TTFR_BUCKETS
from bridge.store.store import RoundTrips, Store

# (metric name, Redis counter, help)
PLAIN_COUNTERS = (
    ("mentions_in", "mentions_in", "Mentions read from the networks."),
    ("mentions_routed", "routed", "Mentions routed to destinations."),
    ("mentions_dropped", "dropped", "Mentions dropped by a rule (spam)."),
    ("mirrors_out", "mirrored", "Chat messages posted for mentions."),
    ("mentions_folded", "folded", "Mentions folded into burst digests, per destination."),
    ("digests_out", "digests", "Burst digests posted."),
    ("escalations", "escalations", "Threads escalated past their SLA."),
    ("reminders", "reminders", "Reminders about escalated threads."),
)
# (metric name, counter prefix, label, help)
LABELLED_COUNTERS = (
    ("replies", "replies:", "identity", "Replies posted on the network, by identity."),
    ("api_errors", "errors:", "platform", "Failed platform calls, by platform."),
    ("rate_limited", "ratelimited:", "platform", "429s and flood waits, by platform."),
    (
        "refused_requests",
        "refused:",
        "door",
        "Requests refused at the web app (unsigned, stale, wrong secret, malformed, oversized), "
        "by door: a chat's callbacks (by its name), link.",
    ),
)


class _Snapshot(Collector):
    """The values read from Redis for one scrape, as metric families."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def render(store: Store) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(await _families(store)))
    return bytes(generate_latest(registry))


async def _families(store: Store) -> list[Metric]:
    keys = store.keys
    counters = await _counters(store)

    families: list[Metric] = []
    for name, counted, documentation in PLAIN_COUNTERS:
        family = CounterMetricFamily(f"reachable_{name}", documentation)
        family.add_metric([], counters.get(counted, 0))
        families.append(family)
    for name, prefix, label, documentation in LABELLED_COUNTERS:
        family = CounterMetricFamily(f"reachable_{name}", documentation, labels=[label])
        for counted, value in sorted(counters.items()):
            if counted.startswith(prefix):
                family.add_metric([counted.removeprefix(prefix)], value)
        families.append(family)
    round_trips = CounterMetricFamily(
        "reachable_redis_round_trips",
        "Requests this process sent to Redis; a pipeline or transaction counts once.",
    )
    round_trips.add_metric([], RoundTrips.sent)
    families.append(round_trips)
    open_threads = GaugeMetricFamily("reachable_open_threads", "Threads open or claimed now.")
    open_threads.add_metric([], int(await store.redis.zcard(keys.open_threads)))
    families.append(open_threads)
    families.append(await _stream_lag(store))
    families.append(await _histogram(store))
    return families


async def _counters(store: Store) -> dict[str, int]:
    prefix = store.keys.counter("")
    found: dict[str, int] = {}
    names = [key async for key in store.redis.scan_iter(match=f"{prefix}*", count=500)]
    values = await store.redis.mget(names) if names else []
    for name, value in zip(names, values, strict=True):
        if value is not None:
            found[str(name).removeprefix(prefix)] = int(value)
    return found


async def _stream_lag(store: Store) -> Metric:
    family = GaugeMetricFamily(
        "reachable_stream_lag",
        "Entries of each stage's stream not yet read, or read and not yet done.",
        labels=["stream", "kind"],
    )
    keys = store.keys
    streams = {
        "mentions": keys.mentions_stream,
        "outbox": keys.outbox_stream,
        "actions": keys.actions_stream,
        "timers": keys.timers_stream,
    }
    # Each chat that stores its updates before handling them has an inbound stream.
    inbound = keys.inbound_stream("")
    pattern = keys.inbound_stream("*")
    async for found in store.redis.scan_iter(match=pattern, count=500, _type="STREAM"):
        chat = str(found).removeprefix(inbound)
        if ":" not in chat:  # not its dead letters
            streams[f"inbound:{chat}"] = str(found)
    for name, key in streams.items():
        try:
            groups: Any = await store.redis.xinfo_groups(key)
        except Exception:  # the stream does not exist yet
            groups = []
        for group in groups or []:
            lag = group.get("lag")
            family.add_metric([name, "unread"], float(lag) if lag is not None else math.nan)
            family.add_metric([name, "pending"], float(group.get("pending", 0)))
    return family


async def _histogram(store: Store) -> Metric:
    data = await store.redis.hgetall(store.keys.histogram("first_response_seconds"))
    buckets = [(str(bound), float(data.get(f"le_{bound}", 0))) for bound in TTFR_BUCKETS]
    count = float(data.get("count", 0))
    buckets.append(("+Inf", count))
    family = HistogramMetricFamily(
        "reachable_first_response_seconds",
        "Time from a thread's first mention to its first answer.",
        buckets=buckets,
        sum_value=float(data.get("sum", 0.0)),
    )
    return family
