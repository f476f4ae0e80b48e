"""Reloading the config without a restart, in every process, and never onto a broken file.

Each process watches the file itself (a change of its content), reloads on SIGHUP, and on a
request published in Redis (an admin's ``/reachable reload`` reaches every process that way).
A new file is checked completely before it replaces the old one, in one assignment, so a
process always routes with one whole config. A file with problems changes nothing: the old
rules stay live, the log lists every problem, and the admins are told once in chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis.exceptions import RedisError

from bridge.config import Config
from bridge.desks.alerts import alert_admins
from bridge.errors import ConfigError
from bridge.store.redis_outage import Outage, is_outage
from bridge.store.store import Store
from bridge.text import messages

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 2.0
SETTLE_S = 0.25


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: changed the config, found it unchanged, or refused it."""

    changed: bool
    problems: list[str] = field(default_factory=list)
    # What this process cannot take over without a restart (a new network or chat).
    needs_restart: list[str] = field(default_factory=list)
    source: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.problems)


def needs_restart(old: Config, new: Config) -> list[str]:
    """Parts of a new config that only a restart brings in: adapters are made at start."""
    notes = []
    for kind, before, after in (
        ("network", {a.network for a in old.accounts}, {a.network for a in new.accounts}),
        (
            "chat",
            {d.chat for d in old.destinations.values()},
            {d.chat for d in new.destinations.values()},
        ),
    ):
        for added in sorted(after - before):
            notes.append(f"the new {kind} {added!r} is used after a restart")
    return notes


async def request_reload(store: Store, *, by: str) -> int:
    """Ask every running process to reload its config; returns how many are listening."""
    return int(await store.redis.publish(store.keys.config_reload_channel, by))


class ConfigWatcher:
    def __init__(
        self,
        path: Path,
        store: Store,
        *,
        current: Callable[[], Config],
        replace: Callable[[Config], None],
        interval_s: float = WATCH_INTERVAL_S,
    ) -> None:
        self.path = path
        self.store = store
        self.current = current
        self.replace = replace
        self.interval_s = interval_s
        self._digest = self._baseline()
        self._hangup = asyncio.Event()

    def _parse(self, text: str) -> Config:
        """The file's text as a config, read with the chats of the one now live."""
        return self.current().parse_like(text, source=str(self.path))

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def _baseline(self) -> str | None:
        """The digest of the file as it is now, if it is the config this process runs; None
        (a change to pick up at the first look) if it was edited since the process loaded it."""
        try:
            raw = self.path.read_bytes()
            matches = self._parse(raw.decode("utf-8")) == self.current()
        except (OSError, UnicodeDecodeError, ConfigError):
            return None
        return hashlib.sha256(raw).hexdigest() if matches else None

    async def reload(self, *, reason: str) -> ReloadOutcome:
        """Check the file and, only if it is sound, make it the live config."""
        self._digest = self._read_digest()
        old = self.current()
        try:
            text = self.path.read_text(encoding="utf-8")
            new = self._parse(text)
        except (OSError, UnicodeDecodeError) as exc:
            return await self._refuse([f"cannot read {self.path}: {exc}"], reason)
        except ConfigError as exc:
            return await self._refuse(_listed(exc), reason, text=text)
        if new == old:
            log.info("config %s reloaded (%s): unchanged", self.path, reason)
            return ReloadOutcome(changed=False)
        notes = needs_restart(old, new)
        self.replace(new)
        log.info(
            "config %s reloaded (%s): %d route(s), %d destination(s) now live",
            self.path,
            reason,
            len(new.routes),
            len(new.destinations),
        )
        for note in notes:
            log.warning("config %s: %s", self.path, note)
        return ReloadOutcome(changed=True, needs_restart=notes)

    async def _refuse(
        self, problems: list[str], reason: str, *, text: str | None = None
    ) -> ReloadOutcome:
        log.error(
            "config %s has %d problem(s) (%s); the previous config stays live:\n  %s",
            self.path,
            len(problems),
            reason,
            "\n  ".join(problems),
        )
        with contextlib.suppress(RedisError, OSError):
            await alert_admins(
                self.store,
                self.current(),
                subject=f"config-refused:{self._digest}",
                say=lambda: messages.config_refused(
                    path=str(self.path),
                    problems=self._problems_of(text) if text is not None else problems,
                ),
            )
        return ReloadOutcome(changed=False, problems=problems, source=str(self.path))

    def _problems_of(self, text: str) -> list[str]:
        """The file's problems worded anew, in the language of whoever is told."""
        try:
            self._parse(text)
        except ConfigError as exc:
            return _listed(exc)
        return []

    async def run(self, stop: asyncio.Event) -> None:
        """Reload on a change of the file, on SIGHUP, or when another process asks."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self._hangup.set)
        listener = asyncio.create_task(self._listen(stop), name="config-requests")
        try:
            while not stop.is_set():
                waiters = [
                    asyncio.create_task(self._hangup.wait()),
                    asyncio.create_task(stop.wait()),
                ]
                _, pending = await asyncio.wait(
                    waiters, timeout=self.interval_s, return_when=asyncio.FIRST_COMPLETED
                )
                for waiter in pending:
                    waiter.cancel()
                if stop.is_set():
                    break
                if self._hangup.is_set():
                    self._hangup.clear()
                    await self.reload(reason="SIGHUP")
                elif self._read_digest() != self._digest and await self._settled(stop):
                    await self.reload(reason="the file changed")
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)

    async def _settled(self, stop: asyncio.Event) -> bool:
        """The file reads the same twice, ``SETTLE_S`` apart: an editor or a script that is
        still writing it (truncated, half written) is not mistaken for a broken config."""
        before = self._read_digest()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=SETTLE_S)
        return not stop.is_set() and self._read_digest() == before

    async def _listen(self, stop: asyncio.Event) -> None:
        """Reload requests published in Redis; a Redis outage is waited out (with Sentinel,
        the subscription moves to the new primary)."""
        outage = Outage("config reload requests")
        try:
            while not stop.is_set():
                try:
                    async with self.store.redis.pubsub() as pubsub:
                        await pubsub.subscribe(self.store.keys.config_reload_channel)
                        outage.over()
                        while not stop.is_set():
                            message = await pubsub.get_message(
                                ignore_subscribe_messages=True, timeout=1.0
                            )
                            if message is not None:
                                await self.reload(reason=f"asked by {message.get('data')}")
                except (RedisError, OSError) as exc:
                    if is_outage(exc):
                        await outage.wait(exc, stop)
                        continue
                    log.error("config reload requests: %s; subscribing again", exc)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=1.0)
        finally:
            outage.over(got_through=False)


def _listed(error: ConfigError) -> list[str]:
    return [f"{where}: {detail}" if where else detail for where, detail in error.problems]
