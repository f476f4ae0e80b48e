"""Telegram's updates: stored before Telegram is told they arrived, then handled from there.

Telegram never sends an update again once it was acknowledged, so each is put on the inbound
stream first (:mod:`bridge.pipeline.inbound` says why and how it is bounded). By webhook, the
secret, the JSON and the size are checked first (a body that is no update gets its 400 and
stores nothing), then the update is stored, then Telegram gets its 200; when it cannot be
stored the answer is 503, and Telegram sends it again. By long polling, one process at a time
polls, holding a lease in Redis (Telegram ends one ``getUpdates`` when another starts), and the
offset that confirms updates to Telegram moves only past updates that are on the stream.

Every listening process reads the stream (a consumer group; one lane per chat, so that a
chat's updates are handled in order). An update counts as seen once it was handled, not before:
a crash in between has it handled again (by whichever listener takes it over), and Telegram's
redelivery of one already handled is dropped by its ``update_id``, remembered two days
(Telegram restarts the numbering after a week of silence: a set of ids, not "above the last").
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from telegram import Update
from telegram.error import NetworkError, TelegramError, TimedOut

from adapters.telegram.settings import telegram_settings
from bridge.errors import Deferred
from bridge.failpoints import crash_point
from bridge.ops.refusals import note_refused
from bridge.pipeline.inbound import Inbound, InboundEvent
from bridge.pipeline.runner import Entry, consumer_name
from bridge.settings import Settings
from bridge.store.redis_outage import Outage, is_outage
from bridge.store.store import Store

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 25
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# A crash point (bridge/failpoints.py): an update received (Telegram was told, or will be), not
# yet acted on; keyed by its update_id.
TELEGRAM_BEFORE_HANDLING = "telegram-before-handling"


@dataclass
class Handling:
    """What handling one update came to, as the gate and the error handler saw it."""

    # It passed the gate (a known chat and person, not a repeat): remembered once handled.
    known: bool = False
    # The action marked as done just before it was carried out (see ``TelegramChat``).
    action: str | None = None
    # Redis failed under a handler: the update is tried again once Redis answers.
    outage: Exception | None = None


Process = Callable[[Update], Awaitable[Handling]]


class TelegramUpdates:
    """Takes updates in (webhook or long polling) and hands each stored one to ``process``."""

    def __init__(
        self, *, bot: Any, store: Store, settings: Settings, chat: str, process: Process
    ) -> None:
        """``settings``: the bridge's composed settings (the core's and Telegram's)."""
        self.bot = bot
        self.settings = telegram_settings(settings)
        self.claim_idle_s = settings.claim_idle_s
        self._store = store
        self._process = process
        self.inbound = Inbound(store, chat=chat)

    # -- taking updates in -----------------------------------------------------------------------

    async def on_webhook(self, request: Request) -> Response:
        """Telegram's push: check the secret token and the body, store the update, answer."""
        secret = self.settings.telegram_webhook_secret
        origin = request.client.host if request.client else None
        # Header values arrive decoded as latin-1: compared as bytes, non-ASCII is just wrong.
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode("latin-1")
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            await note_refused(
                self._store, door="telegram", origin=origin, reason="wrong secret token"
            )
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, self.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # python-telegram-bot reads whatever shape arrives; any of these means "not an update".
            await note_refused(
                self._store, door="telegram", origin=origin, reason="not a Telegram update"
            )
            return JSONResponse({"error": f"not a Telegram update: {exc}"}, status_code=400)
        try:
            stored = await self.inbound.add([_event(update, data)])
        except (RedisError, OSError) as exc:
            log.warning(
                "Telegram update %s not stored (Redis: %s); answered 503, Telegram sends it again",
                update.update_id,
                exc,
            )
            return JSONResponse({"error": "not stored; send it again"}, status_code=503)
        if not stored:
            log.warning(
                "Telegram update %s not stored: the inbound stream is full", update.update_id
            )
            return JSONResponse({"error": "too many updates waiting"}, status_code=503)
        return JSONResponse({"ok": True})

    async def poll(self, stop: asyncio.Event) -> None:
        """Long-poll while holding the lease; store what comes, then confirm it to Telegram
        (the next ``getUpdates`` passes an offset past what was stored, and nothing else)."""
        lease = self._store.keys.poll_lease(self.inbound.chat, "updates")
        owner = consumer_name("telegram-updates")
        offset: int | None = None
        outage = Outage("Telegram updates")
        while not stop.is_set():
            try:
                holding = await self._store.acquire_lease(
                    lease, owner, (POLL_TIMEOUT_S + 15) * 1000
                )
            except (RedisError, OSError) as exc:
                # A Redis restart or failover must not end the process: its roles wait it out.
                if is_outage(exc):
                    await outage.wait(exc, stop)
                else:
                    log.error("Telegram updates: Redis refused the lease (%s); retrying", exc)
                    await _sleep(stop, 1)
                continue
            outage.over()
            if not holding:
                await _sleep(stop, 5)
                continue
            try:
                updates = await self._next_updates(offset, stop)
            except (TimedOut, NetworkError) as exc:
                log.warning("Telegram getUpdates failed: %s; retrying", exc)
                await _sleep(stop, 2)
                continue
            except TelegramError as exc:
                log.error("Telegram refused getUpdates: %s", exc)
                await _sleep(stop, 30)
                continue
            try:
                stored = await self.inbound.add([_event(u, u.to_dict()) for u in updates])
            except (RedisError, OSError) as exc:
                # Not confirmed to Telegram either: the next getUpdates fetches them again.
                if not is_outage(exc):
                    log.warning("Telegram updates not stored (Redis: %s); fetched again", exc)
                stored = 0
            if stored:
                offset = updates[stored - 1].update_id + 1
            if stored < len(updates):
                await _sleep(stop, 1)
        outage.over(got_through=False)
        with contextlib.suppress(RedisError, OSError):
            await self._store.release_lease(lease, owner)

    async def _next_updates(self, offset: int | None, stop: asyncio.Event) -> list[Update]:
        """One long poll, cut short when the process stops (so shutdown does not wait 25 s)."""
        poll = asyncio.create_task(
            self.bot.get_updates(
                offset=offset,
                timeout=POLL_TIMEOUT_S,
                allowed_updates=ALLOWED_UPDATES,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({poll, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not poll.done():
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poll
        return list(poll.result()) if not poll.cancelled() else []

    # -- handling them ---------------------------------------------------------------------------

    async def consume(self, stop: asyncio.Event) -> None:
        """Handle stored updates until ``stop``, with the other listening processes."""
        runner = self.inbound.runner(
            consumer=consumer_name("telegram-listener"),
            handler=self._handle_stored,
            claim_idle_ms=int(self.claim_idle_s * 1000),
        )
        await self.inbound.consume(runner, stop)

    async def _handle_stored(self, entry: Entry) -> None:
        """Handle one stored update, unless one with its id was handled before; remember it
        as seen (if it got past the gate) in the step that takes it off the stream."""
        update_id = entry.fields.get("event", "")
        if await self.inbound.handled_before(update_id):
            log.info("ignored Telegram update %s: already handled", update_id)
            await self.inbound.finish(entry)
            return
        crash_point(TELEGRAM_BEFORE_HANDLING, update_id)
        try:
            update = Update.de_json(json.loads(entry.fields["body"]), self.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.error("dropped stored Telegram update %s: unreadable (%s)", update_id, exc)
            await self.inbound.finish(entry)
            return
        handling = await self._process(update)
        if handling.outage is not None:
            raise Deferred(f"Telegram update {update_id}: Redis failed ({handling.outage})")
        await self.inbound.finish(entry, seen=update_id if handling.known else None)


def _event(update: Update, body: Any) -> InboundEvent:
    chat = update.effective_chat
    return InboundEvent(
        id=str(update.update_id),
        lane=str(chat.id) if chat is not None else "",
        # ASCII: a lone surrogate (the JSON may hold one) stays an escape, storable as UTF-8.
        body=json.dumps(body),
    )


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
