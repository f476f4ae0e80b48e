"""A reopened thread is routed by the same step as a new one: its new SLA round, its timer, the
redraw of its mirrors and its outbox entries are written with the join, or none of them."""

from __future__ import annotations

from datetime import timedelta

from bridge.domain.models import Mention, Thread, ThreadStatus, thread_id_for
from bridge.pipeline.supervise import escalation_timer, timer_name
from bridge.store.joining import RouteQueue
from bridge.store.store import Store, now_ms, utcnow
from bridge.store.threads import change_state


def test_the_escalation_timer_around_its_round_is_the_timer_name() -> None:
    before, after = escalation_timer("x:humas:50")
    for round_ in (0, 1, 12):
        assert before + str(round_) + after == timer_name("escalate", "x:humas:50", 0, round_)


async def _route(store: Store, mention_id: str, entry_id: str) -> tuple[Thread, bool]:
    mention = Mention(network="x", id=mention_id, account="humas", text="?", conversation_id="50")
    created_at = utcnow()
    thread = Thread(
        id=thread_id_for(network="x", account="humas", conversation_id="50"),
        network="x",
        account="humas",
        conversation_id="50",
        route="all",
        priority="normal",
        sla=timedelta(minutes=30),
        sla_deadline=created_at + timedelta(minutes=30),
        created_at=created_at,
    )
    assert thread.sla_deadline is not None
    due = int(thread.sla_deadline.timestamp() * 1000)
    joined = await store.join_thread(
        mention,
        thread=thread,
        destinations=["all"],
        routing_effect=f"route:x:humas:{mention_id}",
        queue=RouteQueue(
            group="router",
            entry_id=entry_id,
            escalate=(*escalation_timer(thread.id), due),
            queued_at_ms=now_ms(),
        ),
    )
    assert joined.queued
    return thread, joined.reopened


async def test_a_reopened_thread_is_queued_with_its_new_round_in_the_join(store: Store) -> None:
    thread, reopened = await _route(store, "50", "1-0")
    assert not reopened
    await store.redis.hset(store.keys.thread_mirrors(thread.id), "all", "{}")
    await change_state(store, thread.id, status=ThreadStatus.ANSWERED, by="rina")
    await store.redis.delete(store.keys.outbox_stream)
    thread, reopened = await _route(store, "51", "2-0")
    assert reopened
    after = await store.thread(thread.id)
    assert after is not None and after.status is ThreadStatus.OPEN
    assert after.sla_round == after.version == 2
    assert after.sla == timedelta(minutes=30) and after.sla_deadline == thread.sla_deadline
    assert await store.redis.zrange(store.keys.timers, 0, -1) == [
        f"escalate|{thread.id}|0.0",
        f"escalate|{thread.id}|2.0",
    ]
    entries = [f for _, f in await store.redis.xrange(store.keys.outbox_stream)]
    assert entries == [
        {"kind": "refresh", "thread_id": thread.id, "destination": "all", "version": "2"},
        {"thread_id": thread.id, "mention_id": "51", "destination": "all", "root": "50"},
    ]
    routed = await store.effect("route:x:humas:51")
    assert routed is not None and routed.state == "done" and routed.result == "all"
