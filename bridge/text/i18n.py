"""Every sentence in its reader's language, and times in the reader's time zone.

The English text in the code is the message key (gettext's convention); each other language is
one file, ``bridge/text/locale/<code>/LC_MESSAGES/reachable.po``, read when first needed. Adding a
language means adding that file (``make messages`` refreshes the template it starts from).

Who reads decides the language: a destination's locale for what is posted in its channel or
group, a person's own locale for what only they see (ephemeral answers, forms, private chats),
and :func:`cli_locale` for the terminal. The code that knows the reader enters :func:`speaking`;
everything said inside uses it, through a context variable, so asyncio tasks each keep their
own reader.
"""

from __future__ import annotations

import functools
import gettext
import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

SOURCE_LOCALE = "en"
DOMAIN = "reachable"
LOCALE_DIR = Path(__file__).parent / "locale"
# The CLI's own setting, and the terminal's, in the order POSIX reads them for messages.
LOCALE_VARIABLE = "REACHABLE_LOCALE"
TERMINAL_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")

_locale: ContextVar[str] = ContextVar("reachable_locale", default=SOURCE_LOCALE)
_zone: ContextVar[str] = ContextVar("reachable_zone", default="UTC")


def available_locales() -> tuple[str, ...]:
    """English, and every language with a catalogue."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LOCALE, *found)


def known_locale(locale: str) -> str:
    """``locale`` itself if Reachable speaks it; else a ValueError naming the ones it does."""
    known = available_locales()
    if locale not in known:
        raise ValueError(
            _("unknown locale '{locale}' (known: {known})", locale=locale, known=", ".join(known))
        )
    return locale


def terminal_locale(environ: Mapping[str, str]) -> str | None:
    """The terminal's language when Reachable speaks it: ``id_ID.UTF-8`` is ``id``. The first
    of LC_ALL, LC_MESSAGES and LANG that is set decides; ``C`` and ``POSIX`` name no language."""
    setting = next((environ[name] for name in TERMINAL_VARIABLES if environ.get(name)), "")
    language = re.split(r"[_.@-]", setting, maxsplit=1)[0].lower()
    return language if language in available_locales() else None


def cli_locale(
    option: str | None, environ: Mapping[str, str], configured: str | None = None
) -> str:
    """The language of the CLI: ``--locale``, else REACHABLE_LOCALE, else the terminal's when
    Reachable speaks it, else the config's, else English. A locale asked for by name (the
    option or the variable) must exist: ValueError otherwise, rather than a silent English."""
    for asked in (option, environ.get(LOCALE_VARIABLE)):
        if asked:
            return known_locale(asked)
    return terminal_locale(environ) or configured or SOURCE_LOCALE


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(locale: str) -> gettext.NullTranslations:
    """The language's catalogue, compiled in memory from its .po file (no build step)."""
    if locale == SOURCE_LOCALE:
        return gettext.NullTranslations()
    with catalogue_path(locale).open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy (unreviewed) entries are left out, as gettext does
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@contextmanager
def speaking(locale: str | None = None, zone: str | None = None) -> Iterator[None]:
    """Say everything inside in ``locale`` and show times in ``zone`` (None keeps the current)."""
    locale_token = _locale.set(locale) if locale else None
    zone_token = _zone.set(zone) if zone else None
    try:
        yield
    finally:
        if zone_token is not None:
            _zone.reset(zone_token)
        if locale_token is not None:
            _locale.reset(locale_token)


def neutral() -> AbstractContextManager[None]:
    """No reader yet: English and UTC, as when the process started. The bridge runs inside it
    when started from the CLI, so that the terminal's language never becomes its default."""
    return speaking(SOURCE_LOCALE, "UTC")


def current_locale() -> str:
    return _locale.get()


def current_zone() -> str:
    return _zone.get()


def _(message: str, /, **values: object) -> str:
    """The message in the current language, with ``{name}`` placeholders filled in."""
    text = translations(_locale.get()).gettext(message)
    return text.format(**values) if values else text


def N_(message: str, /) -> str:
    """Mark a message for the catalogue where its reader is not known yet; ``_`` translates it
    where it is shown."""
    return message


def ngettext(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The singular or plural form the current language uses for ``count``; ``{count}`` is
    filled with the number written the language's way (1,234 or 1.234)."""
    text = translations(_locale.get()).ngettext(singular, plural, count)
    return text.format(count=number(count), **values)


def number(value: int) -> str:
    return format_decimal(value, locale=_locale.get())


def duration(delta: timedelta, *, short: bool = False) -> str:
    """A span of time in words: "3 minutes", "2 jam 5 menit", "under a minute"; ``short``
    for tables: "3 min", "2 hr 5 min"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 1:
        return _("under a minute")
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        return _unit(timedelta(days=hours // 24), short)
    parts = [_unit(timedelta(hours=hours), short)] if hours else []
    if minutes:
        parts.append(_unit(timedelta(minutes=minutes), short))
    return " ".join(parts)


def ago(delta: timedelta) -> str:
    """How long ago: "3 minutes ago", "3 menit yang lalu"."""
    if delta < timedelta(minutes=1):
        return _("just now")
    return format_timedelta(
        -delta, threshold=1, add_direction=True, locale=_locale.get(), granularity="minute"
    )


def _unit(delta: timedelta, short: bool = False) -> str:
    return format_timedelta(
        delta,
        threshold=1,
        locale=_locale.get(),
        granularity="minute",
        format="short" if short else "long",
    )


def moment(when: datetime) -> str:
    """A date and time in the reader's zone and language: "29 Nov 12:00 WIB"."""
    zone = ZoneInfo(_zone.get())
    return format_datetime(when, "d MMM HH:mm zzz", tzinfo=zone, locale=_locale.get())


def weekday(when: datetime | date) -> str:
    """The day's short name in the reader's language: "Tue", "Sel"."""
    return format_date(when, "EEE", locale=_locale.get())


def day(when: date) -> str:
    """A day for a chart's axis: "Tue 01 Dec", "Sel 01 Des"."""
    return format_date(when, "EEE dd MMM", locale=_locale.get())


def stamp(when: datetime) -> str:
    """An exact date and time for traces and logs read by a person, in the zone ``when``
    already has: "Tue 2026-12-01 20:00 WIB" (the zone as the time zone database writes it,
    which Babel would spell "+0700" in English)."""
    return f"{weekday(when)} {when:%Y-%m-%d %H:%M %Z}"


def clock(when: datetime) -> str:
    """A time of day in the reader's zone: "12:00 WIB"."""
    zone = ZoneInfo(_zone.get())
    return format_datetime(when, "HH:mm zzz", tzinfo=zone, locale=_locale.get())
