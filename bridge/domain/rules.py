"""The routing rules as admins write them in the config, and their checks.

A route's ``match`` holds conditions; all given conditions must hold. Routes are tried top to
bottom: the first that matches wins, unless it says ``continue: true``. The last route must match
everything, so every mention gets a route or an explicit ``drop``. How a mention is evaluated
against these is in :mod:`bridge.domain.routing`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from bridge.domain.durations import parse_duration
from bridge.text.i18n import N_, _

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Key = Annotated[str, Field(pattern=KEY_PATTERN)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Priority = Literal["low", "normal", "high", "urgent"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
DEFAULT_SLA = timedelta(hours=4)

Problem = tuple[tuple[int | str, ...], str]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


Words = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(as_list)]
# Authors' handles, "@" optional; the config checks them against its networks' handle forms.
Handles = list[Annotated[str, Field(min_length=1)]]


def known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            _("unknown time zone '{zone}' (use an IANA name such as Asia/Jakarta)", zone=value)
        ) from None
    return value


def hours_range(value: str) -> str:
    found = HOURS_RE.match(value.replace(" ", ""))
    if found is None:
        raise ValueError(_("'{hours}' is not a range of hours like 08:00-16:00", hours=value))
    if found.group(1, 2) == found.group(3, 4):
        raise ValueError(_("'{hours}' is an empty range", hours=value))
    return value.replace(" ", "")


class Calendar(Strict):
    """When a ``within`` / ``outside`` condition holds: days and hours in a time zone, minus
    holidays. ``hours: 22:00-06:00`` runs past midnight."""

    timezone: Annotated[str, AfterValidator(known_zone)] = "UTC"
    days: Annotated[list[Weekday], BeforeValidator(as_list)] = list(WEEKDAYS[:5])
    hours: Annotated[str, AfterValidator(hours_range)] = "00:00-24:00"
    holidays: list[date] = []

    def _bounds(self) -> tuple[time, time | None]:
        start, end = self.hours.split("-")
        end_time = None if end == "24:00" else time.fromisoformat(end)
        return time.fromisoformat(start), end_time

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        start, end = self._bounds()
        clock = local.time().replace(tzinfo=None)
        if end is None or start < end:
            in_hours = start <= clock and (end is None or clock < end)
            day = local.date()
        else:
            # Past midnight: the early hours belong to the previous day's shift.
            in_hours = clock >= start or clock < end
            day = local.date() - timedelta(days=1) if clock < end else local.date()
        return in_hours and WEEKDAYS[day.weekday()] in self.days and day not in self.holidays


class RouteMatch(Strict):
    """Conditions of a route; every one given must hold."""

    account: Annotated[list[str], BeforeValidator(as_list)] | None = None
    # Whole words or phrases, case- and accent-insensitive.
    any_words: Words | None = None
    all_words: Words | None = None
    none_words: Words | None = None
    # Python regular expressions, case-insensitive; any of them.
    regex: Annotated[list[str], BeforeValidator(as_list)] | None = None
    hashtags: Annotated[list[str], BeforeValidator(as_list)] | None = None
    # The post's language (X's code, or detected when X gives none).
    lang: Annotated[list[str], BeforeValidator(as_list)] | None = None
    # A list name from `lists:`, or handles written out.
    author_in: str | Handles | None = None
    author_not_in: str | Handles | None = None
    verified: bool | None = None
    followers_at_least: Annotated[int, Field(ge=0)] | None = None
    # True: a reply inside a conversation; false: a post that starts one.
    is_reply: bool | None = None
    has_media: bool | None = None
    # A calendar name from `calendars:`.
    within: str | None = None
    outside: str | None = None

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())


class RouteConfig(Strict):
    name: Key
    match: RouteMatch = RouteMatch()
    to: Annotated[list[str], BeforeValidator(as_list)] = []
    sla: Duration | None = None
    priority: Priority | None = None
    tags: Annotated[list[Key], BeforeValidator(as_list)] = []
    drop: bool = False
    continue_: bool = Field(False, alias="continue")

    @field_validator("sla")
    @classmethod
    def _not_zero(cls, value: timedelta | None) -> timedelta | None:
        # An SLA of 0 would make every mention late the moment it arrives: a typo, not a rule.
        if value is not None and value < timedelta(seconds=1):
            raise ValueError(_("an SLA of at least 1s, such as 30m or 4h; leave it out for 4h"))
        return value


@lru_cache(maxsize=512)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def rule_problems(
    routes: list[RouteConfig],
    *,
    accounts: list[str],
    destinations: list[str],
    lists: dict[str, Any],
    calendars: dict[str, Calendar],
) -> list[Problem]:
    """Everything wrong with the rules that only shows against the rest of the config."""
    problems: list[Problem] = []
    for index, route in enumerate(routes):
        problems += [
            (("routes", index, *path), detail)
            for path, detail in _route_problems(
                route,
                accounts=accounts,
                destinations=destinations,
                lists=lists,
                calendars=calendars,
            )
        ]
    problems += _catch_all_problems(routes)
    return problems


def known_names(names: Iterable[str]) -> str:
    return ", ".join(names) or _("none")


UNKNOWN = {
    "account": N_("unknown account '{name}' (known: {known})"),
    "calendar": N_("unknown calendar '{name}' (known: {known})"),
    "chat": N_("unknown chat '{name}' (known: {known})"),
    "destination": N_("unknown destination '{name}' (known: {known})"),
    "list": N_("unknown list '{name}' (known: {known})"),
    "network": N_("unknown network '{name}' (known: {known})"),
    "person": N_("unknown person '{name}' (known: {known})"),
}


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """A name the config uses but never defines, with the ones it does: "unknown destination
    'humas-slak' (known: humas-slack, supervisors)"."""
    return _(UNKNOWN[kind], name=name, known=known_names(known))


