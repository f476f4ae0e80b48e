"""The publishing stage: each queued reply posted once, then the thread marked answered.

An interrupted attempt is looked up on the network before anything is posted again, because a
reply posted twice is seen by the public. The request itself (checks, audit, queue) is
:class:`bridge.desks.replies.ReplyDesk`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bridge.config import AccountConfig, Config
from bridge.desks import audit
from bridge.desks.replies import DuplicatePost, Publisher
from bridge.domain.models import Identity, PostedReply, ReplyRequest, ThreadStatus
from bridge.errors import Deferred, PermanentError, RateLimited, TransientError
from bridge.failpoints import (
    REPLY_AFTER_RECORD,
    REPLY_AFTER_SEND,
    REPLY_BEFORE_SEND,
    crash_point,
)
from bridge.pipeline.runner import Entry
from bridge.store import actions
from bridge.store.effects import reply_effect
from bridge.store.keys import ACTIONS_GROUP
from bridge.store.store import Store, now_ms
from bridge.store.threads import TransitionRefused, change_state
from bridge.text import messages

log = logging.getLogger(__name__)


class PublishStage:
    """Posts queued replies, once each, then marks the thread answered on every mirror."""

    group = ACTIONS_GROUP

    def __init__(
        self, store: Store, *, config: Callable[[], Config], publishers: dict[str, Publisher]
    ) -> None:
        self.store = store
        self.config = config
        self.publishers = publishers

    @property
    def stream(self) -> str:
        return self.store.keys.actions_stream

    async def handle(self, entry: Entry) -> None:
        request = actions.parse(entry.fields)
        # Why a reply failed is told where it was asked, in that destination's language.
        with self.config().speaking_to(request.where):
            await self._handle(entry, request)

    async def _handle(self, entry: Entry, request: ReplyRequest) -> None:
        effect_key = reply_effect(request.id)
        effect = await self.store.effect(effect_key)
        if effect is not None and effect.state in ("done", "failed"):
            await self.store.redis.xack(self.stream, self.group, entry.id)
            return
        account = self.config().account(request.account)
        publisher = self.publishers[request.network]
        posted: PostedReply | None = None
        if effect is not None and effect.state == "doing":
            posted = await publisher.find_reply(
                account=account,
                in_reply_to=request.mention_id,
                text=request.text,
                person=_posting_person(request),
            )
        if posted is None:
            posted = await self._post(publisher, account, request, effect_key, entry)
        if posted is not None:
            await self._finish(entry, request, effect_key, posted)

    async def _post(
        self,
        publisher: Publisher,
        account: AccountConfig,
        request: ReplyRequest,
        effect_key: str,
        entry: Entry,
    ) -> PostedReply | None:
        await self.store.mark_doing(effect_key)
        person = _posting_person(request)
        crash_point(REPLY_BEFORE_SEND, request.id)
        try:
            posted = await publisher.post_reply(
                account=account, in_reply_to=request.mention_id, text=request.text, person=person
            )
            crash_point(REPLY_AFTER_SEND, request.id)
            return posted
        except DuplicatePost:
            found = await publisher.find_reply(
                account=account, in_reply_to=request.mention_id, text=request.text, person=person
            )
            if found is not None:
                return found
            network = self.config().network_label(request.network)
            await self._fail(entry, request, effect_key, messages.reply_duplicate(network=network))
        except (RateLimited, TransientError) as exc:
            await self.store.count_failure(exc)
            raise Deferred(f"reply {request.id}: {exc}") from exc
        except PermanentError as exc:
            await self.store.count_failure(exc)
            await self._fail(entry, request, effect_key, exc.detail)
        return None

    async def _finish(
        self, entry: Entry, request: ReplyRequest, effect_key: str, posted: PostedReply
    ) -> None:
        """Thread first, then the effect: a crash in between finds the post again next time."""
        try:
            await change_state(
                self.store,
                request.thread_id,
                status=ThreadStatus.ANSWERED,
                by=request.person,
                answered=posted,
            )
        except TransitionRefused:
            log.info(
                "thread %s was already answered when reply %s went out",
                request.thread_id,
                request.id,
            )
        config = self.config()
        person = config.person_name(request.person)
        destinations = await self.store.mirror_destinations(request.thread_id)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            self.store.finish_effect(
                pipe,
                effect_key,
                {"state": "done", "at": now_ms(), "result": posted.model_dump_json()},
            )
            for destination in destinations:
                with config.speaking_to(destination):
                    shown = messages.reply_posted(
                        person=person, handle=posted.as_handle, text=request.text
                    )
                self.store.outbox.queue_notice(
                    pipe,
                    destination=destination,
                    thread_id=request.thread_id,
                    text=f"{shown}\n{posted.url}",
                )
            pipe.xack(self.stream, self.group, entry.id)
            pipe.incrby(self.store.keys.counter(f"replies:{request.identity.value}"), 1)
            await pipe.execute()
        crash_point(REPLY_AFTER_RECORD, request.id)
        await audit.record(self.store, outcome="posted", detail=posted.url, **_trail(request))
        log.info("reply %s posted as @%s: %s", request.id, posted.as_handle, posted.url)

    async def _fail(self, entry: Entry, request: ReplyRequest, effect_key: str, error: str) -> None:
        """Record the failure and tell the team where the reply was asked; the thread stays open."""
        log.error("reply %s failed: %s", request.id, error)
        account = self.config().account(request.account)
        async with self.store.redis.pipeline(transaction=True) as pipe:
            self.store.finish_effect(
                pipe, effect_key, {"state": "failed", "error": error, "at": now_ms()}
            )
            if request.where:
                with self.config().speaking_to(request.where):
                    as_whom = (
                        f"@{account.handle}"
                        if request.identity is Identity.INSTITUTION
                        else messages.their_own_account()
                    )
                    text = messages.reply_failed(
                        person=request.person, as_whom=as_whom, error=error
                    )
                self.store.outbox.queue_notice(pipe, destination=request.where, text=text)
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()
        await audit.record(self.store, outcome="failed", detail=error, **_trail(request))


def _posting_person(request: ReplyRequest) -> str | None:
    """The person whose own account posts the reply; None when it goes out as the institution."""
    return request.person if request.identity is Identity.PERSONAL else None


def _trail(request: ReplyRequest) -> dict[str, str]:
    """What the audit log keeps of a reply request."""
    return {
        "person": request.person,
        "chat": request.chat,
        "identity": request.identity.value,
        "thread": request.thread_id,
        "text": request.text,
        "request": request.id,
    }
