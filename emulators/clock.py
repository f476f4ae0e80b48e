"""The emulators' clock for rate windows, and the two shapes of limit the platforms state.

Rate windows run on a :class:`RateClock` that may go faster than real time (``time_scale``): at
10, a minute of Telegram's "20 messages a minute per group" passes in 6 s. Every wait an
emulator states (Slack's ``Retry-After``, Telegram's ``retry_after``, X's
``x-rate-limit-reset``) is in that clock's seconds, as the platform would state it; a bridge
told the same scale (``REACHABLE_PLATFORM_TIME_SCALE``) divides them back. Instants the
platforms show people (post times, message dates, ``Date`` headers) stay on the wall clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


def check_scale(value: object) -> float:
    """A time scale as the control API and the constructors accept it: a number above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("scale must be a number > 0")
    if not math.isfinite(value) or value <= 0:
        raise ValueError("scale must be a number > 0")
    return float(value)


class RateClock:
    """Seconds of rate-window time, running ``scale`` times as fast as the real clock.

    Changing the scale keeps the time reached so far, so windows already open stay open.
    """

    def __init__(self, scale: float = 1.0, *, real: Callable[[], float] = time.monotonic) -> None:
        self.initial_scale = check_scale(scale)
        self._real = real
        self._lock = threading.Lock()
        self._scale = self.initial_scale
        self._anchor_real = real()
        self._anchor = 0.0

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        with self._lock:
            return self._anchor + (self._real() - self._anchor_real) * self._scale

    def set_scale(self, scale: float) -> None:
        checked = check_scale(scale)
        with self._lock:
            real = self._real()
            self._anchor += (real - self._anchor_real) * self._scale
            self._anchor_real, self._scale = real, checked

    def restore(self) -> None:
        """Back to the scale the emulator was started with (an emulator reset)."""
        self.set_scale(self.initial_scale)

    def epoch_of(self, at: float, *, wall: Callable[[], float] = time.time) -> float:
        """The Unix time a platform would state for the rate-window instant ``at``: the wall
        clock now plus the wait until ``at`` in rate-window seconds (X's reset header)."""
        return wall() + (at - self.now())


class Rule(Protocol):
    def wait(self, history: deque[float], now: float) -> float:
        """Seconds (rate-window time) until one more call is allowed; 0 when it is now."""

    def count(self, history: deque[float], now: float) -> None:
        """Count one call made at ``now``."""


@dataclass(frozen=True)
class Window:
    """At most ``limit`` calls in any ``window_s`` seconds (Telegram's 20 a minute per group)."""

    limit: int
    window_s: float

    def wait(self, history: deque[float], now: float) -> float:
        while history and history[0] <= now - self.window_s:
            history.popleft()
        if len(history) < self.limit:
            return 0.0
        return history[len(history) - self.limit] + self.window_s - now

    def count(self, history: deque[float], now: float) -> None:
        history.append(now)


@dataclass(frozen=True)
class Bucket:
    """``per_s`` calls a second after a burst of ``burst`` (Slack's "1 a second, short bursts
    allowed"). The history holds two numbers: the tokens left and when they were counted."""

    burst: float
    per_s: float

    def _tokens(self, history: deque[float], now: float) -> float:
        if not history:
            return self.burst
        tokens, at = history
        return min(self.burst, tokens + (now - at) * self.per_s)

    def wait(self, history: deque[float], now: float) -> float:
        tokens = self._tokens(history, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_s

    def count(self, history: deque[float], now: float) -> None:
        tokens = self._tokens(history, now) - 1.0
        history.clear()
        history.extend((tokens, now))


def per_minute(calls: int, *, burst: int | None = None) -> Bucket:
    """A Web API tier: ``calls`` a minute, after a burst of ``burst`` (a minute's worth)."""
    return Bucket(burst=float(burst if burst is not None else calls), per_s=calls / 60.0)


class RateLimits:
    """Named counters on one clock. A call names every rule it falls under and is counted
    only when all of them let it through: a refused call uses nothing."""

    def __init__(self, clock: RateClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._histories: dict[str, deque[float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._histories.clear()

    def take(self, rules: list[tuple[str, Rule]]) -> float:
        """Count one call under ``rules`` (name, rule); 0 when allowed, else the seconds of
        rate-window time the caller must wait, and nothing counted."""
        now = self.clock.now()
        with self._lock:
            counted = [(rule, self._histories.setdefault(name, deque())) for name, rule in rules]
            wait = max((rule.wait(history, now) for rule, history in counted), default=0.0)
            if wait > 0:
                return wait
            for rule, history in counted:
                rule.count(history, now)
            return 0.0


def whole_seconds(wait: float) -> int:
    """A wait as the platforms state it: whole seconds, never less than one."""
    return max(1, math.ceil(wait - 1e-9))
