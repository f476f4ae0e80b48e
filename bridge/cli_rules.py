"""``reachable rules ...``: see where a mention would go before the rules go live; and what
every command shares: the config and locale options, loading the config, reading Redis."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from redis.exceptions import RedisError

from bridge import i18n
from bridge.config import Config, load_config
from bridge.durations import parse_duration
from bridge.errors import ConfigError
from bridge.i18n import _, ngettext
from bridge.keys import Keys
from bridge.models import Author, Media, Mention
from bridge.replay import Kept, replay, report, stored_mentions
from bridge.report import report_text
from bridge.routing import decide
from bridge.rules import unknown
from bridge.rules_report import explain, trace_report
from bridge.settings import Settings
from bridge.store import Store, connect

T = TypeVar("T")

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="YAML config file (default: REACHABLE_CONFIG or config/reachable.yaml).",
)
LOCALE_ASKED = "reachable.locale"


def _speak_as_asked(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Keep ``--locale`` for when the config is known, and speak the language chosen without
    the config until then (so that the config's own problems are told in it)."""
    ctx.meta[LOCALE_ASKED] = value
    speak_as_configured(None)


LOCALE_OPTION = click.option(
    "--locale",
    callback=_speak_as_asked,
    expose_value=False,
    is_eager=True,
    help=f"Language of the output: {', '.join(i18n.available_locales())} (default: "
    f"{i18n.LOCALE_VARIABLE}, else the terminal's LANG when Reachable speaks it, else the "
    "config's locale).",
)


def speak_as_configured(config: Config | None) -> None:
    """Say the rest of this command in the CLI's language (:func:`bridge.i18n.cli_locale`),
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
    path = path or Settings().config
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
    settings = Settings()

    async def main() -> T:
        redis = connect(settings.redis_url)
        try:
            return await work(Store(redis, Keys(settings.key_prefix)))
        finally:
            await redis.aclose()

    try:
        return asyncio.run(main())
    except (OSError, RedisError) as exc:
        click.echo(_("cannot read {what} from Redis: {error}", what=what, error=exc), err=True)
        sys.exit(2)


@click.group("rules")
def rules_group() -> None:
    """Read, test and replay the routing rules."""


@rules_group.command("explain")
@CONFIG_OPTION
@LOCALE_OPTION
def rules_explain(config_path: Path | None) -> None:
    """Print the rule table readably: conditions, destinations, lists and calendars."""
    click.echo(explain(load_or_exit(config_path)))


@rules_group.command("test")
@click.argument("text")
@CONFIG_OPTION
@LOCALE_OPTION
@click.option("--account", help="Key of the account mentioned (default: the first one).")
@click.option("--author", default="someone", show_default=True, help="Author's handle.")
@click.option("--lang", help="X's language code; leave out to let Reachable detect it.")
@click.option("--followers", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--verified", is_flag=True, help="The author is verified.")
@click.option("--reply", is_flag=True, help="A reply inside a conversation, not a new post.")
@click.option("--media", is_flag=True, help="The post has a photo or video.")
@click.option("--at", "at_text", help='When it is posted: "2026-12-01 20:00" (default: now).')
@click.option("--tz", help="Time zone of --at and of the output (default: the calendars').")
def rules_test(
    text: str,
    config_path: Path | None,
    account: str | None,
    author: str,
    lang: str | None,
    followers: int,
    verified: bool,
    reply: bool,
    media: bool,
    at_text: str | None,
    tz: str | None,
) -> None:
    """Show where a mention with TEXT would go, and why: every condition of every rule tried."""
    config = load_or_exit(config_path)
    keys = [a.key for a in config.accounts]
    account = account or keys[0]
    if account not in keys:
        raise click.BadParameter(unknown("account", account, keys), param_hint="--account")
    zone = zone_or_exit(tz or config.display_zone())
    at = datetime.now(UTC)
    if at_text:
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            raise click.BadParameter(
                _("'{text}' is not a time like 2026-12-01 20:00", text=at_text), param_hint="--at"
            ) from None
        at = at.replace(tzinfo=zone) if at.tzinfo is None else at
    mention = Mention(
        network="x",
        id="2",
        account=account,
        text=text,
        lang=lang,
        author=Author(id="0", handle=author.lstrip("@"), verified=verified, followers=followers),
        created_at=at,
        conversation_id="1" if reply else "2",
        media=(Media(kind="photo"),) if media else (),
    )
    decision = decide(config, mention, now=at)
    click.echo(trace_report(decision, mention, zone=zone, total_rules=len(config.routes)))


@rules_group.command("replay")
@CONFIG_OPTION
@LOCALE_OPTION
@click.option("--since", default="7d", show_default=True, help="How far back: 24h, 7d...")
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path),
    help="The candidate config to try (default: the config file itself, as edited now).",
)
def rules_replay(config_path: Path | None, since: str, rules_path: Path | None) -> None:
    """Route the mentions kept from the last SINCE with other rules, and show what changes."""
    live = load_or_exit(config_path)
    candidate = load_or_exit(rules_path) if rules_path else live
    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    settings = Settings()
    now = datetime.now(UTC)

    mentions: list[Kept] = read_redis(
        lambda store: stored_mentions(store, since=now - period), what=_("the kept mentions")
    )
    replayed = replay(mentions, candidate=candidate, now=now)
    name = str(rules_path or config_path or settings.config)
    click.echo(report(replayed, since=since, rules_name=name))


@click.command("report")
@CONFIG_OPTION
@LOCALE_OPTION
@click.option("--since", default="7d", show_default=True, help="How far back: 24h, 7d, 30d...")
@click.option("--png", "png_path", type=click.Path(path_type=Path), help="Also draw the chart.")
@click.option("--tz", help="Time zone of days and times (default: the config's).")
def report_command(
    config_path: Path | None, since: str, png_path: Path | None, tz: str | None
) -> None:
    """Mentions, answered share, response times and SLA breaches, by account, route and person."""
    config = load_or_exit(config_path)
    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    zone = zone_or_exit(tz or config.display_zone())
    until = datetime.now(UTC)

    built, text = read_redis(
        lambda store: report_text(store, config, since=until - period, until=until, zone=zone),
        what=_("the threads"),
    )
    click.echo(text)
    if png_path is not None:
        from bridge.report_chart import write_png

        title = _("Time to first response, last {since}", since=since)
        days = write_png(built, png_path, title=title)
        click.echo(
            ngettext(
                "Chart of {count} day written to {path}",
                "Chart of {count} days written to {path}",
                days,
                path=png_path,
            )
        )


def zone_or_exit(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            _("unknown time zone '{zone}'", zone=name), param_hint="--tz"
        ) from None
