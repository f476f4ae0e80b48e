"""Immutable domain values: change one with ``model_copy(update=...)``, persist it via the store."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# A lone surrogate cannot be encoded as UTF-8 (Redis, Slack and Telegram all need it) and NUL
# ends strings in some clients: both arrive only in hostile posts, and each is shown as U+FFFD.
_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


def neutral(text: str) -> str:
    return _UNENCODABLE.sub("\ufffd", text)


PublicText = Annotated[str, AfterValidator(neutral)]


class Author(Frozen):
    id: str
    handle: PublicText
    name: PublicText = ""
    verified: bool = False
    followers: int | None = None


class Media(Frozen):
    kind: str
    url: str | None = None


class Mention(Frozen):
    """A public post that mentions one of the institutional accounts we watch.

    ``account`` is the local key of that institutional account (``humas``), not its handle.
    Ids are strings: X ids exceed 2**53 and must never pass through a float.
    """

    network: str
    id: str
    account: str
    text: PublicText
    author: Author | None = None
    lang: str | None = None
    created_at: datetime | None = None
    url: str | None = None
    conversation_id: str
    in_reply_to_id: str | None = None
    media: tuple[Media, ...] = ()


class ThreadStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    DISMISSED = "dismissed"


# The buttons a mirror offers in each state of its thread, in display order.
THREAD_ACTIONS: dict[ThreadStatus, tuple[str, ...]] = {
    ThreadStatus.OPEN: ("reply_institution", "reply_personal", "claim", "dismiss"),
    # "claim" reads "Take over" here: it tells who holds the thread, and a second press takes it.
    ThreadStatus.CLAIMED: ("reply_institution", "reply_personal", "claim", "release", "dismiss"),
    ThreadStatus.ANSWERED: ("reply_again",),
    ThreadStatus.DISMISSED: (),
}


def thread_id_for(*, network: str, account: str, conversation_id: str) -> str:
    """One thread per (network, account, conversation); the id is stable and key-safe."""
    raw = f"{network}\x00{account}\x00{conversation_id}"
    return f"{network}-{account}-" + hashlib.sha256(raw.encode()).hexdigest()[:16]


class Thread(Frozen):
    id: str
    network: str
    account: str
    conversation_id: str
    status: ThreadStatus = ThreadStatus.OPEN
    route: str
    priority: str = "normal"
    sla_deadline: datetime | None = None
    # Which SLA the deadline belongs to: a thread reopened by a new mention gets a new one.
    sla_round: int = 0
    sla: timedelta | None = None
    tags: tuple[str, ...] = ()
    created_at: datetime
    mention_count: int = 1
    # Who moved the thread to its status, when, and why (a dismissal's reason); person keys.
    status_by: str | None = None
    status_at: datetime | None = None
    status_note: PublicText | None = None
    # Raised by every state change; a mirror rendered from an older version is refreshed.
    version: int = 0
    # Set when the thread is answered: the handle the reply went out as, and its address.
    answered_as: str | None = None
    answered_url: str | None = None
    # The first answer ever recorded on the thread, for response-time reports.
    first_response_at: datetime | None = None
    first_response_by: str | None = None
    first_response_as: str | None = None
    # How many of its mentions were folded into burst digests instead of posted singly.
    folded: int = 0


class Identity(StrEnum):
    """Who a reply is posted as."""

    INSTITUTION = "institution"
    PERSONAL = "personal"


class ReplyRequest(Frozen):
    """A staff member asked to answer ``mention_id`` with ``text``, as ``identity``."""

    id: str
    thread_id: str
    mention_id: str
    network: str
    account: str
    text: str
    identity: Identity
    person: str
    chat: str
    requested_at: datetime
    # The destination the person asked from, where they hear if the reply cannot be posted.
    where: str | None = None


class PostedReply(Frozen):
    id: str
    url: str
    as_handle: str


class MirrorRef(Frozen):
    """Where a message lives in a chat: Slack ``ts`` or Telegram ``message_id``, as a string."""

    chat: str
    channel: str
    message_id: str
    thread_root: str | None = None


class MentionCard(Frozen):
    """Everything a chat needs to show one mirrored mention; each adapter renders it its own way."""

    mention: Mention
    # The mention's network as people call it ("X").
    network_name: str
    thread_id: str
    account_handle: str
    route: str
    priority: str
    sla: timedelta | None
    sla_deadline: datetime | None
    is_first_in_thread: bool
    tags: tuple[str, ...] = ()
    # On the thread's mirror in the escalation destination: how late it is, the mirror it was
    # escalated from, and (filled in by the chat adapter) a link to that mirror.
    escalation: str | None = None
    origin: MirrorRef | None = None
    origin_link: str | None = None
    status: ThreadStatus = ThreadStatus.OPEN
    status_by: str | None = None
    status_note: PublicText | None = None
    status_at: datetime | None = None
    answered_as: str | None = None
    answered_url: str | None = None
