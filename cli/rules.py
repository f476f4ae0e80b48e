"""``reachable rules ...`` and ``reachable report``: see where a mention would go before the
rules go live, replay them on what came in, and report on response times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from bridge.desks.report import report_text
from bridge.domain.durations import parse_duration
from bridge.domain.models import Author, Media, Mention
from bridge.domain.routing import decide
from bridge.domain.rules import unknown
from bridge.ops.replay import Kept, replay, report, stored_mentions
from bridge.store.retention import lifetimes_for
from bridge.text import messages
from bridge.text.i18n import N_, _, ngettext
from bridge.text.rules_report import explain, trace_report
from cli.common import (
    CONFIG_OPTION,
    LOCALE_OPTION,
    Command,
    Group,
    load_or_exit,
    option,
    read_redis,
    zone_or_exit,
)


@click.group("rules", cls=Group, help=N_("Read, test and replay the routing rules."))
def rules_group() -> None:
    pass


@rules_group.command(
    "explain",
    help=N_("Print the rule table readably: conditions, destinations, lists and calendars."),
)
@CONFIG_OPTION
@LOCALE_OPTION
def rules_explain(config_path: Path | None) -> None:
    click.echo(explain(load_or_exit(config_path)))


@rules_group.command(
    "test",
    help=N_(
        "Show where a mention with TEXT would go, and why: every condition of every rule tried."
    ),
)
@click.argument("text")
@CONFIG_OPTION
@LOCALE_OPTION
@option("--account", help=N_("Key of the account mentioned (default: the first one)."))
@option("--author", default="someone", show_default=True, help=N_("Author's handle."))
@option("--lang", help=N_("X's language code; leave out to let Reachable detect it."))
@option(
    "--followers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help=N_("How many followers the author has."),
)
@option("--verified", is_flag=True, help=N_("The author is verified."))
@option("--reply", is_flag=True, help=N_("A reply inside a conversation, not a new post."))
@option("--media", is_flag=True, help=N_("The post has a photo or video."))
@option("--at", "at_text", help=N_('When it is posted: "2026-12-01 20:00" (default: now).'))
@option("--tz", help=N_("Time zone of --at and of the output (default: the calendars')."))
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


@rules_group.command(
    "replay",
    help=N_("Route the mentions kept from the last SINCE with other rules, and show what changes."),
)
@CONFIG_OPTION
@LOCALE_OPTION
@option("--since", default="7d", show_default=True, help=N_("How far back: 24h, 7d..."))
@option(
    "--rules",
    "rules_path",
    type=click.Path(path_type=Path),
    help=N_("The candidate config to try (default: the config file itself, as edited now)."),
)
def rules_replay(config_path: Path | None, since: str, rules_path: Path | None) -> None:
    live = load_or_exit(config_path)
    candidate = load_or_exit(rules_path) if rules_path else live
    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    from app.settings import AppSettings

    settings = AppSettings()
    now = datetime.now(UTC)

    mentions: list[Kept] = read_redis(
        lambda store: stored_mentions(store, since=now - period), what=_("the kept mentions")
    )
    replayed = replay(mentions, candidate=candidate, now=now)
    name = str(rules_path or config_path or settings.config)
    click.echo(report(replayed, since=since, rules_name=name))


@click.command(
    "report",
    cls=Command,
    help=N_(
        "Mentions, answered share, response times and SLA breaches, by account, route and person."
    ),
)
@CONFIG_OPTION
@LOCALE_OPTION
@option("--since", default="7d", show_default=True, help=N_("How far back: 24h, 7d, 30d..."))
@option("--png", "png_path", type=click.Path(path_type=Path), help=N_("Also draw the chart."))
@option("--tz", help=N_("Time zone of days and times (default: the config's)."))
def report_command(
    config_path: Path | None, since: str, png_path: Path | None, tz: str | None
) -> None:
    from app.settings import AppSettings

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
    kept = timedelta(
        milliseconds=lifetimes_for(config.retention, AppSettings().retention_scale).threads_ms
    )
    if period > kept:
        before = (until - kept).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        click.echo("\n" + messages.report_retention_note(kept=kept, before=before))
    if png_path is not None:
        from bridge.desks.report_chart import write_png

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
