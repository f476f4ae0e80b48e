"""Calendars at their edges, as an admin writes them and as `rules test` shows them: a night shift
past midnight, the whole day when no hours are given, the first and the last minute."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.config import parse_config
from bridge.config import Config
from bridge.domain.models import Author, Mention
from bridge.domain.routing import decide
from bridge.errors import ConfigError

JAKARTA = ZoneInfo("Asia/Jakarta")

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations:
  night-desk: {chat: telegram, chat_id: -1001}
  weekend-desk: {chat: telegram, chat_id: -1002}
  desk: {chat: slack, channel: C0DESK}
calendars:
  friday-night:
    timezone: Asia/Jakarta
    days: [fri]
    hours: "22:00-06:00"
  night-shift:
    timezone: Asia/Jakarta
    days: [mon, tue, wed, thu, fri, sat, sun]
    hours: "22:00-06:00"
    holidays: [2026-12-24]
  weekend:
    timezone: Asia/Jakarta
    days: [sat, sun]
routes:
  - {name: friday-night, match: {within: friday-night}, to: [night-desk]}
  - {name: night-shift, match: {within: night-shift}, to: [night-desk]}
  - {name: weekend, match: {within: weekend}, to: [weekend-desk]}
  - {name: daytime, to: [desk]}
""")


def jakarta(day: int, clock: str) -> datetime:
    """A moment of December 2026 in Jakarta (the 4th is a Friday, the 24th a Thursday)."""
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(2026, 12, day, hour, minute, tzinfo=JAKARTA)


def posted_at(moment: datetime) -> Mention:
    return Mention(
        network="x",
        id="2",
        account="humas",
        text="halo",
        author=Author(id="9", handle="warga"),
        conversation_id="2",
        created_at=moment,
    )


def route(config: Config, moment: datetime) -> str:
    return decide(config, posted_at(moment), now=moment).route


def only(calendar: str) -> Config:
    """The config with one calendar rule before the catch-all."""
    routes = [r for r in CONFIG.routes if r.name in (calendar, "daytime")]
    return CONFIG.model_copy(update={"routes": routes})


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (jakarta(4, "23:00"), "friday-night"),  # Friday evening
        (jakarta(5, "02:00"), "friday-night"),  # Saturday 02:00 is still Friday's shift
        (jakarta(5, "23:00"), "daytime"),  # Saturday evening: no shift on Saturday
        (jakarta(4, "02:00"), "daytime"),  # Friday 02:00 belongs to Thursday's shift
        (jakarta(6, "02:00"), "daytime"),  # Sunday 02:00 belongs to Saturday's
    ],
)
def test_a_night_shift_after_midnight_belongs_to_the_day_it_started(
    moment: datetime, expected: str
) -> None:
    assert route(only("friday-night"), moment) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (jakarta(23, "23:00"), "night-shift"),  # the evening before the holiday
        (jakarta(24, "02:00"), "night-shift"),  # still the 23rd's shift
        (jakarta(24, "23:00"), "daytime"),  # the holiday's own shift does not run
        (jakarta(25, "02:00"), "daytime"),  # nor its early hours on the 25th
        (jakarta(25, "23:00"), "night-shift"),  # the 25th is no holiday
        (jakarta(26, "02:00"), "night-shift"),
    ],
)
def test_a_holiday_cancels_the_night_shift_that_starts_on_it(
    moment: datetime, expected: str
) -> None:
    assert route(only("night-shift"), moment) == expected


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("21:59", "daytime"),
        ("22:00", "night-shift"),  # the first minute of the shift is in it
        ("05:59", "night-shift"),
        ("06:00", "daytime"),  # the shift is over at 06:00 sharp
    ],
)
def test_a_night_shift_starts_at_22_00_sharp_and_ends_at_06_00_sharp(
    clock: str, expected: str
) -> None:
    assert route(only("night-shift"), jakarta(2, clock)) == expected


def test_a_calendar_without_days_holds_monday_to_friday() -> None:
    office = parse_config(CALENDAR_CONFIG % ("Asia/Jakarta", "08:00-16:00")).calendars["office"]
    assert [office.contains(jakarta(day, "09:00")) for day in range(1, 8)] == [
        True,  # Tuesday the 1st
        True,
        True,
        True,  # Friday
        False,  # Saturday
        False,  # Sunday
        True,  # Monday the 7th
    ]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (jakarta(5, "00:00"), "weekend"),  # Saturday's first minute
        (jakarta(5, "12:00"), "weekend"),
        (jakarta(6, "23:59"), "weekend"),  # Sunday's last minute
        (jakarta(4, "23:59"), "daytime"),  # Friday
        (jakarta(7, "00:00"), "daytime"),  # Monday
    ],
)
def test_a_calendar_without_hours_holds_all_day_on_its_days(
    moment: datetime, expected: str
) -> None:
    assert CONFIG.calendars["weekend"].hours == "00:00-24:00"
    assert route(only("weekend"), moment) == expected


def test_the_trace_shows_the_moment_in_the_calendars_time_zone() -> None:
    utc_evening = datetime(2026, 12, 4, 15, 30, tzinfo=ZoneInfo("UTC"))  # 22:30 in Jakarta
    decision = decide(only("friday-night"), posted_at(utc_evening), now=utc_evening)
    [check] = decision.trace[0].checks
    assert (check.condition, check.found, check.held) == (
        "within friday-night",
        "Fri 2026-12-04 22:30 WIB",
        True,
    )


CALENDAR_CONFIG = """
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
calendars:
  office: {timezone: %s, hours: "%s"}
routes: [{name: rest, to: [desk]}]
"""


@pytest.mark.parametrize(
    ("zone", "hours", "problem"),
    [
        ("Asia/Jakarta", "08:00-08:00", "hours: '08:00-08:00' is an empty range"),
        ("Asia/Jakarta", "8-16", "hours: '8-16' is not a range of hours like 08:00-16:00"),
        (
            "Asia/Jakarta",
            "24:00-06:00",
            "hours: '24:00-06:00' is not a range of hours like 08:00-16:00",
        ),
        (
            "Asia/Jakartaa",
            "08:00-16:00",
            "timezone: unknown time zone 'Asia/Jakartaa' (use an IANA name such as Asia/Jakarta)",
        ),
    ],
)
def test_config_check_explains_a_calendar_it_cannot_use(
    zone: str, hours: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(CALENDAR_CONFIG % (zone, hours))
    assert str(raised.value) == f"<config>: line 5: calendars.office.{problem}"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("08:00 - 16:30", "08:00-16:30"),
        ("08:00-08:30", "08:00-08:30"),
        ("22:00-24:00", "22:00-24:00"),
    ],
)
def test_hours_are_kept_without_spaces(written: str, kept: str) -> None:
    config = parse_config(CALENDAR_CONFIG % ("Asia/Jakarta", written))
    assert config.calendars["office"].hours == kept
