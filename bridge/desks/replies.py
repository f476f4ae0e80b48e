"""Replies from chat: the request (checks, audit, queue) and the publishing stage.

A request is checked before anything is queued: the person may speak as that identity, the
text fits the network's rules, the thread still needs an answer. The publisher then posts it
once: an interrupted attempt is looked up on the network before anything is posted again,
because a reply posted twice is seen by the public.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from bridge.config import AccountConfig, Config, PersonConfig
from bridge.desks import audit
from bridge.desks.authority import Action, refusal, verdict
from bridge.domain.models import Identity, PostedReply, ReplyRequest, ThreadStatus
from bridge.errors import PermanentError, RateLimited, ReachableError, TransientError
from bridge.failpoints import (
    REPLY_AFTER_RECORD,
    REPLY_AFTER_SEND,
    REPLY_BEFORE_SEND,
    crash_point,
)
from bridge.pipeline.runner import Deferred, Entry
from bridge.store.keys import ACTIONS_GROUP
from bridge.store.store import Store, now_ms, utcnow
from bridge.store.threads import TransitionRefused, change_state
from bridge.store.vault import TokenVault
from bridge.text import messages

log = logging.getLogger(__name__)


class ReplyRefused(ReachableError):
    """The request cannot be carried out; ``reason`` is said to the person as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DuplicatePost(PermanentError):
    """The network refused the post as identical to one already there."""


class Publisher(Protocol):
    network: str

    def check_text(self, text: str) -> str | None:
        """What is wrong with ``text`` by the network's rules (length...), or None."""
        ...

    def measure(self, text: str) -> tuple[int, int]:
        """(length by the network's rules, the limit)."""
        ...

    def can_post_as(self, account: AccountConfig) -> bool: ...

    async def post_reply(
        self, *, account: AccountConfig, in_reply_to: str, text: str, person: str | None = None
    ) -> PostedReply:
        """Post as the institutional ``account``, or as ``person``'s linked account."""
        ...

    async def find_reply(
        self, *, account: AccountConfig, in_reply_to: str, text: str, person: str | None = None
    ) -> PostedReply | None: ...

    async def ping(self, account: AccountConfig) -> None:
        """Raise unless the network answers with our credentials (for ``/readyz``)."""
        ...

    async def close(self) -> None: ...


