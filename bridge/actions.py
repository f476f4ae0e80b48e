"""What staff do from a chat, as one platform-neutral value each, and the one place they go.

A chat adapter turns a button press, a form, a reply or a typed command into a
:class:`ChatAction` (typed commands through :func:`parse_command`, the same for every chat)
and hands it to :meth:`ActionDispatcher.dispatch`, which calls the desk that does it. The desks
keep their logic and ask :mod:`bridge.desks.authority` who may do what; nothing here decides
that. What comes back is what the desk answered (mostly the text to show), for the adapter to
render in its chat's markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from bridge.config import AccountConfig, Config, PersonConfig
from bridge.desks.admin import ADMIN_VERBS, AdminDesk, answer_admin_command
from bridge.desks.claims import ThreadDesk, short_reference
from bridge.desks.linking import ChatUser, LinkDesk, answer_link_command
from bridge.desks.replies import ReplyDesk
from bridge.desks.unanswered import LinkOf, answer_show, answer_unanswered
from bridge.domain.models import Identity, Mention, ThreadStatus
from bridge.store.store import Store
from bridge.text import messages

T = TypeVar("T")

LINK_VERBS = ("link", "pin", "unlink")
# The typed commands every chat shares, besides help and the admins' (ADMIN_VERBS).
STAFF_VERBS = (*LINK_VERBS, "assign", "unanswered", "show")


@dataclass(frozen=True)
class Actor:
    """Who acted, and where: ``user_id`` is their id in ``chat``, ``where`` the channel or chat
    they acted in (``topic``: a Telegram forum's topic there)."""

    person: PersonConfig
    chat: str
    user_id: str
    where: str
    topic: int | None = None


async def _no_link(ref: Any) -> str | None:
    return None


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class ChatStyle:
    """How a chat writes what the core says: a command (``prefix`` before the verb, ``code``
    around a command quoted in a sentence), a link to a mirror, the public's words made inert."""

    prefix: str = "/"
    link_of: LinkOf = _no_link
    escape: Callable[[str], str] = _same
    code: Callable[[str], str] = _same

    def command(self, verb: str) -> str:
        return f"{self.prefix}{verb}"


class ChatAction(Generic[T]):
    """A staff action; ``T`` is what dispatching it answers."""

    actor: Actor


# -- the thread's buttons ------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim(ChatAction[str]):
    actor: Actor
    thread_id: str


@dataclass(frozen=True)
class Release(ChatAction[str]):
    actor: Actor
    thread_id: str


@dataclass(frozen=True)
class AskDismissal(ChatAction[str | None]):
    """The Dismiss button, before the reason is asked: None when the person may dismiss the
    thread (the chat then asks why), else why not (so that nobody is asked why for nothing)."""

    actor: Actor
    thread_id: str


@dataclass(frozen=True)
class Dismiss(ChatAction[str]):
    """The dismissal, with its reason (one of ``DISMISS_REASONS``) and an optional note."""

    actor: Actor
    thread_id: str
    reason: str
    note: str = ""


# -- replies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyForm:
    """What a reply form shows: the mention, the identity it starts with and its handle, and
    the identities to choose from (none when the button chose one)."""

    mention: Mention
    identity: Identity
    as_handle: str | None
    choices: list[tuple[Identity, str]]


@dataclass(frozen=True)
class OpenReply(ChatAction[ReplyForm | str]):
    """A reply button, asking for the form: ``identity`` None lets the person choose."""

    actor: Actor
    thread_id: str
    mention_id: str
    identity: Identity | None = None


@dataclass(frozen=True)
class ReplyPreview:
    """A written reply before it is sent: its length against the network's ``limit`` (and
    ``too_long``, the network's own words when it is over), the network as people call it,
    and the identities (with their handles) it may go out as; ``again`` when the thread is
    answered already (a deliberate further reply)."""

    mention: Mention | None
    text: str
    length: int
    limit: int
    too_long: str | None
    network: str
    identities: list[tuple[Identity, str]]
    again: bool


@dataclass(frozen=True)
class PreviewReply(ChatAction[ReplyPreview | str | None]):
    """Text written in answer to a mirrored mention; None when the thread is gone."""

    actor: Actor
    thread_id: str
    mention_id: str
    text: str


@dataclass(frozen=True)
class SubmitReply(ChatAction[str]):
    """Queue a reply; answers that it is queued, or raises ``ReplyRefused`` with why not.
    ``once`` names the form it came from, so that the same form sent twice queues once."""

    actor: Actor
    thread_id: str
    mention_id: str
    text: str
    identity: Identity
    again: bool = False
    once: str | None = None


# -- typed commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link(ChatAction[str]):
    """``link``, ``pin <PIN>`` or ``unlink`` (``verb``): one's own account on the network."""

    actor: Actor
    verb: str
    argument: str = ""
    style: ChatStyle = field(default_factory=ChatStyle)


@dataclass(frozen=True)
class Assign(ChatAction[str]):
    """``assign <ref> <person>``, or ``assign <person>`` in answer to a mirror of
    ``in_reply_to`` (a thread id): the words after the verb, as typed."""

    actor: Actor
    words: tuple[str, ...]
    in_reply_to: str | None = None
    style: ChatStyle = field(default_factory=ChatStyle)


@dataclass(frozen=True)
class Unanswered(ChatAction[str]):
    actor: Actor
    argument: str = ""
    style: ChatStyle = field(default_factory=ChatStyle)


@dataclass(frozen=True)
class Show(ChatAction[str]):
    actor: Actor
    argument: str = ""
    style: ChatStyle = field(default_factory=ChatStyle)


@dataclass(frozen=True)
class Admin(ChatAction[tuple[str, bool]]):
    """``rules``, ``route <text>``, ``reload``: answers the text and whether it is a report
    (shown monospaced)."""

    actor: Actor
    verb: str
    argument: str = ""
    style: ChatStyle = field(default_factory=ChatStyle)


@dataclass(frozen=True)
class Help(ChatAction[str]):
    """``help``, or a verb nobody knows."""

    actor: Actor
    style: ChatStyle = field(default_factory=ChatStyle)


Command = Link | Assign | Unanswered | Show | Admin | Help


def command_verb(text: str) -> tuple[str, str]:
    """The verb of a typed command (lower case, without a leading ``/`` or a bot's
    ``@name``) and the text after it."""
    verb, _, argument = text.strip().partition(" ")
    if any(space in verb for space in "\t\n\r"):
        # A verb is ended by a line break as much as by a space.
        verb, argument = text.split(maxsplit=1)
    return verb.lstrip("/").split("@", 1)[0].lower(), argument


def parse_command(
    text: str, actor: Actor, *, style: ChatStyle, in_reply_to: str | None = None
) -> Command:
    """The action a typed command asks for: ``rules`` in Slack's ``/reachable rules``,
    ``/rules@bot`` in Telegram. ``in_reply_to`` is the thread of the mirror it answers."""
    verb, argument = command_verb(text)
    if verb in LINK_VERBS:
        return Link(actor, verb, argument, style)
    if verb == "assign":
        return Assign(actor, tuple(argument.split()), in_reply_to, style)
    if verb == "unanswered":
        return Unanswered(actor, argument, style)
    if verb == "show":
        return Show(actor, argument, style)
    if verb in ADMIN_VERBS:
        return Admin(actor, verb, argument, style)
    return Help(actor, style)


# -- the dispatcher ------------------------------------------------------------------------------

Route = Callable[[Any], Awaitable[object]]


class ActionDispatcher:
    """Hands each action to the desk that does it. A desk left out (a process without
    replies, personal accounts turned off) leaves its actions unhandled: see :meth:`handles`."""

    def __init__(
        self,
        store: Store,
        *,
        config: Callable[[], Config],
        replies: ReplyDesk | None = None,
        threads: ThreadDesk | None = None,
        admin: AdminDesk | None = None,
        linking: LinkDesk | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self._replies = replies
        self._threads = threads
        self._admin = admin
        self._linking = linking
        self._routes: dict[type[Any], tuple[object | None, Route]] = {
            Claim: (threads, self._claim),
            Release: (threads, self._release),
            AskDismissal: (threads, self._ask_dismissal),
            Dismiss: (threads, self._dismiss),
            Assign: (threads, self._assign),
            OpenReply: (replies, self._open_reply),
            PreviewReply: (replies, self._preview_reply),
            SubmitReply: (replies, self._submit_reply),
            Link: (linking, self._link),
            Admin: (admin, self._admin_command),
            Unanswered: (self, self._unanswered),
            Show: (self, self._show),
            Help: (self, self._help),
        }

    def handles(self, kind: type[ChatAction[Any]]) -> bool:
        """Whether the desk that does this kind of action is here."""
        return self._routes[kind][0] is not None

    async def dispatch(self, action: ChatAction[T]) -> T:
        _, route = self._routes[type(action)]
        return cast(T, await route(action))

    def _desk(self, desk: T | None) -> T:
        if desk is None:
            raise LookupError("no desk for this action in this process")
        return desk

    async def _claim(self, action: Claim) -> str:
        actor = action.actor
        desk = self._desk(self._threads)
        return await desk.claim(action.thread_id, actor.person, chat=actor.chat)

    async def _release(self, action: Release) -> str:
        actor = action.actor
        desk = self._desk(self._threads)
        return await desk.release(action.thread_id, actor.person, chat=actor.chat)

    async def _ask_dismissal(self, action: AskDismissal) -> str | None:
        actor, desk = action.actor, self._desk(self._threads)
        return await desk.refuse_dismissal(action.thread_id, actor.person, chat=actor.chat)

    async def _dismiss(self, action: Dismiss) -> str:
        actor, desk = action.actor, self._desk(self._threads)
        return await desk.dismiss(
            action.thread_id, actor.person, reason=action.reason, note=action.note, chat=actor.chat
        )

    async def _assign(self, action: Assign) -> str:
        actor, desk, words = action.actor, self._desk(self._threads), action.words
        if action.in_reply_to is not None and len(words) == 1:
            reference, target = short_reference(action.in_reply_to), words[0]
        elif len(words) == 2:
            reference, target = words
        else:
            return messages.assign_usage(command=action.style.command("assign"))
        return await desk.reassign(reference, actor.person, target, chat=actor.chat)

    async def _open_reply(self, action: OpenReply) -> ReplyForm | str:
        desk, person = self._desk(self._replies), action.actor.person
        mention = await self.store.thread_mention(action.thread_id, action.mention_id)
        thread = await self.store.thread(action.thread_id)
        if mention is None or thread is None:
            return messages.reply_thread_gone()
        account = self.config().account(thread.account)
        personal = await desk.linked_handle(person, thread.network)
        handles = {Identity.INSTITUTION: account.handle, Identity.PERSONAL: personal}
        identity = action.identity
        choices: list[tuple[Identity, str]] = []
        if identity is None:
            choices = [(i, handles[i] or "") for i in await desk.identities_for(person, account)]
            if not choices:
                return self._no_identity(action.actor, account, thread.network)
            identity = choices[0][0]
        return ReplyForm(
            mention=mention, identity=identity, as_handle=handles[identity], choices=choices
        )

    def _no_identity(self, actor: Actor, account: AccountConfig, network: str) -> str:
        """Neither the institution's voice nor a linked account of the person's own."""
        config = self.config()
        return messages.reply_no_identity(
            network=config.network_label(network),
            handle=account.handle,
            link_command=config.chat_platform(actor.chat).link_command(),
        )

    async def _preview_reply(self, action: PreviewReply) -> ReplyPreview | str | None:
        desk, person = self._desk(self._replies), action.actor.person
        thread = await self.store.thread(action.thread_id)
        if thread is None:
            return None
        account = self.config().account(thread.account)
        identities = await desk.identities_for(person, account)
        if not identities:
            return self._no_identity(action.actor, account, thread.network)
        personal = await desk.linked_handle(person, thread.network)
        handles = {Identity.INSTITUTION: account.handle, Identity.PERSONAL: personal or ""}
        unpostable = desk.unpostable(action.text)
        if unpostable:
            return unpostable
        length, limit = desk.measure(thread.network, action.text) or (len(action.text), 0)
        return ReplyPreview(
            mention=await self.store.thread_mention(action.thread_id, action.mention_id),
            text=action.text,
            length=length,
            limit=limit,
            too_long=desk.over_length(thread.network, action.text),
            network=self.config().network_platform(thread.network).label,
            identities=[(identity, handles[identity]) for identity in identities],
            again=thread.status is ThreadStatus.ANSWERED,
        )

    async def _submit_reply(self, action: SubmitReply) -> str:
        desk, actor = self._desk(self._replies), action.actor
        request = await desk.request(
            thread_id=action.thread_id,
            mention_id=action.mention_id,
            text=action.text,
            identity=action.identity,
            person=actor.person,
            chat=actor.chat,
            where=desk.destination_of(chat=actor.chat, address=actor.where),
            again=action.again,
            once=action.once,
        )
        handle = (
            self.config().account(request.account).handle
            if action.identity is Identity.INSTITUTION
            else await desk.linked_handle(actor.person, request.network)
        )
        return messages.reply_queued(handle=handle)

    async def _link(self, action: Link) -> str:
        actor = action.actor
        if self._linking is None:
            config = self.config()
            network = config.network_platform(config.accounts[0].network)
            return messages.link_not_set_up(
                network=network.label, setting=network.linking_setting()
            )
        asker = ChatUser(chat=actor.chat, user_id=actor.user_id, where=actor.where)
        return await answer_link_command(
            self._linking,
            actor.person,
            action.verb,
            action.argument,
            asker=asker,
            pin_command=action.style.code(action.style.command("pin <PIN>")),
        )

    async def _admin_command(self, action: Admin) -> tuple[str, bool]:
        actor = action.actor
        return await answer_admin_command(
            self._desk(self._admin),
            actor.person,
            action.verb,
            action.argument,
            chat=actor.chat,
            route_command=action.style.command("route"),
        )

    async def _unanswered(self, action: Unanswered) -> str:
        style = action.style
        return await answer_unanswered(
            self.store,
            config=self.config(),
            chat=action.actor.chat,
            argument=action.argument,
            link_of=style.link_of,
            command=style.command("unanswered"),
            escape=style.escape,
        )

    async def _show(self, action: Show) -> str:
        actor, style = action.actor, action.style
        return await answer_show(
            self.store,
            config=self.config(),
            chat=actor.chat,
            address=actor.where,
            argument=action.argument,
            link_of=style.link_of,
            command=style.command("show"),
            topic=actor.topic,
        )

    async def _help(self, action: Help) -> str:
        return self.config().chat_platform(action.actor.chat).help(action.style.prefix)
