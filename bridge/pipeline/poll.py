"""Pollers: bring each account's new mentions onto the mentions stream, safely from any process.

Each account is polled by whichever process holds its lease (SET NX PX); other pollers wait
and take over when the holder stops renewing. The cursor advances only once the mentions are
on the stream.

Answers made directly on the network also count: each account's own replies are read after its
mentions, and, less often (``linked_every_s``), the replies of staff's linked personal accounts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable

from bridge.config import AccountConfig, Config
from bridge.desks.alerts import alert_admins
from bridge.domain.models import PostedReply, ThreadStatus, thread_id_for
from bridge.domain.platform_time import REAL_TIME, PlatformTime
from bridge.errors import PermanentError, PlatformError, RateLimited, TransientError
from bridge.ports import MentionSource, OwnReply, RateBudget
from bridge.store.redis_outage import Outage, is_outage, outages_ignored
from bridge.store.store import Store
from bridge.store.threads import TransitionRefused, change_state
from bridge.store.vault import TokenVault
from bridge.text import messages

log = logging.getLogger(__name__)

PERMANENT_ERROR_PAUSE_S = 300.0
ACCOUNTS_CHECK_S = 2.0
TRANSIENT_ERROR_PAUSE_S = 5.0
_SETTLED = (ThreadStatus.ANSWERED, ThreadStatus.DISMISSED)


def pause_after_poll(
    interval_s: float,
    budget: RateBudget,
    *,
    now: float,
    platform_time: PlatformTime = REAL_TIME,
) -> float:
    """How long to wait before the next poll so the remaining budget lasts until its reset.

    Spreading the remaining calls evenly over the window keeps us clear of 429s in steady
    state, however many accounts or processes share the same budget.
    """
    if budget.remaining is None or budget.reset_at is None:
        return interval_s
    if budget.remaining <= 0:
        return max(interval_s, platform_time.until(budget.reset_at + 1.0, now=now))
    until_reset = platform_time.until(budget.reset_at, now=now)
    return max(interval_s, until_reset / budget.remaining)


class Poller:
    def __init__(
        self,
        store: Store,
        *,
        sources: dict[str, MentionSource],
        config: Callable[[], Config],
        owner: str,
        vault: TokenVault | None = None,
        linked_every_s: float = 300.0,
        platform_time: PlatformTime = REAL_TIME,
    ) -> None:
        self.store = store
        self.platform_time = platform_time
        self.sources = sources
        self.config = config
        self.owner = owner
        self.vault = vault
        self.linked_every_s = linked_every_s
        self._unpollable: set[str] = set()
        # Accounts whose polling lease this process holds.
        self._holding: set[str] = set()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every account of the current config; a reloaded config adds, changes or stops
        accounts within a few seconds."""
        linked = [
            asyncio.create_task(self.watch_linked(network, stop), name=f"linked-{network}")
            for network in (self.sources if self.vault is not None else ())
        ]
        polling: dict[str, tuple[AccountConfig, asyncio.Task[None]]] = {}
        try:
            while not stop.is_set():
                self._follow_config(polling, stop)
                await _sleep(stop, ACCOUNTS_CHECK_S)
        finally:
            tasks = [task for _, task in polling.values()] + linked
            await asyncio.gather(*tasks, return_exceptions=True)

    def _follow_config(
        self, polling: dict[str, tuple[AccountConfig, asyncio.Task[None]]], stop: asyncio.Event
    ) -> None:
        wanted = {a.key: a for a in self.config().accounts}
        for key, (account, task) in list(polling.items()):
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error(
                    "@%s: polling failed; it restarts", account.handle, exc_info=task.exception()
                )
            elif wanted.get(key) != account:
                log.info("@%s: polling stops or restarts (the config changed)", account.handle)
            if wanted.get(key) != account or task.done():
                task.cancel()
                del polling[key]
        for key, account in wanted.items():
            if key in polling:
                continue
            if account.network not in self.sources:
                if key not in self._unpollable:
                    log.warning(
                        "@%s: %s accounts are polled after a restart",
                        account.handle,
                        account.network,
                    )
                    self._unpollable.add(key)
                continue
            task = asyncio.create_task(self.poll_account(account, stop), name=f"poll-{key}")
            polling[key] = (account, task)

    async def poll_account(self, account: AccountConfig, stop: asyncio.Event) -> None:
        source = self.sources[account.network]
        interval = account.poll_every.total_seconds()
        lease_key = self.store.keys.poll_lease(account.network, account.key)
        lease_ms = int(max(interval * 3, 30) * 1000)
        holding = False
        # A poll cut short by a Redis outage moved no cursor: the next one reads the same posts.
        outage = Outage(f"polling @{account.handle}")
        try:
            while not stop.is_set():
                try:
                    pause = await self._poll_if_holding(account, source, lease_key, lease_ms)
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    await outage.wait(exc, stop)
                    continue
                outage.over()
                holding = pause is not None
                await _sleep(stop, pause if pause is not None else min(interval, lease_ms / 2000))
        finally:
            outage.over(got_through=False)
            if holding:
                with outages_ignored():
                    await self.store.release_lease(lease_key, self.owner)

    async def _poll_if_holding(
        self, account: AccountConfig, source: MentionSource, lease_key: str, lease_ms: int
    ) -> float | None:
        """Poll if this process holds (or takes) the account's lease: the pause before the
        next poll, or None when another process polls it."""
        held = account.key in self._holding
        if not await self.store.acquire_lease(lease_key, self.owner, lease_ms):
            if held:
                log.warning("@%s: lost the polling lease to another process", account.handle)
            self._holding.discard(account.key)
            return None
        if not held:
            log.info("@%s: this process polls it now", account.handle)
        self._holding.add(account.key)
        return await self.poll_once(account, source)

    async def poll_once(self, account: AccountConfig, source: MentionSource) -> float:
        """One poll; returns how long to wait before the next one."""
        interval = account.poll_every.total_seconds()
        since_id = await self.store.cursor(account.network, account.key)
        try:
            result = await source.fetch_new(account, since_id=since_id)
        except RateLimited as exc:
            wait = self.platform_time.seconds(exc.retry_after)
            log.warning(
                "@%s: rate limited by %s; waiting %.1f s", account.handle, exc.platform, wait
            )
            await self.store.count(f"ratelimited:{account.network}")
            return max(wait, interval)
        except TransientError as exc:
            await self.store.count_failure(exc)
            log.warning("@%s: %s; retrying in %.0f s", account.handle, exc, TRANSIENT_ERROR_PAUSE_S)
            return max(TRANSIENT_ERROR_PAUSE_S, min(interval, 30.0))
        except PermanentError as exc:
            await self.store.count_failure(exc)
            log.error(
                "@%s: cannot poll: %s. Fix the credentials or the account in the config; "
                "retrying in %.0f s",
                account.handle,
                exc,
                PERMANENT_ERROR_PAUSE_S,
            )
            return PERMANENT_ERROR_PAUSE_S
        await self.store.append_mentions(
            result.mentions, network=account.network, account=account.key, cursor=result.cursor
        )
        # After the mentions are queued: reading the account's own replies is another call to
        # the network, which the mentions need not wait for.
        await self._see_own_replies(account, source)
        if result.mentions:
            log.info("@%s: %d new mention(s)", account.handle, len(result.mentions))
            await self.store.count("mentions_in", len(result.mentions))
        if result.truncated:
            await self.store.count(f"mentions_maybe_missed:{account.network}")
            oldest = result.mentions[0].created_at if result.mentions else None
            await alert_admins(
                self.store,
                self.config(),
                subject=f"truncated:{account.network}:{account.key}:{time.time() // 3600:.0f}",
                say=functools.partial(
                    messages.mentions_maybe_missed,
                    network=self.config().network_label(account.network),
                    handle=account.handle,
                    count=len(result.mentions),
                    since=oldest,
                ),
            )
        return pause_after_poll(
            interval, result.budget, now=time.time(), platform_time=self.platform_time
        )

    async def _see_own_replies(self, account: AccountConfig, source: MentionSource) -> None:
        """Answers posted directly on the network (not through chat) also answer the thread."""
        cursor_key = self.store.keys.own_cursor(account.network, account.key)
        # No key yet: the first look, which only notes where "now" is. An empty value: tracking,
        # but the account has posted nothing so far.
        stored = await self.store.redis.get(cursor_key)
        since = str(stored) if stored else None
        try:
            replies, cursor = await source.fetch_own_replies(account, since_id=since)
        except PlatformError as exc:
            log.warning("@%s: could not read its own replies: %s", account.handle, exc)
            return
        if stored is not None:
            for reply in replies:
                await self._mark_answered(account, reply)
        await self.store.redis.set(cursor_key, cursor or "")

    async def _mark_answered(
        self,
        account: AccountConfig,
        reply: OwnReply,
        *,
        as_handle: str | None = None,
        by: str | None = None,
    ) -> None:
        """The thread of ``account`` in the reply's conversation (if any) is answered."""
        thread_id = thread_id_for(
            network=account.network, account=account.key, conversation_id=reply.conversation_id
        )
        thread = await self.store.thread(thread_id)
        if thread is None or thread.status in _SETTLED:
            return
        handle = as_handle or account.handle
        posted = PostedReply(id=reply.id, url=reply.url, as_handle=handle)
        with contextlib.suppress(TransitionRefused):
            # Checked again inside the change: a reply from chat recorded meanwhile keeps the
            # name of who sent it.
            await change_state(
                self.store,
                thread_id,
                status=ThreadStatus.ANSWERED,
                by=by,
                answered=posted,
                only_if=lambda now: now.status not in _SETTLED,
            )
            log.info("@%s answered thread %s directly on %s", handle, thread_id, account.network)

    async def watch_linked(self, network: str, stop: asyncio.Event) -> None:
        """Every ``linked_every_s``, by whichever process holds the lease: the replies staff
        posted from their linked accounts directly on the network."""
        lease_key = self.store.keys.poll_lease(network, "*linked")
        lease_ms = int(max(self.linked_every_s * 3, 30) * 1000)
        holding = False
        outage = Outage(f"linked {network} accounts")
        try:
            while not stop.is_set():
                try:
                    holding = await self.store.acquire_lease(lease_key, self.owner, lease_ms)
                    if holding:
                        await self._see_linked_replies(network)
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    await outage.wait(exc, stop)
                    continue
                outage.over()
                await _sleep(stop, self.linked_every_s)
        finally:
            outage.over(got_through=False)
            if holding:
                with outages_ignored():
                    await self.store.release_lease(lease_key, self.owner)

    async def _see_linked_replies(self, network: str) -> None:
        assert self.vault is not None
        source = self.sources[network]
        accounts = [a for a in self.config().accounts if a.network == network]
        for linked in await self.vault.all_linked(network):
            cursor_key = self.store.keys.linked_cursor(network, linked.person)
            stored = await self.store.redis.get(cursor_key)
            try:
                replies, cursor = await source.fetch_user_replies(
                    user_id=linked.user_id,
                    handle=linked.handle,
                    since_id=str(stored) if stored else None,
                )
            except PlatformError as exc:
                log.warning("@%s: could not read its replies: %s", linked.handle, exc)
                continue
            if stored is not None:
                for reply in replies:
                    for account in accounts:
                        await self._mark_answered(
                            account, reply, as_handle=linked.handle, by=linked.person
                        )
            await self.store.redis.set(cursor_key, cursor or "")


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
