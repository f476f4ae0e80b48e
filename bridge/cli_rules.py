"""``reachable rules ...``: see where a mention would go before the rules go live."""

from __future__ import annotations

import asyncio
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
from bridge.keys import Keys
from bridge.models import Author, Media, Mention
from bridge.replay import Kept, replay, report, stored_mentions
from bridge.report import report_text
from bridge.routing import decide
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


def load_or_exit(path: Path | None) -> Config:
    path = path or Settings().config
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(f"{path}: {len(exc.problems)} problem(s):", err=True)
        for where, detail in exc.problems:
            click.echo(f"  {where}: {detail}" if where else f"  {detail}", err=True)
        sys.exit(1)


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
        click.echo(f"cannot read {what} from Redis: {exc}", err=True)
        sys.exit(2)


@click.group("rules")
def rules_group() -> None:
    """Read, test and replay the routing rules."""


@rules_group.command("explain")
@CONFIG_OPTION
def rules_explain(config_path: Path | None) -> None:
    """Print the rule table readably: conditions, destinations, lists and calendars."""
    click.echo(explain(load_or_exit(config_path)))


@rules_group.command("test")
@click.argument("text")
@CONFIG_OPTION
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
        raise click.BadParameter(f"unknown account {account!r} (known: {', '.join(keys)})")
    try:
        zone = ZoneInfo(tz or config.display_zone())
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {tz!r}", param_hint="--tz") from None
    at = datetime.now(UTC)
    if at_text:
        try:
            at = datetime.fromisoformat(at_text)
        except ValueError:
            raise click.BadParameter(
                f"{at_text!r} is not a time like 2026-12-01 20:00", param_hint="--at"
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
        lambda store: stored_mentions(store, since=now - period), what="the kept mentions"
    )
    replayed = replay(mentions, candidate=candidate, now=now)
    name = str(rules_path or config_path or settings.config)
    click.echo(report(replayed, since=since, rules_name=name))


@click.command("report")
@CONFIG_OPTION
@click.option("--since", default="7d", show_default=True, help="How far back: 24h, 7d, 30d...")
@click.option("--png", "png_path", type=click.Path(path_type=Path), help="Also draw the chart.")
@click.option("--tz", help="Time zone of days and times (default: the config's).")
@click.option(
    "--locale",
    type=click.Choice(list(i18n.available_locales())),
    help="Language of the report (default: the config's locale).",
)
def report_command(
    config_path: Path | None,
    since: str,
    png_path: Path | None,
    tz: str | None,
    locale: str | None,
) -> None:
    """Mentions, answered share, response times and SLA breaches, by account, route and person."""
    config = load_or_exit(config_path)
    with i18n.speaking(locale or config.locale):
        _report(config, since, png_path, tz)


def _report(config: Config, since: str, png_path: Path | None, tz: str | None) -> None:
    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    try:
        zone = ZoneInfo(tz or config.display_zone())
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {tz!r}", param_hint="--tz") from None
    until = datetime.now(UTC)

    built, text = read_redis(
        lambda store: report_text(store, config, since=until - period, until=until, zone=zone),
        what="the threads",
    )
    click.echo(text)
    if png_path is not None:
        from bridge.report_chart import write_png

        days = write_png(built, png_path, title=f"Time to first response, last {since}")
        click.echo(f"Chart of {days} day(s) written to {png_path}")
