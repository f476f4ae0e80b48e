"""Platform time: the clock the platforms' rate windows run on, against this machine's clock.

Against the real platforms the two are one. The emulators can run their rate windows faster
(``time_scale``), so a test or a training session gets through a minute of Telegram's "20 a
minute per group" in a few seconds; the bridge, told the same scale
(``REACHABLE_PLATFORM_TIME_SCALE``), divides everything it paces by it, and so does against a
10x emulator exactly what it would do against the real platform, in a tenth of the time.

What scales: the bridge's own pacing (seconds between messages to a channel, the bot's overall
rate) and the waits a platform states (Slack's ``Retry-After``, Telegram's ``retry_after``, X's
``x-rate-limit-reset``). What does not: SLAs, reminders, digests, leases, retries after
failures, and every instant people see; those follow the business clock, which is real time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class PlatformTime:
    """How many times faster than real time the platforms' rate windows run (1: the real
    platforms)."""

    scale: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.scale) or self.scale <= 0:
            raise ValueError(f"the platform time scale must be a number above 0, not {self.scale}")

    def seconds(self, platform_s: float) -> float:
        """How long ``platform_s`` seconds of a platform's rate window last here."""
        return platform_s / self.scale

    def until(self, platform_epoch: float, *, now: float) -> float:
        """Seconds from ``now`` (Unix time) to an instant a platform stated in Unix seconds,
        such as X's ``x-rate-limit-reset``; 0 when it has passed.

        A platform states such an instant as its clock's now plus what is left of the window;
        both clocks agree on now (they are the wall clock), so only what is left is scaled.
        """
        return max(platform_epoch - now, 0.0) / self.scale


REAL_TIME = PlatformTime()  # the real platforms' own clock


def is_real_platform(url: str, hosts: Iterable[str]) -> bool:
    """Whether ``url`` is on one of a real platform's ``hosts`` or under them (not an
    emulator's): a scale other than 1 against it breaks its limits."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == known or host.endswith("." + known) for known in hosts)