def _route_problems(
    route: RouteConfig,
    *,
    accounts: list[str],
    destinations: list[str],
    lists: dict[str, Any],
    calendars: dict[str, Calendar],
) -> list[Problem]:
    problems: list[Problem] = []
    match = route.match
    for j, destination in enumerate(route.to):
        if destination not in destinations:
            problems.append((("to", j), unknown("destination", destination, destinations)))
    if route.drop and route.to:
        problems.append((("drop",), _("a dropped mention goes nowhere: remove `to` or `drop`")))
    if route.drop and route.continue_:
        problems.append((("continue",), _("`drop` ends routing, so `continue: true` cannot apply")))
    if not route.drop and not route.to:
        problems.append((("to",), _("say where mentions go (`to: [...]`), or `drop: true`")))
    for j, account in enumerate(match.account or []):
        if account not in accounts:
            problems.append((("match", "account", j), unknown("account", account, accounts)))
    for j, pattern in enumerate(match.regex or []):
        try:
            compiled(pattern)
        except re.error as exc:
            problems.append(
                (("match", "regex", j), _("invalid regular expression: {error}", error=exc))
            )
    for field in ("author_in", "author_not_in"):
        value = getattr(match, field)
        if isinstance(value, str) and value not in lists:
            problems.append((("match", field), unknown("list", value, lists)))
    for field in ("within", "outside"):
        value = getattr(match, field)
        if value is not None and value not in calendars:
            problems.append((("match", field), unknown("calendar", value, calendars)))
    if match.within is not None and match.within == match.outside:
        problems.append(
            (
                ("match",),
                _("`within` and `outside` '{calendar}' never both hold", calendar=match.within),
            )
        )
    overlap = {w.casefold() for w in match.none_words or []} & {
        w.casefold() for w in [*(match.any_words or []), *(match.all_words or [])]
    }
    if overlap:
        problems.append(
            (
                ("match", "none_words"),
                _("also required elsewhere: {words}", words=", ".join(sorted(overlap))),
            )
        )
    return problems


def _catch_all_problems(routes: list[RouteConfig]) -> list[Problem]:
    catch_alls = [i for i, r in enumerate(routes) if r.match.is_empty() and not r.continue_]
    if not catch_alls:
        return [
            (
                ("routes",),
                _(
                    "the last route must match everything (no `match`), so that every mention "
                    "is routed or explicitly dropped"
                ),
            )
        ]
    first = catch_alls[0]
    return [
        (
            ("routes", index),
            _(
                "can never match: route '{route}' above it already matches everything",
                route=routes[first].name,
            ),
        )
        for index in range(first + 1, len(routes))
    ]
