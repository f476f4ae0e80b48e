"""Replies from chat: the request (checks, audit, queue).

A request is checked before anything is queued: the person may speak as that identity, the
text fits the network's rules, the thread still needs an answer. The publisher
(:mod:`bridge.pipeline.publish`) then posts it once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from bridge.config import AccountConfig, Config, PersonConfig
from bridge.desks import audit
from bridge.desks.authority import Action, refusal, verdict
from bridge.domain.models import Identity, PostedReply, ReplyRequest, ThreadStatus
from bridge.errors import PermanentError, ReachableError
from bridge.store.store import Store, utcnow
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

    def over_length(self, network: str, text: str) -> str | None:
        """The network's own words on why ``text`` cannot go out there (too long), if so."""
        publisher = self.publishers.get(network)
        return publisher.check_text(text.strip()) if publisher else None

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
        return next((p for p in self.config().people if p.chat_user(chat) == user_id), None)

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
        if once is None:
            await self.store.actions.add_reply(request)
        elif not await self.store.actions.reply_once(request, once=once):
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
                messages.reply_personal_not_linked(
                    network=self.config().network_label(thread.network),
                    link_command=self.config().chat_platform(chat).link_command(),
                )
            )
        if identity is Identity.INSTITUTION and not publisher.can_post_as(account):
            setting = self.config().network_platform(thread.network).posting_setting
            raise ReplyRefused(
                messages.reply_no_credentials(handle=account.handle, setting=setting)
            )
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
