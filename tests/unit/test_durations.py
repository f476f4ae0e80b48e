"""Durations as admins write them (an SLA, a poll interval): read back as written, and a bad one
refused with what is wrong and how to write it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import parse_config
from bridge.domain.durations import format_duration, parse_duration
from bridge.errors import ConfigError


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("90s", "1m30s"),
        ("1h 30m", "1h30m"),
        ("1h 30\tm", "1h30m"),
        (" 4H ", "4h"),
        ("2d", "2d"),
        ("1d1h1m1s", "1d1h1m1s"),
        ("0m", "0s"),
        (0, "0s"),
        (1, "1s"),
    ],
)
def test_an_sla_reads_back_in_its_shortest_form(written: object, shown: str) -> None:
    """What `rules explain` and the mirrored card show for the SLA an admin wrote."""
    assert format_duration(parse_duration(written)) == shown


def test_a_number_is_seconds_and_may_be_zero_or_a_fraction() -> None:
    assert parse_duration(0) == timedelta(0)
    assert parse_duration(0.5) == timedelta(milliseconds=500)


SLA_CONFIG = """
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
routes:
  - {name: rest, to: [desk], sla: %s}
"""


@pytest.mark.parametrize(
    ("sla", "problem"),
    [
        ("-5", "a duration cannot be negative"),
        ("-0.5", "a duration cannot be negative"),
        ("true", "expected a duration like 30m or 4h, got True"),
        ("[30m]", "expected a duration like 30m or 4h, got ['30m']"),
        ("soon", "'soon' is not a duration: write it like 90s, 30m, 4h, 1h30m or 2d"),
        ("'1h -5m'", "'1h -5m' is not a duration: write it like 90s, 30m, 4h, 1h30m or 2d"),
    ],
)
def test_a_bad_sla_in_the_config_says_what_is_wrong_and_how_to_write_one(
    sla: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(SLA_CONFIG % sla)
    assert str(raised.value) == f"<config>: line 5: routes[0].sla: {problem}"
