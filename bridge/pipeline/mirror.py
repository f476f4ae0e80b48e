"""The mirror stage: from an outbox entry to a chat message.

``MirrorStage`` reads the outbox and posts each entry to its chat, once: the effect record says
whether an earlier attempt already did.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from bridge.config import Config, Destination
from bridge.desks.alerts import alert_admins
from bridge.desks.claims import short_reference
from bridge.domain.models import Mention, MentionCard, MirrorRef, Thread
from bridge.domain.platform_time import REAL_TIME, PlatformTime
from bridge.errors import (
    Deferred,
    DestinationUnavailable,
    PermanentError,
    RateLimited,
    TransientError,
)
from bridge.pipeline.runner import Entry
from bridge.pipeline.supervise import escalation_line
from bridge.ports import ChatSink
from bridge.store import outbox
from bridge.store.bursts import (
    DIGEST_MAX,
    FoldedMention,
    digest_timer,
    digest_window,
    fold_threshold,
    sample,
)
from bridge.store.effects import (
    Effect,
    digest_effect,
    mirror_effect,
    notice_effect,
    refresh_effect,
)
from bridge.store.keys import OUTBOX_GROUP
from bridge.store.mirroring import MirrorInputs, SlotRequest
from bridge.store.outbox import DigestEntry, MentionEntry, NoticeEntry, RefreshEntry
from bridge.store.progress import MirrorProgress, record_once_posted, wait_for_reserved
from bridge.store.retention import effects_outlived
from bridge.store.store import Store, now_ms, utcnow
from bridge.text import messages

log = logging.getLogger(__name__)

ROOT_WAIT_S = 10.0
TRANSIENT_RETRIES = 3


class MirrorStage:
    group = OUTBOX_GROUP

    def __init__(
        self,
        store: Store,
        *,
        config: Callable[[], Config],
        sinks: dict[str, ChatSink],
        channel_interval_s: Callable[[Destination], float],
        time_budget_s: float = 60.0,
        platform_interval_s: Callable[[str], float] = lambda chat: 0.0,
        platform_time: PlatformTime = REAL_TIME,
    ) -> None:
        self.store = store
        self.config = config
        self.sinks = sinks
        self.platform_time = platform_time
        self.channel_interval_s = channel_interval_s
        self.time_budget_s = time_budget_s
        self.platform_interval_s = platform_interval_s

    @property
    def stream(self) -> str:
        return self.store.keys.outbox_stream

    @staticmethod
    def lane_of(entry: Entry) -> str:
        return outbox.lane_of(entry.fields)

    async def _ack(self, entry: Entry) -> None:
        await self.store.redis.xack(self.stream, self.group, entry.id)

    async def handle(self, entry: Entry) -> None:
        queued = outbox.parse(entry.fields)
        if isinstance(queued, RefreshEntry):
            await self._refresh(entry, queued)
        elif isinstance(queued, NoticeEntry):
            await self._notice(entry, queued)
        elif isinstance(queued, DigestEntry):
            await self._digest(entry, queued)
        else:
            await self._mirror_mention(entry, queued)

    async def _notice(self, entry: Entry, notice: NoticeEntry) -> None:
        """A message from Reachable itself (an alert, a posted reply) to one destination, in a
        thread's chat thread or reply chain when the entry names the thread."""
        effect_key = notice_effect(entry.id)
        effect = await self.store.effect(effect_key)
        destination_key = notice.destination
        destination = self.config().destinations.get(destination_key)
        if (effect is not None and effect.state == "done") or destination is None:
            await self._ack(entry)
            return
        thread_id = notice.thread_id
        reply_to = await self.store.mirror(thread_id, destination_key) if thread_id else None
        sink = self.sinks[destination.chat]
        try:
            if await self._posted_before(sink, destination, effect, effect_key, reply_to) is None:
                await self.store.mark_doing(effect_key)
                with self.config().speaking_to(destination):
                    await sink.post_notice(
                        destination=destination,
                        text=notice.text,
                        reply_to=reply_to,
                        monospace=notice.format == "report",
                        effect_key=effect_key,
                    )
        except (RateLimited, TransientError) as exc:
            await self.store.count_failure(exc)
            raise Deferred(f"notice to {destination.describe()}: {exc}") from exc
        except PermanentError as exc:
            await self.store.count_failure(exc)
            log.error("could not tell the admins in %s: %s", destination.describe(), exc)

        async def record() -> None:
            async with self.store.redis.pipeline(transaction=True) as pipe:
                self.store.finish_effect(pipe, effect_key, {"state": "done", "at": now_ms()})
                pipe.xack(self.stream, self.group, entry.id)
                await pipe.execute()

        await self._record_once_posted(record)

    async def _mirror_mention(self, entry: Entry, queued: MentionEntry) -> None:
        deadline = asyncio.get_running_loop().time() + self.time_budget_s
        thread_id, mention_id = queued.thread_id, queued.mention_id
        destination_key = queued.destination
        # A thread shown on request (after it was folded) is posted under its own record.
        shown_on_request = queued.shown
        effect_key = mirror_effect(destination_key, thread_id, mention_id, shown=shown_on_request)
        is_root = queued.root == mention_id
        destination = self.config().destinations.get(destination_key)
        fold_above = None
        slot = None
        if destination is not None:
            if not shown_on_request:
                fold_above = fold_threshold(
                    self.config().bursts_for(destination), self.channel_interval_s(destination)
                )
            slot = SlotRequest(
                chat=destination.chat,
                channel=destination.address,
                interval_s=self.channel_interval_s(destination),
                overall_interval_s=self.platform_interval_s(destination.chat),
                max_wait_s=deadline - asyncio.get_running_loop().time(),
                fold_above=fold_above,
                is_root=is_root,
            )
        seen = await self.store.begin_mirror(
            effect_key=effect_key,
            thread_id=thread_id,
            mention_id=mention_id,
            destination=destination_key,
            queued_ms=int(entry.id.split("-")[0]),
            slot=slot,
        )
        effect, thread, mention = seen.effect, seen.thread, seen.mention
        if effect is not None and effect.state in ("done", "failed"):
            await self._ack(entry)
            return
        if destination is None:
            await self._fail(
                entry, effect_key, f"destination {destination_key!r} is no longer in the config"
            )
            return
        sink = self.sinks[destination.chat]
        if thread is None or mention is None:
            await self._fail(entry, effect_key, "thread or mention missing from the store")
            return
        if (
            effect is None
            and not shown_on_request
            and await self._folds(destination_key, queued.root, is_root, seen, fold_above)
        ):
            await self._fold(entry, effect_key, thread, mention, destination)
            return
        reply_to = None
        if not is_root:
            reply_to = seen.mirror or await self._root_mirror(thread_id, destination_key)
        already = dict(effect.parts) if effect is not None else {}
        if 0 not in already:
            found = await self._posted_before(sink, destination, effect, effect_key, reply_to)
            if found is not None:
                # Its first message is out; the sink posts what may still be missing after it.
                already[0] = found.message_id
        progress = MirrorProgress(
            self.store,
            effect_key=effect_key,
            chat=sink.chat,
            channel=destination.address,
            interval_s=self.channel_interval_s(destination),
            overall_interval_s=self.platform_interval_s(sink.chat),
            deadline=deadline,
            posted=already,
            reserved_wait_s=seen.slot_wait_s,
        )
        with self.config().speaking_to(destination):
            card = await self._card(thread, mention, is_root=is_root, destination=destination_key)
            ref = await self._post(sink, destination, card, reply_to, effect_key, entry, progress)
        if ref is not None:
            # The first message is the record's result: a mention in one message costs nothing more.
            posted, parts = ref, {s: m for s, m in progress.take_unsaved().items() if s}
            await self._record_once_posted(
                lambda: self._finish(
                    entry, effect_key, posted, thread, mention_id, destination_key, is_root, parts
                )
            )

    async def _folds(
        self,
        destination_key: str,
        root: str,
        is_root: bool,
        seen: MirrorInputs,
        fold_above: int | None,
    ) -> bool:
        """Fold this mention into a digest: more than ``fold_above`` came in the minute up to
        it (faster than the destination can show them), or its thread's first message there
        was folded (nothing to answer under)."""
        if not is_root and seen.mirror is None and seen.thread is not None:
            root_effect = await self.store.effect(
                mirror_effect(destination_key, seen.thread.id, root)
            )
            if root_effect is not None and root_effect.result == "folded":
                return True
            if root_effect is None and effects_outlived(
                seen.thread, self.store.lifetimes(), now=utcnow()
            ):
                return True  # no first message there after all this time: none will come
        return fold_above is not None and seen.recent_arrivals > fold_above

    async def _fold(
        self,
        entry: Entry,
        effect_key: str,
        thread: Thread,
        mention: Mention,
        destination: Destination,
    ) -> None:
        """Put the mention on the destination's folded list, and make sure the digest of this
        window is timed: every fold in a window names the same timer."""
        destination_key = outbox.lane_of(entry.fields)
        now = utcnow()
        window = digest_window(now, self.config().bursts_for(destination).digest_every)
        await self.store.fold(
            FoldedMention.of(mention, thread_id=thread.id, priority=thread.priority, at=now),
            destination=destination_key,
            timer=(digest_timer(destination_key, window), window),
            effect_key=effect_key,
            handled=(self.stream, self.group, entry.id),
        )
        log.info("mention %s folded into the next digest in %s", mention.id, destination_key)

    async def _digest(self, entry: Entry, digest: DigestEntry) -> None:
        """Post the digest of what was folded in a destination since the last one."""
        destination_key, window = digest.destination, digest.window
        effect_key = digest_effect(destination_key, window)
        effect = await self.store.effect(effect_key)
        destination = self.config().destinations.get(destination_key)
        if (effect is not None and effect.state == "done") or destination is None:
            await self._ack(entry)
            return
        folded = await self.store.take_folded(destination_key, window, limit=DIGEST_MAX)
        sink = self.sinks[destination.chat]
        if folded and await self._posted_before(sink, destination, effect, effect_key) is None:
            await self._post_digest(entry, destination, folded, effect_key)
        keys = self.store.keys
        # More than one digest holds, or folded while this one was posted: the next window's.
        following = digest_window(utcnow(), self.config().bursts_for(destination).digest_every)

        async def record() -> None:
            left = await self.store.redis.llen(keys.folded(destination_key))
            async with self.store.redis.pipeline(transaction=True) as pipe:
                self.store.finish_effect(pipe, effect_key, {"state": "done", "at": now_ms()})
                pipe.delete(keys.digest(destination_key, window))
                if left:
                    timer = digest_timer(destination_key, following)
                    pipe.zadd(keys.timers, {timer: following}, nx=True)
                pipe.xack(self.stream, self.group, entry.id)
                if folded:
                    pipe.incrby(keys.counter("digests"), 1)
                await pipe.execute()

        await self._record_once_posted(record)

    async def _posted_before(
        self,
        sink: ChatSink,
        destination: Destination,
        effect: Effect | None,
        effect_key: str,
        reply_to: MirrorRef | None = None,
    ) -> MirrorRef | None:
        """An attempt was interrupted after it may have posted: its message, if it is there
        (found by its effect key, where the platform keeps one)."""
        if effect is None or effect.state != "doing":
            return None
        try:
            found = await sink.find_posted(
                destination=destination, reply_to=reply_to, effect_key=effect_key, since=effect.at
            )
        except (RateLimited, TransientError) as exc:
            # Only the lookup was refused (reads have their own limits, not the channel's pace):
            # the entry waits and the lookup is tried again, never skipped.
            await self.store.count_failure(exc)
            raise Deferred(f"looking for {effect_key} in {destination.describe()}: {exc}") from exc
        if found is not None:
            log.info("%s was already posted by an interrupted attempt", effect_key)
        return found

    async def _post_digest(
        self,
        entry: Entry,
        destination: Destination,
        folded: list[FoldedMention],
        effect_key: str,
    ) -> None:
        deadline = asyncio.get_running_loop().time() + self.time_budget_s
        sink = self.sinks[destination.chat]
        quoted = sample(folded, self.config().bursts_for(destination).sample)
        with self.config().speaking_to(destination):
            text = messages.burst_digest(
                count=len(folded),
                since=min(datetime.fromisoformat(item.at) for item in folded),
                sample=[(short_reference(i.thread), i.author, i.quoted()) for i in quoted],
                command=self.config().chat_platform(destination.chat).command,
            )
        await self._wait_for_slot(sink, destination, deadline, doing=effect_key)
        try:
            async with self._deferred_while_unavailable(sink, destination, what="a digest"):
                await sink.post_notice(destination=destination, text=text, effect_key=effect_key)
        except PermanentError as exc:
            await self.store.count_failure(exc)
            log.error("could not post a digest in %s: %s", destination.describe(), exc)

    @contextlib.asynccontextmanager
    async def _deferred_while_unavailable(
        self, sink: ChatSink, destination: Destination, *, what: str
    ) -> AsyncIterator[None]:
        """A rate limit (no one sends there before it ends) or a passing platform error leaves
        the entry pending, to be tried again; both are counted."""
        try:
            yield
        except RateLimited as exc:
            await self.store.count_failure(exc)
            wait = self.platform_time.seconds(exc.retry_after)
            await self.store.push_back_channel(sink.chat, destination.address, wait)
            raise Deferred(f"{what} in {destination.describe()}: rate limited") from exc
        except TransientError as exc:
            await self.store.count_failure(exc)
            raise Deferred(f"{what} in {destination.describe()}: {exc}") from exc

    async def _record_once_posted(self, record: Callable[[], Awaitable[None]]) -> None:
        """The message is out: its record is retried through a Redis outage (see
        :func:`bridge.store.progress.record_once_posted`)."""
        await record_once_posted(record, role=f"{self.group} record")

    async def _refresh(self, entry: Entry, refresh: RefreshEntry) -> None:
        """Redraw a thread's message in one destination to show the thread's current state."""
        thread_id, destination_key = refresh.thread_id, refresh.destination
        effect_key = refresh_effect(destination_key, thread_id, refresh.version)
        effect = await self.store.effect(effect_key)
        destination = self.config().destinations.get(destination_key)
        thread = await self.store.thread(thread_id)
        ref = await self.store.mirror(thread_id, destination_key)
        root = await self.store.root_mention(thread_id, destination_key)
        if (effect is not None and effect.state == "done") or None in (
            destination,
            thread,
            ref,
            root,
        ):
            await self._ack(entry)
            return
        assert destination is not None and thread is not None and ref is not None
        mention = await self.store.thread_mention(thread_id, str(root))
        if mention is None:
            await self._ack(entry)
            return
        sink = self.sinks[destination.chat]
        try:
            async with self._deferred_while_unavailable(sink, destination, what=thread_id):
                with self.config().speaking_to(destination):
                    card = await self._card(
                        thread, mention, is_root=True, destination=destination_key
                    )
                    await sink.edit_mention(destination=destination, ref=ref, card=card)
        except PermanentError as exc:
            await self.store.count_failure(exc)
            await self._fail(entry, effect_key, str(exc), problem=exc)
            return
        async with self.store.redis.pipeline(transaction=True) as pipe:
            self.store.finish_effect(pipe, effect_key, {"state": "done", "at": now_ms()})
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()

    async def _root_mirror(self, thread_id: str, destination: str) -> MirrorRef:
        """The thread's first message in this destination; it may still be on its way."""
        deadline = asyncio.get_running_loop().time() + ROOT_WAIT_S
        while True:
            ref = await self.store.mirror(thread_id, destination)
            if ref is not None:
                return ref
            if asyncio.get_running_loop().time() > deadline:
                raise Deferred(
                    f"the first message of thread {thread_id} in {destination} is not posted yet"
                )
            await asyncio.sleep(0.2)

    async def _card(
        self, thread: Thread, mention: Mention, *, is_root: bool, destination: str
    ) -> MentionCard:
        config = self.config()
        escalated = config.escalation is not None and config.escalation.to == destination
        origin = None
        if escalated and is_root:
            # Prefer a mirror in the same chat platform: that one the chat can link to.
            chat = config.destinations[destination].chat
            refs = [
                ref
                for other in await self.store.mirror_destinations(thread.id)
                if other != destination and (ref := await self.store.mirror(thread.id, other))
            ]
            origin = min(refs, key=lambda ref: ref.chat != chat, default=None)
        sla = thread.sla or (
            thread.sla_deadline - thread.created_at if thread.sla_deadline else None
        )
        try:
            handle = config.account(thread.account).handle
        except KeyError:
            handle = thread.account
        return MentionCard(
            mention=mention,
            network_name=config.network_label(mention.network),
            thread_id=thread.id,
            account_handle=handle,
            route=thread.route,
            priority=thread.priority,
            sla=sla,
            sla_deadline=thread.sla_deadline,
            is_first_in_thread=is_root,
            tags=thread.tags,
            escalation=escalation_line(thread, now=utcnow()) if escalated and is_root else None,
            origin=origin,
            status=thread.status,
            status_by=config.person_name(thread.status_by) if thread.status_by else None,
            status_note=thread.status_note,
            status_at=thread.status_at,
            answered_as=thread.answered_as,
            answered_url=thread.answered_url,
        )

    async def _post(
        self,
        sink: ChatSink,
        destination: Destination,
        card: MentionCard,
        reply_to: MirrorRef | None,
        effect_key: str,
        entry: Entry,
        progress: MirrorProgress,
    ) -> MirrorRef | None:
        """Post within the channel's pace (the sink takes a turn of ``progress`` before each
        message), retrying what is worth retrying; a retry continues with the first message
        not yet posted.

        Past the deadline the entry is left pending (Deferred) rather than held: a worker that
        holds an entry longer than the claim-idle time would race the one taking it over.
        """
        loop = asyncio.get_running_loop()
        channel = destination.address
        for attempt in range(1, TRANSIENT_RETRIES + 1):
            try:
                return await sink.post_mention(
                    destination=destination,
                    card=card,
                    reply_to=reply_to,
                    effect_key=effect_key,
                    progress=progress,
                )
            except RateLimited as exc:
                await self.store.count_failure(exc)
                wait = self.platform_time.seconds(exc.retry_after)
                await self.store.push_back_channel(sink.chat, channel, wait)
                await self.store.count(f"ratelimited:{sink.chat}")
                log.warning(
                    "%s asked us to wait %.1f s before posting to %s", sink.chat, wait, channel
                )
            except TransientError as exc:
                await self.store.count_failure(exc)
                backoff = min(2.0**attempt, 10.0)
                log.warning("posting %s failed (attempt %d): %s", effect_key, attempt, exc)
                if loop.time() + backoff > progress.deadline:
                    break
                await asyncio.sleep(backoff)
            except PermanentError as exc:
                await self.store.count_failure(exc)
                await self._fail(entry, effect_key, str(exc), problem=exc)
                return None
        raise Deferred(f"{effect_key}: not posted yet; it stays queued and is retried")

    async def _wait_for_slot(
        self,
        sink: ChatSink,
        destination: Destination,
        deadline: float,
        *,
        doing: str | None = None,
    ) -> None:
        """Wait for this process's turn to send to the destination, under the channel's and
        the platform's pace, with the effect ``doing`` marked as attempted from then on;
        Deferred when that turn would come after ``deadline``."""
        loop = asyncio.get_running_loop()
        channel = destination.address
        wait = await self.store.reserve_send_slot(
            sink.chat,
            channel,
            self.channel_interval_s(destination),
            overall_interval_s=self.platform_interval_s(sink.chat),
            max_wait_s=deadline - loop.time(),
            doing=doing,
        )
        await wait_for_reserved(channel, wait, deadline)

    async def _finish(
        self,
        entry: Entry,
        effect_key: str,
        ref: MirrorRef,
        shown: Thread,
        mention_id: str,
        destination: str,
        is_root: bool,
        parts: dict[int, str] | None = None,
    ) -> None:
        """Record the post (``parts``: its messages not recorded yet); if the thread changed
        while it was being posted, redraw it."""
        await self.store.record_mirror(
            effect_key=effect_key,
            ref=ref,
            thread_id=shown.id,
            mention_id=mention_id,
            destination=destination,
            shown_version=shown.version,
            is_root=is_root,
            group=self.group,
            entry_id=entry.id,
            parts=parts,
        )

    async def _fail(
        self, entry: Entry, effect_key: str, error: str, problem: Exception | None = None
    ) -> None:
        """Record a permanent failure, acknowledged so it is not retried; admins hear of a chat
        that cannot be reached at all."""
        log.error("giving up on %s: %s", effect_key, error)
        destination_key = outbox.lane_of(entry.fields)
        destination = self.config().destinations.get(destination_key)
        if isinstance(problem, DestinationUnavailable) and destination is not None:
            unavailable, detail = destination, problem.detail
            await alert_admins(
                self.store,
                self.config(),
                subject=f"unavailable:{destination_key}",
                say=lambda: messages.destination_unavailable(
                    name=destination_key, where=unavailable.describe(), detail=detail
                ),
                avoid=destination_key,
            )
        async with self.store.redis.pipeline(transaction=True) as pipe:
            self.store.finish_effect(
                pipe, effect_key, {"state": "failed", "error": error, "at": now_ms()}
            )
            pipe.xack(self.stream, self.group, entry.id)
            pipe.incrby(self.store.keys.counter("mirror_failed"), 1)
            await pipe.execute()
