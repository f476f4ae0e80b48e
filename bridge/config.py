"""The YAML configuration: institutional accounts, chat destinations, people and routes.

Loading never half-succeeds: :func:`load_config` returns a fully checked :class:`Config` or
raises :class:`~bridge.errors.ConfigError` listing every problem with the file, the line and the
path inside the file (``routes[1].to[0]: unknown destination 'humas-slak' (known: ...)``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from bridge.chats import BurstConfig, ChatDestination, ChatPlatform, Locale, Zone
from bridge.config_wording import format_loc, humanise, without_union_tag, yaml_lines
from bridge.domain.durations import format_duration
from bridge.domain.rules import (
    DEFAULT_SLA,
    Calendar,
    Duration,
    Handles,
    Key,
    RouteConfig,
    RouteMatch,
    Strict,
    known_names,
    known_zone,
    rule_problems,
    unknown,
)
from bridge.errors import ConfigError
from bridge.networks import NetworkPlatform, handle_problems
from bridge.text import i18n
from bridge.text.i18n import _, ngettext
from bridge.text.messages import priority_name

__all__ = [
    "BurstConfig",
    "ChatDestination",
    "Config",
    "ConfigError",
    "Destination",
    "RouteConfig",
    "RouteMatch",
    "load_config",
    "parse_config",
]


ROLES = ("staff", "supervisor", "admin")
# As long as Slack lets a display name be.
PERSON_NAME_LIMIT = 80


def _strip_at(value: object) -> object:
    return value.lstrip("@") if isinstance(value, str) else value


class AccountConfig(Strict):
    """An institutional account whose mentions we watch. In the config that is parsed,
    ``network`` is one of the networks it was read with (the first when it names none), and the
    handle has that network's form."""

    key: Key
    network: str
    handle: Annotated[str, BeforeValidator(_strip_at)]
    user_id: Annotated[str, Field(pattern=r"^\d+$")] | None = None
    poll_every: Duration = timedelta(seconds=60)
    backfill: Annotated[int, Field(ge=0, le=100)] = 10


# Where mentions are mirrored; each chat's adapter gives its own kind (bridge/chats.py).
Destination = ChatDestination


class PersonConfig(Strict):
    """A staff member, known by chat user ids; never by display name. The config that is
    parsed has a field per chat for the person's user id there (``slack: U0RINA``), which
    :meth:`chat_user` reads."""

    key: Key
    name: str | None = None
    roles: list[Literal["staff", "supervisor", "admin"]] = ["staff"]
    speaks_for: list[str] = []
    # The language and time zone of what only this person sees: answers to their buttons and
    # commands, forms, private chats (default: the config's).
    locale: Locale | None = None
    timezone: Zone | None = None

    @field_validator("name")
    @classmethod
    def _shown_name(cls, value: str | None) -> str | None:
        """Chat shows the name on every message the person acts on ("Rina is on it"), where
        the platforms' limits leave room for a name, not for a paragraph."""
        if value is not None and (not value.strip() or len(value) > PERSON_NAME_LIMIT):
            raise ValueError(_("a name of 1 to {limit} characters", limit=PERSON_NAME_LIMIT))
        return value

    def chat_user(self, chat: str) -> str | None:
        """The person's user id in ``chat``, if the config gives one."""
        user = getattr(self, chat, None)
        return None if user is None else str(user)


