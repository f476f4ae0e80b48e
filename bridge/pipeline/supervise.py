"""SLA escalation: a thread still unanswered at its deadline goes to the supervisors, and a
reminder follows at the configured interval until it is answered or dismissed.

Timers are members of one sorted set in Redis, scored by when they are due, so they survive
restarts. A timekeeper in every worker moves due timers, in one Lua script, from the set onto
the ``timers`` stream; a timer leaves the set once, so it fires once however many workers run.
The supervision stage then handles each like any stage entry (effect record, XACK), so a crash
between the two never loses one.

The escalation itself mirrors the thread into the escalation destination, with its buttons and
a line saying how late it is; that mirror then follows the thread's state like any other. A
reminder is a message in that mirror's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from bridge.config import Config
from bridge.desks.report import report_text
from bridge.domain.models import Thread, ThreadStatus
from bridge.pipeline.runner import Entry
from bridge.store import timers as timers_stream
from bridge.store.effects import timer_effect
from bridge.store.keys import SUPERVISION_GROUP
from bridge.store.redis_outage import Outage, is_outage
from bridge.store.store import Store, now_ms, utcnow
from bridge.text import messages

log = logging.getLogger(__name__)

TICK_S = 0.5
BACKFILL_LATE = timedelta(days=1)
BATCH = 100


def timer_name(kind: str, subject: str, step: int, round_: int = 0) -> str:
    """``kind|subject|round.step``: the subject is a thread id (or a report's due time); the
    round is the thread's SLA round, so timers of an SLA that was replaced do nothing."""
    return f"{kind}|{subject}|{round_}.{step}"


def escalation_timer(thread_id: str) -> tuple[str, str]:
    """The name of a thread's escalation timer around its SLA round: the text before and
    after it (``timer_name("escalate", thread_id, 0, round_)`` is the three joined), for the
    routing step, which learns the round as it reopens the thread."""
    before, _, after = timer_name("escalate", thread_id, 0, 0).rpartition("|0.")
    return f"{before}|", f".{after}"


def schedule(pipe: Pipeline, store: Store, name: str, due: datetime) -> None:
    pipe.zadd(store.keys.timers, {name: int(due.timestamp() * 1000)})


def schedule_escalation(
    pipe: Pipeline, store: Store, thread_id: str, deadline: datetime | None, *, round_: int = 0
) -> None:
    """At the thread's SLA deadline, the first step: escalate."""
    if deadline is not None:
        schedule(pipe, store, timer_name("escalate", thread_id, 0, round_), deadline)


class Timekeeper:
    """Moves due timers onto the timers stream, and keeps the next scheduled report's timer
    set; any number may run."""

    def __init__(
        self, store: Store, *, config: Callable[[], Config] | None = None, tick_s: float = TICK_S
    ) -> None:
        self.store = store
        self.config = config
        self.tick_s = tick_s
        self._pop_due = store.redis.register_script(timers_stream.POP_DUE)

    async def plan_report(self) -> None:
        """The next report's timer; its name holds its time, so every process adds the same."""
        reports = self.config().reports if self.config else None
        if reports is None:
            return
        due = reports.next_due(utcnow())
        name = timer_name("report", str(int(due.timestamp() * 1000)), 0)
        await self.store.redis.zadd(
            self.store.keys.timers, {name: int(due.timestamp() * 1000)}, nx=True
        )

    async def pop_due(self) -> int:
        keys = timers_stream.pop_due_keys(self.store.keys)
        moved = await self._pop_due(keys=keys, args=[now_ms(), BATCH])
        return int(moved)

    async def run(self, stop: asyncio.Event) -> None:
        outage = Outage("timekeeper")
        try:
            while not stop.is_set():
                try:
                    await self.plan_report()
                    while await self.pop_due() >= BATCH:
                        pass
                except (RedisError, OSError) as exc:
                    if is_outage(exc):
                        await outage.wait(exc, stop)
                        continue
                    log.error("timekeeper: Redis refused a timer step (%s); trying again", exc)
                else:
                    outage.over()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.tick_s)
        finally:
            outage.over(got_through=False)


