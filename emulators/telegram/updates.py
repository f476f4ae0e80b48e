"""How updates reach the bot in the Telegram emulator, the two ways Telegram offers:
``getUpdates`` long polling (an update stays until a later call passes a higher ``offset``; a
newer call ends one still waiting) or a webhook set with ``setWebhook`` (POSTed one at a time,
in order, with ``X-Telegram-Bot-Api-Secret-Token``, retried until the receiver answers 2xx).
"""

from __future__ import annotations

import asyncio
import json
import time
from http import HTTPStatus

import httpx
from starlette.requests import Request

from emulators.telegram.model import (
    MAX_POLL_TIMEOUT_S,
    OUTGOING_TIMEOUT_S,
    SECRET_RE,
    Args,
    BotApiError,
    Described,
    JSONDict,
    Webhook,
    bad_request,
)
from emulators.telegram.state import TelegramState


class TelegramUpdates(TelegramState):
    """getUpdates and the webhook: the updates queued by the state, delivered."""

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset < 0:
            # A negative offset keeps only the last -offset updates; the rest are forgotten.
            self._queue = self._queue[offset:]
        else:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]

    def _take(self, limit: int) -> list[JSONDict]:
        batch = sorted(self._redeliveries + self._queue, key=lambda u: int(u["update_id"]))
        batch = batch[:limit]
        taken = {id(u) for u in batch}
        self._redeliveries = [u for u in self._redeliveries if id(u) not in taken]
        return batch

    def _set_allowed(self, args: Args) -> None:
        """allowed_updates persists across calls; [] means the default set again."""
        raw = args.structured("allowed_updates", "allowed updates")
        if raw is None:
            return
        if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
            raise bad_request("can't parse allowed updates JSON object")
        self._allowed_updates = frozenset(raw) or None

    async def _get_updates(self, args: Args, request: Request) -> list[JSONDict]:
        with self._lock:
            if self._webhook is not None:
                raise BotApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use "
                    "deleteWebhook to delete the webhook first",
                )
            limit = min(max(args.integer("limit") or 100, 1), 100)
            timeout = min(max(args.number("timeout", 0.0), 0.0), MAX_POLL_TIMEOUT_S)
            self._set_allowed(args)
            self._confirm(args.integer("offset"))
            # A newer getUpdates ends the one still waiting (two pollers fight like this).
            self._poll_generation += 1
            generation = self._poll_generation
            self._notify()
            batch = self._take(limit)
        if batch or timeout <= 0:
            return batch
        return await self._long_poll(request, generation, limit, timeout)

    async def _long_poll(
        self, request: Request, generation: int, limit: int, wait_s: float
    ) -> list[JSONDict]:
        """Wait until an update arrives, the timeout passes or the client goes away."""
        deadline = time.monotonic() + wait_s
        disconnected = asyncio.ensure_future(request.receive())
        try:
            with self._waiter() as event:
                while True:
                    with self._lock:
                        if self._poll_generation != generation:
                            raise BotApiError(
                                409,
                                "Conflict: terminated by other getUpdates request; make sure "
                                "that only one bot instance is running",
                            )
                        batch = [] if self._webhook else self._take(limit)
                        event.clear()
                    remaining = deadline - time.monotonic()
                    if batch or remaining <= 0 or disconnected.done():
                        return batch
                    woken = asyncio.ensure_future(event.wait())
                    await asyncio.wait(
                        {woken, disconnected},
                        timeout=remaining,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    woken.cancel()
        finally:
            disconnected.cancel()

    # -- webhook ---------------------------------------------------------------------------------

    def _set_webhook(self, args: Args) -> Described:
        url = args.text("url") or ""
        secret = args.text("secret_token")
        if secret is not None and not SECRET_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        self._set_allowed(args)
        if args.flag("drop_pending_updates"):
            self._queue.clear()
            self._redeliveries.clear()
        if not url:
            return self._remove_webhook()
        if not url.startswith(("https://", "http://")):
            # Telegram insists on HTTPS; the emulator also takes http:// for local receivers.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        current = self._webhook
        if current is not None and (current.url, current.secret_token) == (url, secret):
            return Described(True, "Webhook is already set")
        self._webhook_generation += 1
        self._webhook = Webhook(url, secret, self._webhook_generation)
        self._poll_generation += 1  # a waiting getUpdates ends
        self._notify()
        task = asyncio.get_running_loop().create_task(self._deliver_loop(self._webhook_generation))
        # The loop keeps only weak references to tasks; an idle sender must not be collected.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return Described(True, "Webhook was set")

    def _remove_webhook(self) -> Described:
        if self._webhook is None:
            return Described(True, "Webhook is already deleted")
        self._webhook = None
        self._webhook_generation += 1
        self._notify()
        return Described(True, "Webhook was deleted")

    def _delete_webhook(self, args: Args) -> Described:
        if args.flag("drop_pending_updates"):
            self._queue.clear()
            self._redeliveries.clear()
        return self._remove_webhook()

    def _get_webhook_info(self, args: Args) -> JSONDict:
        hook = self._webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue) + len(self._redeliveries),
        }
        if hook is not None:
            info.update(max_connections=40, ip_address="127.0.0.1")
            if hook.last_error_date is not None:
                info.update(
                    last_error_date=hook.last_error_date,
                    last_error_message=hook.last_error_message,
                )
            if self._allowed_updates:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _next_delivery(self, generation: int) -> tuple[Webhook, JSONDict | None] | None:
        hook = self._webhook
        if hook is None or hook.generation != generation:
            return None
        pending = sorted(self._redeliveries + self._queue, key=lambda u: int(u["update_id"]))
        return hook, (pending[0] if pending else None)

    async def _deliver_loop(self, generation: int) -> None:
        """POST pending updates one at a time, in order; a failure is retried later."""
        with self._waiter() as event:
            while True:
                with self._lock:
                    event.clear()
                    step = self._next_delivery(generation)
                if step is None:
                    return
                hook, update = step
                if update is None:
                    await event.wait()
                    continue
                error = await self._post_update(hook, update)
                with self._lock:
                    self._delivered(hook, update, error)
                if error is not None:
                    await asyncio.sleep(self.webhook_retry_s)

    async def _post_update(self, hook: Webhook, update: JSONDict) -> str | None:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode()
        try:
            async with httpx.AsyncClient(timeout=OUTGOING_TIMEOUT_S, trust_env=False) as client:
                response = await client.post(hook.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return "Read timeout expired"
        except httpx.HTTPError:
            return "Connection refused"
        if 200 <= response.status_code < 300:
            return None
        try:
            phrase = HTTPStatus(response.status_code).phrase
        except ValueError:
            phrase = "Unknown"
        return f"Wrong response from the webhook: {response.status_code} {phrase}"

    def _delivered(self, hook: Webhook, update: JSONDict, error: str | None) -> None:
        if error is not None:
            hook.last_error_date, hook.last_error_message = int(time.time()), error
            return
        if any(u is update for u in self._redeliveries):
            self._redeliveries = [u for u in self._redeliveries if u is not update]
        else:
            self._queue = [u for u in self._queue if u is not update]
