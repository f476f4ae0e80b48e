"""The actions stream's only writer (the reply desk queues replies here), and its reader's view
of an entry (the publisher's)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from bridge.domain.models import ReplyRequest
from bridge.store.keys import Keys

# Queue a reply only if its once-key (KEYS[2]) was never set: both or neither, even across a
# crash. ARGV: keep (s), the request's JSON.
_REPLY_ONCE = """
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('XADD', KEYS[1], '*', 'kind', 'reply', 'request', ARGV[2])
return 1
"""

ONCE_KEEP_S = 86400 * 2


def _reply_fields(request: ReplyRequest) -> dict[Any, Any]:
    return {"kind": "reply", "request": request.model_dump_json()}


def parse(fields: dict[str, str]) -> ReplyRequest:
    """The reply request of an entry (``kind`` reply, the only kind so far)."""
    return ReplyRequest.model_validate_json(fields["request"])


class Actions:
    def __init__(self, redis: aioredis.Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._reply_once = redis.register_script(_REPLY_ONCE)

    @property
    def stream(self) -> str:
        return self.keys.actions_stream

    async def add_reply(self, request: ReplyRequest) -> None:
        await self.redis.xadd(self.stream, _reply_fields(request))

    async def reply_once(
        self, request: ReplyRequest, *, once: str, keep_s: int = ONCE_KEEP_S
    ) -> bool:
        """Queue the reply unless one with the same ``once`` key was queued before (a form
        submitted again after its answer was lost); True if this call queued it."""
        added = await self._reply_once(
            keys=[self.stream, self.keys.seen_event("once", once)],
            args=[keep_s, request.model_dump_json()],
        )
        return bool(added)
