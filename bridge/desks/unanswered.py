"""The unanswered list: open and claimed threads, oldest first, a page at a time.

Open threads are kept in their own sorted set (by creation time), joined and left as their
state changes, so the list costs one page of reads however many threads were ever answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bridge.config import Config
from bridge.desks.claims import Ambiguous, find_open_thread, short_reference
from bridge.domain.models import Mention, MirrorRef, Thread, ThreadStatus
from bridge.store.bursts import preview
from bridge.store.effects import mirror_effect
from bridge.store.retention import effects_outlived
from bridge.store.store import Store, utcnow
from bridge.text import messages

PAGE_SIZE = 10
TEXT_PREVIEW = 60
# A thread shown on request is queued once an hour at most, however often it is asked for.
SHOW_ONCE_S = 3600

# How a chat turns a mirror into a link (Slack asks for a permalink, Telegram builds one).
LinkOf = Callable[[MirrorRef], Awaitable[str | None]]


@dataclass(frozen=True)
class OpenThread:
    thread: Thread
    mention: Mention | None
    mirrors: dict[str, MirrorRef]


@dataclass(frozen=True)
class Page:
    items: list[OpenThread]
    number: int
    pages: int
    total: int


async def open_page(store: Store, *, page: int, size: int = PAGE_SIZE) -> Page:
    total = int(await store.redis.zcard(store.keys.open_threads))
    pages = max(1, -(-total // size))
    number = min(max(page, 1), pages)
    start = (number - 1) * size
    ids = await store.redis.zrange(store.keys.open_threads, start, start + size - 1)
    items = []
    for thread_id in ids:
        thread = await store.thread(str(thread_id))
        if thread is None or thread.status not in (ThreadStatus.OPEN, ThreadStatus.CLAIMED):
            continue
        mentions = await store.thread_mentions(thread.id)
        first = min(mentions, key=lambda m: (len(m.id), m.id)) if mentions else None
        mirrors = {}
        for destination in await store.mirror_destinations(thread.id):
            ref = await store.mirror(thread.id, destination)
            if ref is not None:
                mirrors[destination] = ref
        items.append(OpenThread(thread, first, mirrors))
    return Page(items=items, number=number, pages=pages, total=total)


def sla_state(thread: Thread, now: datetime) -> str:
    if thread.sla_deadline is None:
        return messages.unanswered_no_sla()
    if now >= thread.sla_deadline:
        return messages.unanswered_late(late=messages.human_duration(now - thread.sla_deadline))
    return messages.unanswered_due(left=messages.human_duration(thread.sla_deadline - now))


async def render_page(
    page: Page,
    *,
    config: Config,
    chat: str,
    link_of: LinkOf,
    command: str,
    escape: Callable[[str], str] = str,
) -> str:
    """The page as lines; links point at each thread's mirror in this chat. ``escape`` makes
    the public's words inert in the chat's markup."""
    if page.total == 0:
        return messages.unanswered_none()
    now = utcnow()
    first = (page.number - 1) * PAGE_SIZE + 1
    lines = [
        messages.unanswered_heading(first=first, last=first + len(page.items) - 1, total=page.total)
    ]
    for offset, item in enumerate(page.items):
        thread, mention = item.thread, item.mention
        age = messages.human_duration(now - thread.created_at)
        holder = (
            config.person_name(thread.status_by) if thread.status is ThreadStatus.CLAIMED else None
        )
        who = f"@{mention.author.handle}" if mention and mention.author else "?"
        text = messages.quoted_post(
            preview(mention.text if mention else "", TEXT_PREVIEW),
            [item.kind for item in mention.media] if mention else (),
        )
        mirror = next((ref for ref in item.mirrors.values() if ref.chat == chat), None)
        link = await link_of(mirror) if mirror else None
        line = messages.unanswered_line(
            number=first + offset,
            reference=short_reference(thread.id),
            age=age,
            sla=sla_state(thread, now),
            route=thread.route,
            claimed_by=holder,
        )
        lines.append(f"{line} · {escape(who)}: {escape(text)}" + (f" · {link}" if link else ""))
    if page.number < page.pages:
        lines.append(messages.unanswered_more(command=f"{command} {page.number + 1}"))
    return "\n".join(lines)


async def answer_unanswered(
    store: Store,
    *,
    config: Config,
    chat: str,
    argument: str,
    link_of: LinkOf,
    command: str,
    escape: Callable[[str], str] = str,
) -> str:
    """What ``unanswered [page]`` says in a chat."""
    text = argument.strip()
    if text and not text.isdigit():
        return messages.unanswered_usage(command=command)
    page = await open_page(store, page=int(text) if text else 1)
    return await render_page(
        page, config=config, chat=chat, link_of=link_of, command=command, escape=escape
    )


async def _still_queued(store: Store, thread_id: str, destination: str) -> bool:
    """The thread was routed here and its message is not posted yet (a backlog, a retry):
    showing it as well would post it twice. A thread older than effect records are kept was
    routed long ago: no record means it was folded or given up, not that it is on its way."""
    routed = await store.root_mention(thread_id, destination)
    if routed is None:
        return False
    effect = await store.effect(mirror_effect(destination, thread_id, routed))
    if effect is None:
        thread = await store.thread(thread_id)
        return thread is None or not effects_outlived(thread, store.lifetimes(), now=utcnow())
    return effect.state not in ("done", "failed")


async def answer_show(
    store: Store,
    *,
    config: Config,
    chat: str,
    address: str,
    argument: str,
    link_of: LinkOf,
    command: str,
    topic: int | None = None,
) -> str:
    """What ``show <ref>`` says: it posts an open thread (one folded in a burst, or routed
    elsewhere) into the destination where it was asked (``topic``: a Telegram forum's topic),
    with its buttons, to be answered."""
    reference = argument.strip()
    if not reference:
        return messages.show_usage(command=command)
    destination = config.destination_key_at(chat, address, topic)
    if destination is None:
        return messages.show_not_a_destination()
    thread_id = await find_open_thread(store, reference)
    if isinstance(thread_id, Ambiguous):
        return thread_id.question
    if thread_id is None:
        return messages.show_no_thread(reference)
    existing = await store.mirror(thread_id, destination)
    if existing is not None:
        return messages.show_already_here(link=await link_of(existing))
    if await _still_queued(store, thread_id, destination):
        return messages.show_on_its_way()
    mentions = await store.thread_mentions(thread_id)
    first = min(mentions, key=lambda m: (len(m.id), m.id))
    await store.redis.hsetnx(store.keys.thread_roots(thread_id), destination, first.id)
    root = await store.root_mention(thread_id, destination) or first.id
    await store.outbox.show_once(
        thread_id=thread_id, mention_id=root, destination=destination, root=root, keep_s=SHOW_ONCE_S
    )
    shown = next((m for m in mentions if m.id == root), first)
    return messages.show_queued(author=shown.author.handle if shown.author else "?")