class ReportsConfig(Strict):
    """A report posted on a schedule: every `every` from `at` (local time), covering the period
    since the previous one."""

    to: str
    every: Duration = timedelta(days=1)
    at: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "08:00"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("every")
    @classmethod
    def _at_least_a_second(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError(_("a report interval of at least 1s (1d for daily, 7d for weekly)"))
        return value

    def next_due(self, now: datetime) -> datetime:
        """The first scheduled time at or after ``now``."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        hours, minutes = (int(part) for part in self.at.split(":"))
        anchor = local.replace(hour=hours, minute=minutes, second=0, microsecond=0)
        if anchor > local:
            anchor -= timedelta(days=1)
        steps = -(-(local - anchor) // self.every)
        return (anchor + steps * self.every).astimezone(now.tzinfo)


class EscalationConfig(Strict):
    """Where threads still unanswered at their SLA deadline go, and how often to remind."""

    to: str
    # After the escalation, a reminder at this interval until answered or dismissed; `null`
    # for no reminders.
    remind_every: Duration | None = timedelta(minutes=30)

    @field_validator("remind_every")
    @classmethod
    def _not_zero(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(seconds=1):
            raise ValueError(_("a reminder interval of at least 1s, or null for no reminders"))
        return value


class RetentionConfig(Strict):
    """How long Reachable keeps what it no longer needs, so Redis does not grow without bound.
    Open threads are kept however old; a thread's clock starts when it is answered or
    dismissed, and a new mention (which reopens it) stops it again."""

    # A closed thread and everything hanging off it: its mentions, mirrors, the index of its
    # chat messages. Reports count threads by when they were created: a report reaching back
    # further than this lacks the threads closed before then.
    threads: Duration = timedelta(days=180)
    # The record of a finished chat post, edit or X reply. Stages acknowledge an entry in the
    # step that finishes its effect, so only an entry added again can meet the record again:
    # a mention polled twice (the next poll), an event a platform sends again (a Telegram
    # update within 24 h). A day covers them all; unfinished records are kept with the thread.
    effects: Duration = timedelta(days=7)
    # Entries of the streams between stages, once every reader has acknowledged them.
    streams: Duration = timedelta(days=1)
    # The audit log: who tried to act, as whom, allowed or refused.
    audit: Duration = timedelta(days=400)
    # Mentions a rule dropped (spam), kept for `reachable audit` and `rules replay`.
    dropped: Duration = timedelta(days=30)

    @field_validator("threads", "effects", "audit", "dropped")
    @classmethod
    def _at_least_a_day(cls, value: timedelta) -> timedelta:
        if value < timedelta(days=1):
            raise ValueError(_("at least 1d"))
        return value


class Config(Strict):
    """The whole file. :func:`parse_config` reads it, with the chats' own parts."""

    accounts: Annotated[list[AccountConfig], Field(min_length=1)]
    destinations: Annotated[dict[str, ChatDestination], Field(min_length=1)]
    people: list[PersonConfig] = []
    routes: Annotated[list[RouteConfig], Field(min_length=1)]
    # Named lists of X handles for `author_in` / `author_not_in` (VIPs, blocked accounts).
    lists: dict[Key, Handles] = {}
    # Named calendars (office hours) for `within` / `outside`.
    calendars: dict[Key, Calendar] = {}
    # When X gives a post no language, it is detected among these (all known ones if empty).
    detect_languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = []
    escalation: EscalationConfig | None = None
    reports: ReportsConfig | None = None
    # Burst folding, for every destination that sets none of its own.
    bursts: BurstConfig = BurstConfig()
    retention: RetentionConfig = RetentionConfig()
    # The language and time zone used where a destination or a person names none.
    locale: Locale = i18n.SOURCE_LOCALE
    timezone: Zone | None = None
    _chats: dict[str, ChatPlatform] = PrivateAttr(default_factory=dict)
    _networks: dict[str, NetworkPlatform] = PrivateAttr(default_factory=dict)
    _base: type[Config] | None = PrivateAttr(default=None)

    @property
    def chat_platforms(self) -> tuple[ChatPlatform, ...]:
        """The chats this config was read with (each chat's own destinations and user ids)."""
        return tuple(self._chats.values())

    def chat_platform(self, chat: str) -> ChatPlatform:
        """What the core knows of ``chat``: its command style, its help, its name."""
        return self._chats[chat]

    @property
    def network_platforms(self) -> tuple[NetworkPlatform, ...]:
        """The networks this config was read with."""
        return tuple(self._networks.values())

    def network_platform(self, network: str) -> NetworkPlatform:
        """What the core knows of ``network``: its name as people know it, its settings."""
        return self._networks[network]

    def network_label(self, network: str) -> str:
        """``network`` as people call it ("X"); its own name when this config does not know
        it (a thread of a network no longer run)."""
        known = self._networks.get(network)
        return known.label if known else network

    def parse_like(self, text: str, *, source: str) -> Config:
        """A new text read as this config was: with the same chats and networks, into the
        same model."""
        if self._base is None:
            raise ValueError("only a config read by parse_config knows how it was read")
        return parse_config(
            text,
            chats=self.chat_platforms,
            networks=tuple(self._networks.values()),
            source=source,
            base=self._base,
        )

    def own_problems(self) -> list[tuple[tuple[int | str, ...], str]]:
        """Problems a config that adds sections of its own finds in them, with their place in
        the file (``("demo", "linked_accounts", "rina")``); checked with the core's."""
        return []

    def person_name(self, key: str | None, *, unknown: str = "someone") -> str:
        """How chat calls a person: their name, else their key; ``unknown`` for nobody."""
        person = next((p for p in self.people if p.key == key), None)
        return (person.name or person.key) if person else (key or unknown)

    def display_zone(self) -> str:
        """The time zone to show times in: the config's, else the calendars' when they agree
        on one, else UTC."""
        if self.timezone:
            return self.timezone
        zones = {calendar.timezone for calendar in self.calendars.values()}
        return zones.pop() if len(zones) == 1 else "UTC"

    def speaking_to(
        self, destination: ChatDestination | str | None
    ) -> AbstractContextManager[None]:
        """Say what is posted into a destination (given by key or itself) in its language."""
        if isinstance(destination, str):
            destination = self.destinations.get(destination)
        locale = (destination.locale if destination else None) or self.locale
        zone = (destination.timezone if destination else None) or self.display_zone()
        return i18n.speaking(locale, zone)

    def speaking_with(
        self,
        person: PersonConfig | None,
        *,
        where: ChatDestination | None = None,
    ) -> AbstractContextManager[None]:
        """Say what only this person sees in their language; without one of their own, in the
        language of the destination ``where`` they are acting."""
        locale = (person.locale if person else None) or (where.locale if where else None)
        zone = (person.timezone if person else None) or (where.timezone if where else None)
        return i18n.speaking(locale or self.locale, zone or self.display_zone())

    def bursts_for(self, destination: ChatDestination) -> BurstConfig:
        return destination.bursts or self.bursts

    def destination_at(
        self, chat: str, address: str | None, topic: int | None = None
    ) -> ChatDestination | None:
        """The destination behind a chat's channel or group id, if any."""
        key = self.destination_key_at(chat, address, topic)
        return self.destinations[key] if key is not None else None

    def destination_key_at(
        self, chat: str, address: str | None, topic: int | None = None
    ) -> str | None:
        """The name of the destination behind a chat's channel or group id, if any. In a
        Telegram forum with a destination per topic, the one of ``topic`` (where a message
        was written), else the one for the whole group, else the first."""
        found = [
            (key, getattr(d, "topic", None))
            for key, d in self.destinations.items()
            if d.chat == chat and d.address == address
        ]
        for wanted in (topic, None):
            if match := next((key for key, at in found if at == wanted), None):
                return match
        return found[0][0] if found else None

    def account(self, key: str) -> AccountConfig:
        for account in self.accounts:
            if account.key == key:
                return account
        raise KeyError(key)

    def summary(self) -> str:
        """What the file sets up, as `reachable config check` shows it."""
        lines = [ngettext("{count} account:", "{count} accounts:", len(self.accounts))]
        lines += [
            "  "
            + _(
                "{key}: @{handle} on {network}, polled every {every}",
                key=a.key,
                handle=a.handle,
                network=a.network,
                every=format_duration(a.poll_every),
            )
            for a in self.accounts
        ]
        lines.append(
            ngettext("{count} destination:", "{count} destinations:", len(self.destinations))
        )
        lines += [f"  {k}: {d.describe()}" for k, d in self.destinations.items()]
        lines.append(ngettext("{count} person:", "{count} people:", len(self.people)))
        lines += [f"  {p.key}: {_person_summary(p)}" for p in self.people]
        lines.append(
            ngettext(
                "{count} route, first match wins:",
                "{count} routes, first match wins:",
                len(self.routes),
            )
        )
        lines += [f"  {r.name}: {_route_summary(r)}" for r in self.routes]
        if self.escalation:
            lines.append(_("escalation: -> {destination}", destination=self.escalation.to))
        return "\n".join(lines)


ConfigT = TypeVar("ConfigT", bound=Config)


def _person_summary(person: PersonConfig) -> str:
    roles = ", ".join(person.roles)
    if not person.speaks_for:
        return roles
    return _("{roles}; speaks for {accounts}", roles=roles, accounts=", ".join(person.speaks_for))


def _route_summary(route: RouteConfig) -> str:
    if route.drop:
        return _("dropped")
    return _(
        "-> {destinations} (SLA {sla}, {priority})",
        destinations=", ".join(route.to),
        sla=format_duration(route.sla or DEFAULT_SLA),
        priority=priority_name(route.priority or "normal"),
    )


# -- loading -------------------------------------------------------------------------------------


def _cross_check(config: Config) -> list[tuple[tuple[int | str, ...], str]]:
    """Problems that only show when the parts are looked at together."""
    problems: list[tuple[tuple[int | str, ...], str]] = []
    accounts = [a.key for a in config.accounts]
    destinations = list(config.destinations)
    chats = [chat.name for chat in config.chat_platforms]
    for section, keys in (
        ("accounts", accounts),
        ("people", [p.key for p in config.people]),
        ("routes", [r.name for r in config.routes]),
    ):
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                field = "name" if section == "routes" else "key"
                problems.append(((section, index, field), _duplicate(field, key)))
            seen.add(key)
    for index, person in enumerate(config.people):
        for j, account in enumerate(person.speaks_for):
            if account not in accounts:
                where = ("people", index, "speaks_for", j)
                problems.append((where, unknown("account", account, accounts)))
        if not any(person.chat_user(chat) for chat in chats):
            wanted = _("a person needs a chat user id (one of: {chats})", chats=known_names(chats))
            problems.append((("people", index), wanted))
    problems += rule_problems(
        config.routes,
        accounts=accounts,
        destinations=destinations,
        lists=config.lists,
        calendars=config.calendars,
    )
    if config.reports and config.reports.to not in destinations:
        problems.append(
            (("reports", "to"), unknown("destination", config.reports.to, destinations))
        )
    if config.escalation and config.escalation.to not in destinations:
        wanted = config.escalation.to
        problems.append((("escalation", "to"), unknown("destination", wanted, destinations)))
    if config.reports and config.reports.every > config.retention.threads:
        problems.append(
            (
                ("retention", "threads"),
                _(
                    "keep threads at least as long as the reports' period ({every}): a "
                    "report must find every thread of its period",
                    every=format_duration(config.reports.every),
                ),
            )
        )
    problems += handle_problems(config.lists, config.routes, config.network_platforms)
    return problems + config.own_problems()


def _duplicate(field: str, value: str) -> str:
    if field == "name":
        return _("duplicate name '{value}'", value=value)
    return _("duplicate key '{value}'", value=value)


def parse_config(
    text: str,
    *,
    chats: Sequence[ChatPlatform],
    networks: Sequence[NetworkPlatform],
    base: type[ConfigT],
    source: str = "<config>",
) -> ConfigT:
    """Parse and check a configuration text, whose destinations and people are in ``chats``
    and accounts on ``networks``, into ``base`` (``Config``, or one adding sections of its
    own); raise ConfigError naming every problem."""
    if not chats or not networks:
        raise ValueError("a config is read with a chat and a network at least (app/config.py)")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        said = _("not valid YAML: {problem}", problem=problem)
        if mark:
            said = _(
                "line {line}, column {column}: {problem}",
                line=mark.line + 1,
                column=mark.column + 1,
                problem=said,
            )
        raise ConfigError(source, [("", said)]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            source,
            [("", _("the file must be a mapping with accounts, destinations, people and routes"))],
        )
    lines = dict(yaml_lines(root)) if root is not None else {}

    def located(loc: tuple[int | str, ...]) -> str:
        probe = loc
        while probe and probe not in lines:
            probe = probe[:-1]
        line = lines.get(probe)
        return (
            _("line {line}: {path}", line=line, path=format_loc(loc)) if line else format_loc(loc)
        )

    try:
        model: type[ConfigT] = config_model(tuple(chats), tuple(networks), base)
        config = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = located(without_union_tag(tuple(error["loc"]), chats))
            problems.append((where, humanise(error, chats, networks)))
        raise ConfigError(source, problems) from None
    config._chats = {chat.name: chat for chat in chats}
    config._networks = {network.name: network for network in networks}
    config._base = base
    cross = _cross_check(config)
    if cross:
        raise ConfigError(source, [(located(loc), detail) for loc, detail in cross])
    return config


def load_config(
    path: str | Path,
    *,
    chats: Sequence[ChatPlatform],
    networks: Sequence[NetworkPlatform],
    base: type[ConfigT],
) -> ConfigT:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), [("", _("file not found"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            str(path), [("", _("cannot read the file: {error}", error=exc))]
        ) from None
    return parse_config(text, chats=chats, networks=networks, base=base, source=str(path))


@functools.cache
def config_model(
    chats: tuple[ChatPlatform, ...], networks: tuple[NetworkPlatform, ...], base: type[ConfigT]
) -> type[ConfigT]:
    """``base`` with ``chats`` and ``networks``: the chats' destinations under
    ``destinations:``, a field per chat for a person's user id there, accounts on the
    networks."""
    person: Any = person_model(chats)
    account: Any = account_model(networks)
    kinds: Any = Union[tuple(chat.destination for chat in chats)]  # noqa: UP007
    if len(chats) > 1:
        kinds = Annotated[kinds, Field(discriminator="chat")]
    model: type[ConfigT] = create_model(
        base.__name__,
        __base__=base,
        destinations=(Annotated[dict[str, kinds], Field(min_length=1)], ...),
        people=(list[person], []),
        accounts=(Annotated[list[account], Field(min_length=1)], ...),
    )
    return model


@functools.cache
def account_model(networks: tuple[NetworkPlatform, ...]) -> type[AccountConfig]:
    """An account on one of ``networks`` (the first by default), its handle in that network's
    form."""
    known = {network.name: network for network in networks}

    def handle_form(cls: type[AccountConfig], handle: str, info: ValidationInfo) -> str:
        network = known.get(info.data.get("network", ""))
        if network is not None and not re.fullmatch(network.handle_pattern, handle):
            hint = network.handle_hint()
            raise ValueError(_("'{value}' is not valid here ({hint})", value=handle, hint=hint))
        return handle

    names: Any = Literal[tuple(known)]
    model: type[AccountConfig] = create_model(
        "AccountConfig",
        __base__=AccountConfig,
        __validators__={"handle_form": field_validator("handle")(handle_form)},
        network=(names, networks[0].name),
    )
    return model


@functools.cache
def person_model(chats: tuple[ChatPlatform, ...]) -> type[PersonConfig]:
    """A person with a field per chat in ``chats`` for their user id there."""
    for chat in chats:
        if chat.name in PersonConfig.model_fields or hasattr(PersonConfig, chat.name):
            raise ValueError(f"a chat cannot be named {chat.name!r}: a person has that already")
    fields: Any = {chat.name: (chat.user_id | None, None) for chat in chats}
    model: type[PersonConfig] = create_model("PersonConfig", __base__=PersonConfig, **fields)
    return model
