"""The small interfaces through which platforms meet the core: the core owns them, and the
adapters implement them.

Implementations need not inherit anything: these are structural ``Protocol``s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bridge.actions import ActionDispatcher
from bridge.config import AccountConfig, Config, Destination
from bridge.desks.linking import AccountLinker
from bridge.desks.replies import Publisher
from bridge.domain.models import Mention, MentionCard, MirrorRef
from bridge.settings import Settings
from bridge.store.store import Store
from bridge.store.vault import TokenVault


@dataclass(frozen=True)
class RateBudget:
    """What the platform said about the rate limit of the last call."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # Unix seconds, as the platform stated them (PlatformTime.until)


@dataclass(frozen=True)
class OwnReply:
    """A reply the institutional account posted itself (on the network or through us)."""

    id: str
    conversation_id: str
    in_reply_to: str
    url: str


@dataclass(frozen=True)
class FetchResult:
    """New mentions of one account, oldest first, and the cursor to store once they are safe."""

    mentions: list[Mention]
    cursor: str | None
    budget: RateBudget
    calls: int
    # The network's timeline ended before reaching the cursor: older mentions may be missing.
    truncated: bool = False


class MentionSource(Protocol):
    """A network whose public mentions of institutional accounts we poll."""

    network: str

    async def fetch_new(self, account: AccountConfig, *, since_id: str | None) -> FetchResult:
        """Every mention newer than ``since_id`` (or the ``backfill`` newest when None)."""
        ...

    async def fetch_own_replies(
        self, account: AccountConfig, *, since_id: str | None
    ) -> tuple[list[OwnReply], str | None]:
        """Replies the account posted after ``since_id``, and the next cursor."""
        ...

    async def fetch_user_replies(
        self, *, user_id: str, handle: str, since_id: str | None
    ) -> tuple[list[OwnReply], str | None]:
        """The same for any user (a person's linked account), by id."""
        ...

    async def close(self) -> None: ...


class PostProgress(Protocol):
    """The core's side of posting one mirrored mention, handed to the sink with it.

    A chat may need several messages for one mention (Telegram cuts a long post into parts),
    and the core must not need to know why. So the sink takes each message as a step: it asks
    for its turn before sending (each message keeps the destination's pace, shared by every
    process), records what it sent, and skips the steps an earlier attempt recorded. A retry
    after a rate limit, an error, a crash or a take-over then continues with the first message
    not yet posted. A sink that posts one message takes one step.
    """

    def posted(self, step: int) -> str | None:
        """The message id an earlier attempt recorded for ``step`` (0 is the first message)."""
        ...

    async def turn(self) -> None:
        """Wait for this sender's slot in the destination; call it before each message sent.
        Raises the core's own exceptions (the slot is too far off): let them through."""
        ...

    def record(self, step: int, message_id: str) -> None:
        """``step`` is out as ``message_id``: it is never posted again. Stored in Redis with
        the next turn or with the mirror's own record, whichever comes first."""
        ...


class ChatSink(Protocol):
    """A chat platform that shows mirrored mentions and turns staff actions into events."""

    chat: str

    async def post_mention(
        self,
        *,
        destination: Destination,
        card: MentionCard,
        reply_to: MirrorRef | None,
        effect_key: str,
        progress: PostProgress,
    ) -> MirrorRef:
        """Post one mirrored mention, in as many messages as the chat needs, each one a step
        of ``progress`` (see :class:`PostProgress`); the first message is the mirror, and
        ``reply_to`` is the thread's first message there."""
        ...

    async def edit_mention(
        self, *, destination: Destination, ref: MirrorRef, card: MentionCard
    ) -> None:
        """Redraw a mirrored mention (its thread's state changed); unchanged content is fine."""
        ...

    async def post_notice(
        self,
        *,
        destination: Destination,
        text: str,
        reply_to: MirrorRef | None = None,
        monospace: bool = False,
        effect_key: str | None = None,
    ) -> None:
        """Post a plain message from Reachable itself (an alert, a posted reply, a report),
        shown literally; under ``reply_to`` (a thread's first message there) when given;
        ``monospace`` for a table; tagged with ``effect_key``, where the platform can keep a
        tag, so that ``find_posted`` finds it after an interrupted attempt."""
        ...

    async def find_posted(
        self,
        *,
        destination: Destination,
        reply_to: MirrorRef | None,
        effect_key: str,
        since: datetime | None = None,
    ) -> MirrorRef | None:
        """The message an earlier, interrupted attempt of ``effect_key`` posted, if any;
        ``since`` is when that attempt began (its message is no older), when known."""
        ...

    async def tell_privately(self, *, user_id: str, where: str, text: str) -> None:
        """Say ``text`` to this one person (a link made to their name): ``where`` is where they
        asked, as the chat's link command recorded it. Failures are logged, not raised."""
        ...

    def web_routes(self) -> Sequence[Any]:
        """Starlette routes this chat needs on the bridge's web app (events, interactions)."""
        ...

    def channel_interval_s(self, destination: Destination) -> float:
        """Seconds between two messages to one destination, under the platform's limit."""
        ...

    def overall_interval_s(self) -> float:
        """Seconds between any two messages of the bot on the platform; 0 when it sets none."""
        ...

    async def listen(self, stop: asyncio.Event) -> None:
        """Receive chat events until ``stop``: long polling, or just waiting if they are pushed."""
        ...

    async def ping(self) -> None:
        """Raise unless the platform answers with our credentials (for ``/readyz``)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class AdapterContext:
    settings: Settings
    config: Callable[[], Config]
    store: Store
    # Where chats hand in what staff do (see bridge.actions); None in processes that do not
    # listen to chats.
    actions: ActionDispatcher | None = None
    # Personal accounts' sealed tokens; None when personal accounts are turned off.
    vault: TokenVault | None = None


SourceFactory = Callable[[AdapterContext], Awaitable[MentionSource]]
PublisherFactory = Callable[[AdapterContext], Awaitable[Publisher]]
SinkFactory = Callable[[AdapterContext], Awaitable[ChatSink]]
LinkerFactory = Callable[[Settings], AccountLinker]
