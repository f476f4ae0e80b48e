"""The emulators' rate clock and the two shapes of limit, on a clock the test moves by hand."""

from __future__ import annotations

import pytest

from emulators.clock import (
    Bucket,
    RateClock,
    RateLimits,
    Window,
    check_scale,
    per_minute,
    whole_seconds,
)


class Hand:
    """A real clock that moves only when told."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_scaled_clock_runs_faster_and_keeps_its_time_when_the_scale_changes() -> None:
    real = Hand()
    clock = RateClock(10, real=real)
    real.t += 6
    assert clock.now() == pytest.approx(60)  # a minute of rate windows in 6 s
    clock.set_scale(1)
    real.t += 6
    assert clock.now() == pytest.approx(66)
    clock.restore()
    assert clock.scale == 10 and clock.now() == pytest.approx(66)
    # An instant is stated on the wall clock: now, plus what is left in rate-clock seconds.
    assert clock.epoch_of(clock.now() + 900, wall=lambda: 1_700_000_000.0) == pytest.approx(
        1_700_000_900.0
    )


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10", True, None])
def test_a_scale_is_a_number_above_zero(bad: object) -> None:
    with pytest.raises(ValueError, match="scale must be a number > 0"):
        check_scale(bad)


def test_twenty_a_minute_means_twenty_in_any_minute() -> None:
    real = Hand()
    limits = RateLimits(RateClock(real=real))
    group = [("group", Window(limit=20, window_s=60))]
    for _ in range(20):
        assert limits.take(group) == 0
        real.t += 1
    # The first of the twenty leaves the minute 60 s after it came, 40 s from now.
    assert limits.take(group) == pytest.approx(40)
    real.t += 39.5
    assert limits.take(group) == pytest.approx(0.5)
    real.t += 0.5
    assert limits.take(group) == 0


def test_a_bucket_allows_a_short_burst_then_its_pace() -> None:
    real = Hand()
    limits = RateLimits(RateClock(real=real))
    channel = [("channel", Bucket(burst=3, per_s=1.0))]
    assert [limits.take(channel) for _ in range(3)] == [0, 0, 0]
    assert limits.take(channel) == pytest.approx(1.0)
    real.t += 0.4
    assert limits.take(channel) == pytest.approx(0.6)
    real.t += 0.6
    assert limits.take(channel) == 0
    tier_3 = per_minute(50)
    assert (tier_3.burst, tier_3.per_s * 60) == (50, pytest.approx(50))


def test_a_refused_call_counts_against_none_of_its_limits() -> None:
    real = Hand()
    limits = RateLimits(RateClock(real=real))
    chat, group = ("chat", Bucket(burst=1, per_s=1.0)), ("group", Window(limit=2, window_s=60))
    assert limits.take([chat, group]) == 0
    assert limits.take([chat, group]) == pytest.approx(1.0)  # the chat's pace refuses it
    real.t += 1
    assert limits.take([chat, group]) == 0  # so the group still had room for this one
    real.t += 1
    assert limits.take([chat, group]) == pytest.approx(58)


def test_waits_are_stated_in_whole_seconds_never_zero() -> None:
    assert [whole_seconds(w) for w in (0.01, 1.0, 1.2, 59.5)] == [1, 1, 2, 60]
