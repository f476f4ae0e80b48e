"""Effects: the record that makes each post, edit, reply or timer step happen once.

Every effect key is built here, by one function per kind of effect: the stages name their
effects through them, so a key written by one process is the key another one reads (after a
crash, a take-over, an upgrade). The Redis key of an effect is ``Keys.effect(effect_key)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, cast

EffectState = Literal["pending", "doing", "done", "failed"]


@dataclass(frozen=True)
class Effect:
    state: EffectState
    attempt: int
    result: str | None
    error: str | None
    # An effect posted as several messages (a chat that cuts a long post into parts): the
    # message id of each step posted so far, by step (0 is the first).
    parts: dict[int, str] = field(default_factory=dict)
    # When the state was last set: for "doing", when the latest attempt began (its message,
    # if it got out, is no older than that).
    at: datetime | None = None


def effect_from(data: dict[str, str]) -> Effect | None:
    """An effect's hash (HGETALL) read back; None when there is none."""
    if not data:
        return None
    at = data.get("at", "")
    return Effect(
        state=cast(EffectState, data["state"]),
        attempt=int(data.get("attempt", 0)),
        result=data.get("result"),
        error=data.get("error"),
        parts={int(k[5:]): v for k, v in data.items() if k.startswith("part:")},
        at=datetime.fromtimestamp(int(at) / 1000, UTC) if at.isdigit() else None,
    )


# -- effect keys ---------------------------------------------------------------------------------


def route_effect(network: str, account: str, mention_id: str) -> str:
    """A polled mention routed (joined to its thread and queued, or dropped)."""
    return f"route:{network}:{account}:{mention_id}"


def mirror_effect(destination: str, thread_id: str, mention_id: str, *, shown: bool = False) -> str:
    """A mention posted in a destination; ``shown``: posted there on request, after it was
    folded."""
    return f"mirror:{destination}:{thread_id}:{mention_id}" + (":shown" if shown else "")


def notice_effect(entry_id: str) -> str:
    """A notice of the outbox (by its entry id) posted."""
    return f"notice:{entry_id}"


def digest_effect(destination: str, window: str) -> str:
    """The digest of a destination's folded mentions of one window posted."""
    return f"digest:{destination}:{window}"


def refresh_effect(destination: str, thread_id: str, version: str | int) -> str:
    """A thread's message in a destination redrawn to show one version of the thread."""
    return f"refresh:{destination}:{thread_id}:{version}"


def reply_effect(request_id: str) -> str:
    """A reply request posted on the network."""
    return f"reply:{request_id}"


def timer_effect(name: str) -> str:
    """A due timer (by its name) carried out."""
    return f"timer:{name}"