class SupervisionStage:
    """Carries out due timers: the escalation of a late thread, then its reminders; burst
    digests; scheduled reports."""

    group = SUPERVISION_GROUP

    def __init__(self, store: Store, *, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    @property
    def stream(self) -> str:
        return self.store.keys.timers_stream

    async def handle(self, entry: Entry) -> None:
        name = timers_stream.parse(entry.fields)
        kind, thread_id, counter = name.split("|")
        round_text, _, step_text = counter.rpartition(".")
        step, round_ = int(step_text), int(round_text or 0)
        effect_key = timer_effect(name)
        effect = await self.store.effect(effect_key)
        config = self.config()
        if kind == "report":
            await self._report(entry, effect_key, done=effect is not None, due_ms=int(thread_id))
            return
        if kind == "digest":
            await self._queue_digest(entry, effect_key, done=effect is not None, name=name)
            return
        thread = await self.store.thread(thread_id)
        target = config.escalation.to if config.escalation else None
        still_open = (
            thread is not None
            and thread.status in (ThreadStatus.OPEN, ThreadStatus.CLAIMED)
            and thread.sla_round == round_
        )
        async with self.store.redis.pipeline(transaction=True) as pipe:
            if effect is None and still_open and target is not None and thread is not None:
                await self._escalate(pipe, thread, target, step, config)
                log.info("thread %s: %s step %d in %s", thread_id, kind, step, target)
            self.store.finish_effect(pipe, effect_key, {"state": "done", "at": now_ms()})
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()

    async def _escalate(
        self, pipe: Pipeline, thread: Thread, target: str, step: int, config: Config
    ) -> None:
        keys = self.store.keys
        already_there = target in await self.store.mirror_destinations(thread.id)
        if step == 0 and not already_there:
            root = await self._first_mention(thread.id)
            pipe.hsetnx(keys.thread_roots(thread.id), target, root)
            self.store.outbox.queue_mention(
                pipe, thread_id=thread.id, mention_id=root, destination=target, root=root
            )
        else:
            late = utcnow() - (thread.sla_deadline or utcnow())
            with config.speaking_to(target):
                text = messages.escalation_reminder(
                    late=messages.human_duration(late),
                    claimed_by=self.config().person_name(thread.status_by)
                    if thread.status is ThreadStatus.CLAIMED
                    else None,
                )
            self.store.outbox.queue_notice(pipe, destination=target, thread_id=thread.id, text=text)
        pipe.incrby(keys.counter("escalations" if step == 0 else "reminders"), 1)
        every = config.escalation.remind_every if config.escalation else None
        if every is not None:
            following = timer_name("remind", thread.id, step + 1, thread.sla_round)
            schedule(pipe, self.store, following, utcnow() + every)

    async def _report(self, entry: Entry, effect_key: str, *, done: bool, due_ms: int) -> None:
        """The scheduled report of the period that ends now, to its destination."""
        reports = self.config().reports
        text = None
        if not done and reports is not None:
            until = datetime.fromtimestamp(due_ms / 1000, UTC)
            with self.config().speaking_to(reports.to):
                _, text = await report_text(
                    self.store,
                    self.config(),
                    since=until - reports.every,
                    until=until,
                    zone=ZoneInfo(reports.timezone),
                )
        async with self.store.redis.pipeline(transaction=True) as pipe:
            if text is not None and reports is not None:
                self.store.outbox.queue_notice(
                    pipe, destination=reports.to, text=text, format="report"
                )
            self.store.finish_effect(pipe, effect_key, {"state": "done", "at": now_ms()})
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()

    async def _queue_digest(self, entry: Entry, effect_key: str, *, done: bool, name: str) -> None:
        """A burst digest is due: queued in its destination's lane, after what was folded."""
        _, destination, counter = name.split("|")
        window = counter.rpartition(".")[2]
        async with self.store.redis.pipeline(transaction=True) as pipe:
            if not done:
                self.store.outbox.queue_digest(pipe, destination=destination, window=window)
            self.store.finish_effect(pipe, effect_key, {"state": "done", "at": now_ms()})
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()

    async def _first_mention(self, thread_id: str) -> str:
        mentions = await self.store.thread_mentions(thread_id)
        return min(mentions, key=lambda m: (len(m.id), m.id)).id


def escalation_line(thread: Thread, *, now: datetime) -> str | None:
    """How late a thread is, for its mirror in the escalation destination."""
    if thread.sla_deadline is None or now < thread.sla_deadline:
        return None
    sla = thread.sla or thread.sla_deadline - thread.created_at
    late: timedelta = now - thread.sla_deadline
    return messages.escalation_line(late=messages.human_duration(late), sla=sla, route=thread.route)


async def backfill_open_threads(store: Store) -> int:
    """Upgrade from a version without the open-threads set and SLA timers: put every open or
    claimed thread in the set and give it its escalation timer. Safe to run in every process
    at once (each step is idempotent); done once, then remembered."""
    marker = store.keys.migration("open-threads")
    if await store.redis.exists(marker):
        return 0
    added = 0
    for thread_id in await store.redis.zrange(store.keys.threads_by_time, 0, -1):
        thread = await store.thread(str(thread_id))
        if thread is None or thread.status not in (ThreadStatus.OPEN, ThreadStatus.CLAIMED):
            continue
        async with store.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(
                store.keys.open_threads, {thread.id: int(thread.created_at.timestamp() * 1000)}
            )
            # Threads late by more than a day are listed, not escalated: after an upgrade, the
            # supervisors' channel would otherwise fill with old news.
            if thread.sla_deadline is not None and thread.sla_deadline > utcnow() - BACKFILL_LATE:
                name = timer_name("escalate", thread.id, 0, thread.sla_round)
                pipe.zadd(
                    store.keys.timers,
                    {name: int(thread.sla_deadline.timestamp() * 1000)},
                    nx=True,
                )
            await pipe.execute()
        added += 1
    await store.redis.set(marker, utcnow().isoformat())
    if added:
        log.info("upgrade: %d open thread(s) added to the unanswered list and timed", added)
    return added
