"""Thread state changes: one state in Redis, shown on every mirror of the thread.

A change is one WATCH/MULTI transaction that checks the transition, writes the new state and
queues a ``refresh`` outbox entry for every mirror, so the chats cannot miss it; it also sets
when the thread's keys expire (its retention from the moment it is answered or dismissed, never
while it is open). A lost race is an ordinary outcome (:class:`TransitionRefused` says what the
thread is now), not a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from bridge.domain.models import PostedReply, Thread, ThreadStatus
from bridge.errors import ReachableError
from bridge.store.first_response import observe_first_response
from bridge.store.retention import set_lifetime, thread_expiry_ms
from bridge.store.store import Store, utcnow

Status = ThreadStatus

ALLOWED: dict[ThreadStatus, set[ThreadStatus]] = {
    Status.OPEN: {Status.CLAIMED, Status.ANSWERED, Status.DISMISSED},
    Status.CLAIMED: {Status.OPEN, Status.CLAIMED, Status.ANSWERED, Status.DISMISSED},
    # Answered again: an answer seen on the network first, then recorded by the publisher.
    Status.ANSWERED: {Status.OPEN, Status.ANSWERED},
    Status.DISMISSED: {Status.OPEN},
}


class UnknownThread(ReachableError):
    def __init__(self, thread_id: str) -> None:
        super().__init__(f"no thread {thread_id!r}")
        self.thread_id = thread_id


class TransitionRefused(ReachableError):
    """The thread is not in a state that allows the change; ``thread`` is how it is now."""

    def __init__(self, thread: Thread, wanted: ThreadStatus) -> None:
        super().__init__(
            f"thread {thread.id} is {thread.status.value}; cannot become {wanted.value}"
        )
        self.thread = thread
        self.wanted = wanted


def _follow_open_list(
    pipe: Pipeline,
    store: Store,
    current: Thread,
    status: ThreadStatus,
    *,
    by: str | None,
    answered: PostedReply | None,
) -> None:
    """Keep the unanswered list in step, and record the first answer a thread ever gets."""
    if status in (Status.ANSWERED, Status.DISMISSED):
        pipe.zrem(store.keys.open_threads, current.id)
    else:
        pipe.zadd(store.keys.open_threads, {current.id: int(current.created_at.timestamp() * 1000)})
    if status is Status.ANSWERED and current.first_response_at is None:
        now = utcnow()
        pipe.hset(
            store.keys.thread(current.id),
            mapping={
                "first_response_at": now.isoformat(),
                "first_response_by": by or "",
                "first_response_as": answered.as_handle if answered else "",
            },
        )
        observe_first_response(pipe, store, (now - current.created_at).total_seconds())


def queue_refreshes(
    pipe: Pipeline, store: Store, *, thread_id: str, version: int, destinations: list[str]
) -> None:
    """Ask the mirror stage to redraw the thread's message in each destination."""
    for destination in destinations:
        store.outbox.queue_refresh(
            pipe, thread_id=thread_id, destination=destination, version=version
        )


async def change_state(
    store: Store,
    thread_id: str,
    *,
    status: ThreadStatus,
    by: str | None,
    note: str | None = None,
    answered: PostedReply | None = None,
    only_if: Callable[[Thread], bool] | None = None,
) -> Thread:
    """Move a thread to ``status`` (by a person's key) and queue the redraw of its mirrors.

    ``only_if`` is checked against the thread as it is inside the transaction (a claim only
    while nobody else holds it, say); when it fails, TransitionRefused tells what it is now.
    """
    thread_key = store.keys.thread(thread_id)
    mirrors_key = store.keys.thread_mirrors(thread_id)
    shown_key = store.keys.thread_shown(thread_id)
    async with store.redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(thread_key, mirrors_key, shown_key)
                current = await store.thread(thread_id)
                if current is None:
                    raise UnknownThread(thread_id)
                if status not in ALLOWED[current.status] or (
                    only_if is not None and not only_if(current)
                ):
                    raise TransitionRefused(current, status)
                destinations = [str(d) for d in await pipe.hkeys(mirrors_key)]
                shown = [str(k) for k in await pipe.smembers(shown_key)]
                version = current.version + 1
                changed_at = utcnow()
                fields: dict[Any, Any] = {
                    "status": status.value,
                    "status_by": by or "",
                    "status_note": note or "",
                    "status_at": changed_at.isoformat(),
                    "version": version,
                    "answered_as": answered.as_handle if answered else "",
                    "answered_url": answered.url if answered else "",
                }
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.hset(thread_key, mapping=fields)
                after = current.model_copy(update={"status": status, "status_at": changed_at})
                expiry = thread_expiry_ms(after, store.lifetimes())
                set_lifetime(pipe, [*store.keys.thread_keys(thread_id), *shown], expiry)
                _follow_open_list(pipe, store, current, status, by=by, answered=answered)
                queue_refreshes(
                    pipe, store, thread_id=thread_id, version=version, destinations=destinations
                )
                await pipe.execute()
                break
            except WatchError:
                continue
    changed = await store.thread(thread_id)
    assert changed is not None
    return changed
