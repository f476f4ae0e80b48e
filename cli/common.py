"""What every command of the CLI shares: help in the CLI's language, the config and locale
options, loading the config, reading Redis."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Self, TypeVar, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from redis.exceptions import RedisError

from app.config import load_config
from bridge.config import Config
from bridge.errors import ConfigError
from bridge.store.keys import Keys
from bridge.store.redisconn import open_redis
from bridge.store.store import Store
from bridge.text import i18n
from bridge.text.i18n import N_, _, ngettext

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

LOCALE_ASKED = "reachable.locale"
SHOW_HELP = N_("Show this message and exit.")


def help_locale(ctx: click.Context) -> str:
    """The language of ``--help``, which is shown before the config is read and while the
    options are still being read: ``--locale`` when it came before ``--help``, else
    REACHABLE_LOCALE, else the terminal's language, else English. An unknown locale asked for
    leaves the help in English (the command itself refuses it)."""
    try:
        return i18n.cli_locale(ctx.meta.get(LOCALE_ASKED), os.environ)
    except ValueError:
        return i18n.SOURCE_LOCALE


class InCliLanguage:
    """A help text of the CLI, read in the current language. The English text given (a
    message of the catalogue, marked with ``N_``) is kept as ``english_<name>``; click reads
    the attribute while :meth:`Command.get_help` speaks the help's language, so the same
    command reads in English or Bahasa Indonesia. ``{placeholders}`` are filled from the
    owner's ``help_values``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.english = f"english_{name}"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> str | None: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> str | Self | None:
        if obj is None:
            return self
        text: str | None = vars(obj).get(self.english)
        return _(text, **getattr(obj, "help_values", {})) if text else text

    def __set__(self, obj: object, text: str | None) -> None:
        vars(obj)[self.english] = text


class Option(click.Option):
    """An option whose ``help`` is shown in the CLI's language; ``help_values`` fill its
    ``{placeholders}``. Declare options with :func:`option`."""

    help = InCliLanguage()

    def __init__(
        self, *args: Any, help_values: Mapping[str, object] | None = None, **attrs: Any
    ) -> None:
        self.help_values = dict(help_values or {})
        super().__init__(*args, **attrs)


def option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` with its help in the CLI's language: ``help=N_("...")``."""
    return click.option(*param_decls, cls=Option, **attrs)


class Command(click.Command):
    """A command whose help page (its description, the short help its group lists, every
    option's help) is in the CLI's language. Its text is ``help=N_("...")``, not a docstring,
    so that ``make messages`` finds it."""

    help = InCliLanguage()
    short_help = InCliLanguage()

    def get_help(self, ctx: click.Context) -> str:
        with i18n.speaking(help_locale(ctx)):
            return super().get_help(ctx)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """click's ``--help``, whose own help is said in the current language."""
        help_option = super().get_help_option(ctx)
        if help_option is not None:
            help_option.help = _(SHOW_HELP)
        return help_option


class Group(Command, click.Group):
    """A group of :class:`Command`; its subcommands and subgroups get these classes too."""

    command_class = Command
    group_class = type


CONFIG_OPTION = option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help=N_("YAML config file (default: REACHABLE_CONFIG or config/reachable.yaml)."),
)


def _speak_as_asked(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Keep ``--locale`` for when the config is known, and speak the language chosen without
    the config until then (so that the config's own problems are told in it)."""
    ctx.meta[LOCALE_ASKED] = value
    speak_as_configured(None)


LOCALE_OPTION = option(
    "--locale",
    callback=_speak_as_asked,
    expose_value=False,
    is_eager=True,
    help=N_(
        "Language of the output: {locales} (default: REACHABLE_LOCALE, else the terminal's "
        "LANG when Reachable speaks it, else the config's locale)."
    ),
    help_values={"locales": ", ".join(i18n.available_locales())},
)


def speak_as_configured(config: Config | None) -> None:
    """Say the rest of this command in the CLI's language (:func:`bridge.text.i18n.cli_locale`),
    now that ``config`` is known, with dates in its time zone. An unknown locale asked for is
    a usage error (exit code 2) before anything is done."""
    ctx = click.get_current_context()
    asked = ctx.meta.get(LOCALE_ASKED)
    configured = config.locale if config else None
    try:
        locale = i18n.cli_locale(asked, os.environ, configured)
    except ValueError as exc:
        hint = "--locale" if asked else i18n.LOCALE_VARIABLE
        raise click.BadParameter(str(exc), param_hint=hint) from None
    ctx.with_resource(i18n.speaking(locale, config.display_zone() if config else None))


def load_or_exit(path: Path | None) -> Config:
    """The config, with the rest of the command in its language; or every problem, and exit 1."""
    from app.settings import AppSettings

    path = path or AppSettings().config
    try:
        config = load_config(path)
    except ConfigError as exc:
        _echo_problems(exc)
        sys.exit(1)
    speak_as_configured(config)
    return config


def _echo_problems(error: ConfigError) -> None:
    """Every problem of a config file, on stderr, one a line under a count."""
    count = len(error.problems)
    click.echo(
        ngettext("{file}: {count} problem:", "{file}: {count} problems:", count, file=error.source),
        err=True,
    )
    for where, detail in error.problems:
        click.echo(f"  {where}: {detail}" if where else f"  {detail}", err=True)


def read_redis(work: Callable[[Store], Awaitable[T]], *, what: str) -> T:
    """Run ``work`` against the deployment's Redis (REACHABLE_REDIS_URL, key prefix), or exit
    saying what could not be read."""
    from app.settings import AppSettings

    settings = AppSettings()

    async def main() -> T:
        redis = open_redis(settings)
        try:
            return await work(Store(redis, Keys(settings.key_prefix)))
        finally:
            await redis.aclose()

    try:
        return asyncio.run(main())
    except (OSError, RedisError) as exc:
        click.echo(_("cannot read {what} from Redis: {error}", what=what, error=exc), err=True)
        sys.exit(2)


def zone_or_exit(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            _("unknown time zone '{zone}'", zone=name), param_hint="--tz"
        ) from None
