"""The router stage: from a polled mention to its thread and the outbox.

``RouterStage`` reads the mentions stream: it routes each mention, joins it to its thread and
queues one outbox entry per destination.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.config import Config
from bridge.domain.models import Mention, Thread, thread_id_for
from bridge.domain.routing import Decision, decide
from bridge.pipeline.runner import Entry
from bridge.pipeline.supervise import escalation_timer
from bridge.store import audit_log
from bridge.store import mentions as mentions_stream
from bridge.store.effects import route_effect
from bridge.store.joining import RouteQueue
from bridge.store.keys import MENTIONS_GROUP
from bridge.store.store import Store, now_ms, utcnow

log = logging.getLogger(__name__)


class RouterStage:
    group = MENTIONS_GROUP

    def __init__(self, store: Store, *, config: Callable[[], Config]) -> None:
        self.store = store
        self.config = config

    @property
    def stream(self) -> str:
        return self.store.keys.mentions_stream

    async def handle(self, entry: Entry) -> None:
        mention = mentions_stream.parse(entry.fields)
        effect_key = route_effect(mention.network, mention.account, mention.id)
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
            escalate = (*escalation_timer(thread.id), due_ms)
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
        if joined.reopened:
            # Its chat messages' index stops expiring with it (its own keys did as it reopened).
            await self.store.settle_lifetime(thread.id)
        log.info(
            "mention %s of %s -> %s (%s)",
            mention.id,
            mention.account,
            ", ".join(destinations),
            "new thread" if joined.created else "joined thread",
        )

    async def _drop(
        self, entry: Entry, mention: Mention, decision: Decision, effect_key: str
    ) -> None:
        """A rule said drop (spam): not mirrored, but counted and kept, so it can be listed,
        audited and replayed against other rules."""
        keys = self.store.keys
        async with self.store.redis.pipeline(transaction=True) as pipe:
            audit_log.queue_dropped(pipe, keys, rule=decision.route, mention=mention)
            audit_log.queue(
                pipe,
                keys,
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
