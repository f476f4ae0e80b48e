from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from adapters.slack.settings import SLACK_HOSTS
from adapters.telegram.settings import TELEGRAM_HOSTS
from adapters.x.client import wait_after_refusal
from adapters.x.settings import X_HOSTS
from bridge.domain.durations import format_duration, parse_duration
from bridge.domain.platform_time import PlatformTime, is_real_platform
from bridge.pipeline.poll import pause_after_poll
from bridge.ports import RateBudget
from bridge.settings import Settings


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


def test_platform_time_turns_a_platforms_seconds_into_this_machines() -> None:
    real, tenfold = PlatformTime(), PlatformTime(10)
    assert real.seconds(60) == 60
    assert tenfold.seconds(60) == 6  # a minute of Telegram's 20-a-minute passes in 6 s
    assert tenfold.seconds(3) == pytest.approx(0.3)
    now = 1_700_000_000.0
    # X states a reset as its clock's now plus what is left of the window: only that is scaled.
    assert real.until(now + 900, now=now) == 900
    assert tenfold.until(now + 900, now=now) == 90
    assert tenfold.until(now - 5, now=now) == 0
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="above 0"):
            PlatformTime(bad)


def test_a_scaled_bridge_paces_its_polls_as_against_x_in_a_tenth_of_the_time() -> None:
    now, tenfold = 1_000_000.0, PlatformTime(10)
    spread = RateBudget(remaining=10, reset_at=now + 600)
    spent = RateBudget(remaining=0, reset_at=now + 600)
    assert pause_after_poll(2, spread, now=now, platform_time=tenfold) == 6
    assert pause_after_poll(0.5, spent, now=now, platform_time=tenfold) == pytest.approx(60.1)
    assert pause_after_poll(2, RateBudget(remaining=450, reset_at=now + 900), now=now) == 2


def test_the_platform_time_scale_is_a_number_above_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REACHABLE_PLATFORM_TIME_SCALE", "20")
    assert Settings().platform_time == PlatformTime(20)
    for bad in ("0", "-2", "fast", "inf"):
        monkeypatch.setenv("REACHABLE_PLATFORM_TIME_SCALE", bad)
        with pytest.raises(ValidationError, match="platform_time_scale"):
            Settings()
    monkeypatch.delenv("REACHABLE_PLATFORM_TIME_SCALE")
    assert Settings().platform_time.scale == 1


def test_x_refusals_wait_for_the_budget_that_ran_out() -> None:
    now = 1_700_000_000.0
    window = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(now) + 300),
    }
    assert wait_after_refusal(window, now=now) == 300
    # The app's 24 hours of posts are spent while the user's window still has room.
    day = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "57",
        "x-rate-limit-reset": str(int(now) + 300),
        "x-app-limit-24hour-limit": "10000",
        "x-app-limit-24hour-remaining": "0",
        "x-app-limit-24hour-reset": str(int(now) + 50_000),
    }
    assert wait_after_refusal(day, now=now) == 50_000
    assert wait_after_refusal({}, now=now) == 60
    assert wait_after_refusal({"x-rate-limit-reset": str(int(now) - 3)}, now=now) == 1


@pytest.mark.parametrize(
    ("url", "real"),
    [
        ("https://api.twitter.com", True),
        ("https://api.x.com/2", True),
        ("https://slack.com/api/", True),
        ("https://api.telegram.org", True),
        ("http://127.0.0.1:8701", False),
        ("http://emulators:8703", False),
        ("https://notslack.com/api/", False),
    ],
)
def test_the_real_platforms_are_known_by_their_hosts(url: str, real: bool) -> None:
    assert is_real_platform(url, X_HOSTS + SLACK_HOSTS + TELEGRAM_HOSTS) is real


def test_a_platform_is_real_only_on_its_own_hosts() -> None:
    assert is_real_platform("https://slack.com/api/", SLACK_HOSTS)
    assert not is_real_platform("https://slack.com/api/", TELEGRAM_HOSTS)