class ReplyDesk:
    """Where chat adapters hand in replies; the same checks whatever the chat."""

    def __init__(
        self,
        store: Store,
        *,
        config: Callable[[], Config],
        publishers: dict[str, Publisher],
        vault: TokenVault | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.publishers = publishers
        self.vault = vault

    @staticmethod
    def unpostable(text: str) -> str | None:
        """Why ``text`` cannot go out at all, whatever the network: a lone UTF-16 surrogate (a
        half emoji from a broken paste, or a forged payload) has no UTF-8 form, so it could
        neither be stored nor posted."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return messages.reply_unpostable_characters()
        return None

    def measure(self, network: str, text: str) -> tuple[int, int] | None:
        publisher = self.publishers.get(network)
        return publisher.measure(text.strip()) if publisher else None

    async def identities_for(self, person: PersonConfig, account: AccountConfig) -> list[Identity]:
        """The identities this person can reply as today (personal ones need linking first)."""
        speaks = verdict(Action.REPLY_AS_INSTITUTION, person, account=account.key).allowed
        identities = [Identity.INSTITUTION] if speaks else []
        if await self.linked_handle(person, account.network):
            identities.append(Identity.PERSONAL)
        return identities

    async def linked_handle(self, person: PersonConfig, network: str) -> str | None:
        """The handle of the person's linked account on ``network``, if they linked one."""
        if self.vault is None:
            return None
        linked = await self.vault.linked(person.key, network)
        return linked.handle if linked else None

    def destination_of(self, *, chat: str, address: str) -> str | None:
        """The destination key of a chat channel or group, if it is one."""
        for key, destination in self.config().destinations.items():
            if destination.chat == chat and destination.address == address:
                return key
        return None

    def person_by(self, *, chat: str, user_id: str) -> PersonConfig | None:
        for person in self.config().people:
            known = person.slack if chat == "slack" else str(person.telegram)
            if known is not None and known == user_id:
                return person
        return None

    async def request(
        self,
        *,
        thread_id: str,
        mention_id: str,
        text: str,
        identity: Identity,
        person: PersonConfig,
        chat: str,
        where: str | None = None,
        again: bool = False,
        once: str | None = None,
    ) -> ReplyRequest:
        """Check and queue a reply; raise ReplyRefused (audited) with the reason otherwise.

        ``where`` is the destination it was asked from: a failure is told there. ``again`` is a
        deliberate further reply in a thread that is answered already. ``once`` names the form
        it came from: the same form sent twice (its first answer lost on the way back to the
        person) is queued once.
        """
        unpostable = self.unpostable(text)
        trail = {
            "person": person.key,
            "chat": chat,
            "identity": identity.value,
            "thread": thread_id,
            # Kept readable in the audit log even when it cannot be posted.
            "text": text.encode("utf-8", "backslashreplace").decode("utf-8"),
        }
        try:
            if unpostable:
                raise ReplyRefused(unpostable)
            request = await self._checked(
                thread_id=thread_id,
                mention_id=mention_id,
                text=text,
                identity=identity,
                person=person,
                chat=chat,
                again=again,
            )
            request = request.model_copy(update={"where": where})
        except ReplyRefused as refused:
            await audit.record(self.store, outcome="refused", detail=refused.reason, **trail)
            raise
        fields: dict[Any, Any] = {"kind": "reply", "request": request.model_dump_json()}
        stream = self.store.keys.actions_stream
        if once is None:
            await self.store.redis.xadd(stream, fields)
        elif not await self.store.add_once(stream, fields, once=once):
            refusal = messages.reply_already_queued()
            await audit.record(self.store, outcome="refused", detail=refusal, **trail)
            raise ReplyRefused(refusal)
        await audit.record(self.store, outcome="queued", request=request.id, **trail)
        return request

    async def _checked(
        self,
        *,
        thread_id: str,
        mention_id: str,
        text: str,
        identity: Identity,
        person: PersonConfig,
        chat: str,
        again: bool,
    ) -> ReplyRequest:
        thread = await self.store.thread(thread_id)
        mention = await self.store.thread_mention(thread_id, mention_id)
        if thread is None or mention is None:
            raise ReplyRefused(messages.reply_thread_gone())
        config = self.config()
        try:
            account = config.account(thread.account)
        except KeyError:
            raise ReplyRefused(messages.reply_thread_gone()) from None
        if thread.status is ThreadStatus.ANSWERED and not again:
            by = config.person_name(thread.status_by) if thread.status_by else None
            raise ReplyRefused(messages.reply_already_answered(by=by))
        if identity is Identity.INSTITUTION:
            decision = verdict(
                Action.REPLY_AS_INSTITUTION, person, thread=thread, account=account.key
            )
            if not decision.allowed:
                raise ReplyRefused(refusal(decision, handle=account.handle))
        publisher = self.publishers.get(thread.network)
        if publisher is None:
            raise ReplyRefused(messages.reply_thread_gone())
        if identity is Identity.PERSONAL and not await self.linked_handle(person, thread.network):
            raise ReplyRefused(
                messages.reply_personal_not_linked(link_command=messages.link_command(chat))
            )
        if identity is Identity.INSTITUTION and not publisher.can_post_as(account):
            raise ReplyRefused(messages.reply_no_credentials(handle=account.handle))
        text = text.strip()
        if not text:
            raise ReplyRefused(messages.reply_empty())
        problem = publisher.check_text(text)
        if problem:
            raise ReplyRefused(problem)
        return ReplyRequest(
            id=uuid.uuid4().hex,
            thread_id=thread_id,
            mention_id=mention_id,
            network=thread.network,
            account=account.key,
            text=text,
            identity=identity,
            person=person.key,
            chat=chat,
            requested_at=utcnow(),
        )


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
        request = ReplyRequest.model_validate_json(entry.fields["request"])
        # Why a reply failed is told where it was asked, in that destination's language.
        with self.config().speaking_to(request.where):
            await self._handle(entry, request)

    async def _handle(self, entry: Entry, request: ReplyRequest) -> None:
        effect_key = f"reply:{request.id}"
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
            await self._fail(entry, request, effect_key, messages.reply_duplicate())
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
                pipe.xadd(
                    self.store.keys.outbox_stream,
                    {
                        "kind": "notice",
                        "destination": destination,
                        "thread_id": request.thread_id,
                        "text": f"{shown}\n{posted.url}",
                    },
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
                pipe.xadd(
                    self.store.keys.outbox_stream,
                    {"kind": "notice", "destination": request.where, "text": text},
                )
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
