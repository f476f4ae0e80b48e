"""The router stage: from a polled mention to its thread and the outbox.

``RouterStage`` reads the mentions stream: it routes each mention, joins it to its thread and
queues one outbox entry per destination.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.config import Config
from bridge.domain.bursts import note_arrival
from bridge.domain.models import Mention, Thread, thread_id_for
from bridge.domain.routing import Decision, decide
from bridge.pipeline.runner import Entry
from bridge.pipeline.supervise import schedule_escalation, timer_name
from bridge.store.keys import MENTIONS_GROUP
from bridge.store.store import RouteQueue, Store, now_ms, utcnow
from bridge.store.threads import queue_refreshes

log = logging.getLogger(__name__)

DROPPED_KEPT = 100_000


class RouterStage:
    group = MENTIONS_GROUP

    def __init__(self, store: Store, *, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    @property
    def stream(self) -> str:
        return self.store.keys.mentions_stream

    async def handle(self, entry: Entry) -> None:
        mention = Mention.model_validate_json(entry.fields["mention"])
        effect_key = f"route:{mention.network}:{mention.account}:{mention.id}"
        decision = decide(self.config(), mention, now=utcnow())
        if decision.dropped:
            done = await self.store.effect(effect_key)
            if done is not None and done.state == "done":  # appended twice by the poller
                await self.store.redis.xack(self.stream, self.group, entry.id)
                return
            await self._drop(entry, mention, decision, effect_key)
            return
        destinations = decision.destinations
        created_at = utcnow()
        thread = Thread(
            id=thread_id_for(
                network=mention.network,
                account=mention.account,
                conversation_id=mention.conversation_id,
            ),
            network=mention.network,
            account=mention.account,
            conversation_id=mention.conversation_id,
            route=decision.route,
            priority=decision.priority,
            sla_deadline=created_at + decision.sla,
            sla=decision.sla,
            tags=decision.tags,
            created_at=created_at,
        )
        queued_at = now_ms()
        escalate = None
        if thread.sla_deadline is not None:
            due_ms = int(thread.sla_deadline.timestamp() * 1000)
            escalate = (timer_name("escalate", thread.id, 0), due_ms)
        joined = await self.store.join_thread(
            mention,
            thread=thread,
            destinations=destinations,
            routing_effect=effect_key,
            queue=RouteQueue(
                group=self.group, entry_id=entry.id, escalate=escalate, queued_at_ms=queued_at
            ),
        )
        if joined.routed_before:
            await self.store.redis.xack(self.stream, self.group, entry.id)
            return
        if not joined.queued:
            await self._queue_reopened(entry, mention, thread, decision, joined.roots, effect_key)
        log.info(
            "mention %s of %s -> %s (%s)",
            mention.id,
            mention.account,
            ", ".join(destinations),
            "new thread" if joined.created else "joined thread",
        )

    async def _queue_reopened(
        self,
        entry: Entry,
        mention: Mention,
        thread: Thread,
        decision: Decision,
        roots: dict[str, str],
        effect_key: str,
    ) -> None:
        """A new question in an answered thread: a new SLA round, timed from now, and the
        thread's messages redrawn as open; then the mention is queued as usual."""
        keys = self.store.keys
        mirrored = await self.store.mirror_destinations(thread.id)
        reopened = await self.store.thread(thread.id)
        round_ = reopened.version if reopened else 0
        deadline = thread.created_at + decision.sla
        queued_at = now_ms()
        async with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                keys.thread(thread.id),
                mapping={
                    "sla_deadline": deadline.isoformat(),
                    "sla_round": round_,
                    "sla_s": int(decision.sla.total_seconds()),
                },
            )
            schedule_escalation(pipe, self.store, thread.id, deadline, round_=round_)
            if mirrored:
                queue_refreshes(
                    pipe, self.store, thread_id=thread.id, version=round_, destinations=mirrored
                )
            for destination in decision.destinations:
                note_arrival(pipe, keys, destination, f"{thread.id}:{mention.id}", queued_at)
                pipe.xadd(
                    keys.outbox_stream,
                    {
                        "thread_id": thread.id,
                        "mention_id": mention.id,
                        "destination": destination,
                        "root": roots[destination],
                    },
                )
            self.store.finish_effect(
                pipe,
                effect_key,
                {"state": "done", "at": queued_at, "result": ",".join(decision.destinations)},
            )
            pipe.xack(self.stream, self.group, entry.id)
            pipe.incrby(keys.counter("routed"), 1)
            await pipe.execute()
        # Its chat messages' index stops expiring with it (its own keys did as it reopened).
        await self.store.settle_lifetime(thread.id)

    async def _drop(
        self, entry: Entry, mention: Mention, decision: Decision, effect_key: str
    ) -> None:
        """A rule said drop (spam): not mirrored, but counted and kept, so it can be listed,
        audited and replayed against other rules."""
        keys = self.store.keys
        async with self.store.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                keys.dropped_stream,
                {"rule": decision.route, "mention": mention.model_dump_json()},
                maxlen=DROPPED_KEPT,
                approximate=True,
            )
            pipe.xadd(
                keys.audit_stream,
                {
                    "at": utcnow().isoformat(),
                    "outcome": "dropped",
                    "person": "rules",
                    "chat": mention.network,
                    "detail": f"rule {decision.route}: @"
                    + (mention.author.handle if mention.author else "?"),
                    "text": mention.text,
                },
            )
            pipe.incrby(keys.counter("dropped"), 1)
            pipe.incrby(keys.counter(f"dropped:{decision.route}"), 1)
            self.store.finish_effect(
                pipe,
                effect_key,
                {"state": "done", "at": now_ms(), "result": f"dropped:{decision.route}"},
            )
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()
        log.info("mention %s of %s dropped by rule %s", mention.id, mention.account, decision.route)
