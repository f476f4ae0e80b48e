from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.base import RateBudget
from bridge.durations import format_duration, parse_duration
from bridge.poller import pause_after_poll


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("4h", 14400), ("1h30m", 5400), ("2d", 172800), (45, 45)],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_bad_durations_say_how_to_write_one() -> None:
    for bad in ("soon", "30 minutes", "", "-5m", True):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert format_duration(timedelta(seconds=5400)) == "1h30m"


def test_pacing_spreads_the_remaining_budget_until_reset() -> None:
    now = 1_000_000.0
    assert pause_after_poll(2, RateBudget(), now=now) == 2
    assert pause_after_poll(2, RateBudget(remaining=450, reset_at=now + 900), now=now) == 2
    assert pause_after_poll(2, RateBudget(remaining=10, reset_at=now + 600), now=now) == 60
    assert pause_after_poll(2, RateBudget(remaining=0, reset_at=now + 600), now=now) == 601
