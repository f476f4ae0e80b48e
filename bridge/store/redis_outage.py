"""Redis outages every role waits out: a restart, a failover, a replica still loading.

While Redis restarts or changes role it refuses or drops connections, and answers with errors
it gives only then: ``READONLY`` (a primary demoted to a replica), ``UNBLOCKED`` (a blocked read
cut short by that demotion), ``LOADING``, ``MASTERDOWN``, ``TRYAGAIN``, ``CLUSTERDOWN``, ``BUSY``,
``NOREPLICAS``. None of them says anything is wrong with the request: the same request succeeds
once Redis settles. :func:`is_outage` is the one place that tells them from real errors (a wrong
password, a bad script, a bug), which still end what they interrupt.

A role that meets an outage waits with a growing pause (:class:`Outage`), reconnects (the
client does; with Sentinel it asks where the primary is now) and resumes. The process logs one
line when the outage begins and one when Redis answers again, whichever roles wait it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Error replies Redis gives only while it restarts, loads its data or changes role.
PASSING_REPLIES = frozenset(
    [
        "READONLY",
        "UNBLOCKED",
        "LOADING",
        "MASTERDOWN",
        "TRYAGAIN",
        "CLUSTERDOWN",
        "BUSY",
        "NOREPLICAS",
    ]
)
FIRST_PAUSE_S = 0.1
MAX_PAUSE_S = 2.0


def is_outage(exc: BaseException) -> bool:
    """True for an error that only says Redis is unavailable for now: retry, do not give up."""
    if isinstance(exc, AuthenticationError | AuthorizationError):
        return False  # the password is wrong; waiting will not fix it
    if isinstance(exc, RedisConnectionError | RedisTimeoutError | ConnectionError):
        return True  # refused, dropped, timed out; BusyLoadingError (LOADING) is one too
    if isinstance(exc, ResponseError):
        # Known replies lose their code from the message (redis-py keeps it apart); others,
        # such as UNBLOCKED and BUSY, keep it as the message's first word.
        code = getattr(exc, "status_code", None) or str(exc).split(" ", 1)[0]
        return code in PASSING_REPLIES or isinstance(exc, _PASSING_CLASSES)
    return False


# MasterDownError (MASTERDOWN) is a ClusterDownError.
_PASSING_CLASSES = (ReadOnlyError, ClusterDownError, TryAgainError)


@contextlib.contextmanager
def outages_ignored() -> Iterator[None]:
    """For bookkeeping that may be skipped while Redis is unavailable (a lease the next holder
    takes anyway, a count): an outage ends it quietly, any other error still goes up."""
    try:
        yield
    except Exception as exc:
        if not is_outage(exc):
            raise


class _ProcessView:
    """What the process says about outages: once when the first role meets one, once when
    the last role waiting gets through again."""

    def __init__(self) -> None:
        self.waiting: set[Outage] = set()
        self.since = 0.0

    def begin(self, outage: Outage, exc: BaseException) -> None:
        if not self.waiting:
            self.since = time.monotonic()
            log.warning(
                "Redis unavailable (%s); waiting for it, then resuming (%s was first to see it)",
                describe(exc),
                outage.role,
            )
        self.waiting.add(outage)

    def end(self, outage: Outage, *, got_through: bool) -> None:
        if outage not in self.waiting:
            return
        self.waiting.discard(outage)
        if not self.waiting and got_through:
            log.warning("Redis answers again after %.1f s; resumed", time.monotonic() - self.since)


_process = _ProcessView()


def describe(exc: BaseException) -> str:
    """An error as a short line: Redis's own words, with its code when it has one."""
    code = getattr(exc, "status_code", None)
    text = str(exc) or type(exc).__name__
    return f"{code} {text}" if code and not text.startswith(code) else text


class Outage:
    """One role's wait through outages: a growing pause between tries (capped), and its
    share of the process's log lines."""

    def __init__(self, role: str) -> None:
        self.role = role
        self._pause = FIRST_PAUSE_S
        self.ongoing = False

    async def wait(self, exc: BaseException, stop: asyncio.Event | None = None) -> None:
        """A try failed with an outage: note it, and pause before the next (``stop`` ends
        the pause early)."""
        if not self.ongoing:
            self.ongoing = True
            _process.begin(self, exc)
        log.debug("%s: Redis unavailable (%s); next try in %.1f s", self.role, exc, self._pause)
        pause = self._pause * random.uniform(0.8, 1.2)
        self._pause = min(self._pause * 2, MAX_PAUSE_S)
        if stop is None:
            await asyncio.sleep(pause)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)

    def over(self, *, got_through: bool = True) -> None:
        """A try got through (or the role gave up): the outage, if there was one, is over
        for this role."""
        if self.ongoing:
            self.ongoing = False
            self._pause = FIRST_PAUSE_S
            _process.end(self, got_through=got_through)


async def through_outages(
    call: Callable[[], Awaitable[T]], *, role: str, patience_s: float | None = None
) -> T:
    """``call()``, tried again through outages until it gets through; past ``patience_s`` the
    outage's error is raised. For a write that records what already happened outside (a
    message posted): keeping it in memory until Redis is back beats doing the thing again."""
    outage = Outage(role)
    deadline = None if patience_s is None else time.monotonic() + patience_s
    try:
        while True:
            try:
                result = await call()
            except Exception as exc:
                if not is_outage(exc) or (deadline is not None and time.monotonic() > deadline):
                    raise
                await outage.wait(exc)
                continue
            outage.over()
            return result
    finally:
        outage.over(got_through=False)
