"""X's rate limits as the emulator keeps them: fixed windows per endpoint and caller, told in
``x-rate-limit-*`` headers, and the app's daily posting budget in ``x-app-limit-24hour-*``.

X's docs (docs.x.com, "Rate limits"): the mentions timeline 450 requests per 15 minutes per app
and 300 per user; a user's posts 1,500 per app and 900 per user; POST /2/tweets 100 per 15
minutes per user and 10,000 per 24 hours per app (all its users together). The recorded
payloads in tests/fixtures/x show the same headers (450 for mentions, 75 for /2/users/me, 50 for
deleting a post).

Windows run on the emulator's rate clock (see :mod:`emulators.clock`). A reset is stated
the way X states it, in Unix seconds, as the wall clock now plus what is left of the window in
rate-clock seconds: at scale 1 exactly X's header; faster, a client that divides the wait by
the same scale waits the right real time, though the stated instant moves closer on every call.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from emulators.clock import RateClock

DEFAULT_WINDOW_S = 900.0
DAY_S = 86_400.0
# name: (app-only limit, per-user limit, window); None: that kind of caller is refused anyway.
DEFAULT_LIMITS: dict[str, tuple[int | None, int | None, float]] = {
    "mentions": (450, 300, DEFAULT_WINDOW_S),
    "user_tweets": (1500, 900, DEFAULT_WINDOW_S),
    "post": (None, 100, DEFAULT_WINDOW_S),
    "delete": (None, 50, DEFAULT_WINDOW_S),
    "by_username": (300, 300, DEFAULT_WINDOW_S),
    "me": (None, 75, DEFAULT_WINDOW_S),
    "post_24h": (10_000, None, DAY_S),
}
# Budgets the whole app shares whoever calls, with the header prefix X states them under.
APP_WIDE = {"post_24h": "x-app-limit-24hour-"}
# A call to the first also counts against these.
ALSO_COUNTS = {"post": ("post_24h",)}


@dataclass
class _Window:
    count: int
    reset_at: float  # rate-clock seconds


class Caller(Protocol):
    """Who calls, as the limits see it: ``kind`` app or user, ``key`` their own bucket."""

    @property
    def kind(self) -> str: ...

    @property
    def key(self) -> str: ...


class RateLimiter:
    """Fixed windows per (endpoint, caller), opened by the first call, the way X reports them."""

    def __init__(self, clock: RateClock, *, wall: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.enabled = True
            self.limits = dict(DEFAULT_LIMITS)
            self._windows: dict[tuple[str, str], _Window] = {}

    def configure(
        self, endpoint: str, *, limit: int, window_s: float | None, auth: str | None
    ) -> None:
        with self._lock:
            app, user, window = self.limits[endpoint]
            app = limit if auth in (None, "app") or endpoint in APP_WIDE else app
            user = limit if auth in (None, "user") and endpoint not in APP_WIDE else user
            self.limits[endpoint] = (app, user, window_s or window)
            for key in [k for k in self._windows if k[0] == endpoint]:
                del self._windows[key]

    def hit(self, endpoint: str, caller: Caller) -> tuple[bool, dict[str, str]]:
        """Count one call against the endpoint's budgets; whether it is allowed, and the
        headers to send either way. A refused call counts against none of them."""
        now = self.clock.now()
        with self._lock:
            budgets = []
            for name in (endpoint, *ALSO_COUNTS.get(endpoint, ())):
                app, user, window_s = self.limits[name]
                shared = name in APP_WIDE
                limit = (app if shared or caller.kind == "app" else user) or 0
                key = "app" if shared else caller.key
                window = self._windows.get((name, key))
                if window is None or now >= window.reset_at:
                    window = self._windows[(name, key)] = _Window(0, now + window_s)
                budgets.append((name, limit, window))
            allowed = not self.enabled or all(w.count < limit for _, limit, w in budgets)
            headers: dict[str, str] = {}
            for name, limit, window in budgets:
                if allowed and self.enabled:
                    window.count += 1
                remaining = limit if not self.enabled else max(0, limit - window.count)
                prefix = APP_WIDE.get(name, "x-rate-limit-")
                headers[f"{prefix}limit"] = str(limit)
                headers[f"{prefix}remaining"] = str(remaining)
                headers[f"{prefix}reset"] = str(self._epoch(window.reset_at))
            return allowed, headers

    def _epoch(self, at: float) -> int:
        # Rounded up: a client that waits until the stated second finds the window open.
        return math.ceil(self.clock.epoch_of(at, wall=self._wall) - 1e-6)

    def set_enabled(self, enabled: bool) -> None:
        with self._lock:
            self.enabled = enabled

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "enabled": self.enabled,
                "limits": {
                    name: {"app": app, "user": user, "window_s": window}
                    for name, (app, user, window) in self.limits.items()
                },
            }
