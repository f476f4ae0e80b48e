"""The ``reachable`` command."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click
from pydantic import ValidationError

from app.config import load_config
from bridge.errors import ConfigError, ReachableError
from bridge.ops.logsafety import redact_from_the_environment, redact_secrets_in_logs
from bridge.settings import Settings
from bridge.text import i18n
from bridge.text.i18n import N_, _, ngettext
from cli.common import (
    CONFIG_OPTION,
    LOCALE_OPTION,
    Group,
    load_or_exit,
    option,
    speak_as_configured,
)
from cli.doctor import doctor_command
from cli.rules import report_command, rules_group

log = logging.getLogger("reachable")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    # httpx logs full URLs (Telegram's carry the bot token); bolt may log bodies at INFO.
    for noisy in ("httpx", "httpcore", "slack_bolt", "slack_sdk", "uvicorn.error", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# Every command and group below is a Command or Group of cli_common: their help is in the
# CLI's language. Give it as help=N_("..."), and options with cli_common.option.
@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=N_("Reachable: answer public mentions of your institution from Slack and Telegram."),
)
def cli() -> None:
    from app.settings import AppSettings

    redact_from_the_environment(AppSettings)


@cli.command(help=N_("Run the bridge."))
@CONFIG_OPTION
@LOCALE_OPTION
@option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["poller", "worker", "web"]),
    help=N_("Run only this role (repeatable). Default: all roles in one process."),
)
def run(config_path: Path | None, roles: tuple[str, ...]) -> None:
    from app.runtime import ROLES, Runtime, stop_on_signals
    from app.settings import AppSettings

    settings = AppSettings()
    setup_logging(settings.log_level)
    redact_secrets_in_logs(settings)
    path = config_path or settings.config
    try:
        config = load_config(path)
    except ConfigError as exc:
        click.echo(_("Not starting: the config has problems.") + f"\n{exc}", err=True)
        sys.exit(2)
    speak_as_configured(config)
    runtime = Runtime(settings=settings, config=config, roles=roles or ROLES, config_path=path)

    async def main() -> None:
        stop = asyncio.Event()
        stop_on_signals(stop)
        await runtime.run(stop)

    try:
        with i18n.neutral():
            asyncio.run(main())
    except ReachableError as exc:
        click.echo(_("Not starting: {error}", error=exc), err=True)
        sys.exit(2)


@cli.command(
    help=N_("Print every attempt to reply or act from chat, allowed or refused, oldest first.")
)
@option("--since", default="7d", show_default=True, help=N_("How far back: 90m, 24h, 7d..."))
@option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help=N_("A config file whose language and time zone to use (default: none, and UTC)."),
)
@LOCALE_OPTION
def audit(since: str, config_path: Path | None) -> None:
    from bridge.desks import audit as audit_log
    from bridge.domain.durations import parse_duration
    from cli.common import read_redis

    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    if config_path is not None:
        load_or_exit(config_path)
    found = read_redis(
        lambda store: audit_log.entries(store, since=period), what=_("the audit log")
    )
    if not found:
        click.echo(_("No audit entries in the last {since}.", since=since))
    for entry in found:
        click.echo(audit_log.format_entry(entry))


@cli.command(
    help=N_(
        "Exit 0 if this machine's Reachable process answers /healthz (for container health)."
        "\n\nA web process answers on REACHABLE_WEB_PORT, the other roles on "
        "REACHABLE_HEALTH_PORT."
    )
)
@LOCALE_OPTION
def healthcheck() -> None:
    import httpx

    # The core's settings are enough (ports only), and loading no platform keeps it quick.
    settings = Settings()
    ports = dict.fromkeys(p for p in (settings.health_port, settings.web_port) if p is not None)
    problems = []
    for port in ports:
        url = f"http://127.0.0.1:{port}/healthz"
        try:
            response = httpx.get(url, timeout=4, trust_env=False)
        except httpx.HTTPError as exc:
            problems.append(_("{url} does not answer ({error})", url=url, error=exc))
            continue
        if response.status_code == 200:
            click.echo("healthy")
            return
        problems.append(
            _(
                "{url} answered {status}: {text}",
                url=url,
                status=response.status_code,
                text=response.text,
            )
        )
    click.echo("unhealthy: " + "; ".join(problems), err=True)
    sys.exit(1)


@cli.command(
    help=N_("Print a new key for REACHABLE_TOKEN_KEY (encrypts linked personal accounts' tokens).")
)
def keygen() -> None:
    from bridge.store.vault import Sealer

    click.echo(Sealer.new_key())


cli.add_command(rules_group)
cli.add_command(report_command)
cli.add_command(doctor_command)


@cli.group("config", help=N_("Check configuration files."))
def config_group() -> None:
    pass


@config_group.command(
    "check",
    help=N_("Check FILE and print a summary, or every problem with its place in the file."),
)
@click.argument("file", type=click.Path(path_type=Path))
@LOCALE_OPTION
def config_check(file: Path) -> None:
    config = load_or_exit(file)
    click.echo(_("{file}: OK", file=file))
    click.echo(config.summary())


@cli.command(
    help=N_("Serve the X, Slack and Telegram emulators on 127.0.0.1 with the demo credentials.")
)
@LOCALE_OPTION
@option("--x-port", default=8701, show_default=True, help=N_("Port of the X emulator."))
@option("--slack-port", default=8702, show_default=True, help=N_("Port of the Slack emulator."))
@option(
    "--telegram-port", default=8703, show_default=True, help=N_("Port of the Telegram emulator.")
)
@option(
    "--bridge-url",
    default="http://127.0.0.1:8700/slack/events",
    show_default=True,
    help=N_("Where the Slack emulator sends signed events and clicks."),
)
@option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True, max=10_000),
    help=N_(
        "How many times faster than real time the platforms' rate windows run (a bridge "
        "against them sets REACHABLE_PLATFORM_TIME_SCALE to the same)."
    ),
)
def emulate(
    x_port: int, slack_port: int, telegram_port: int, bridge_url: str, time_scale: float
) -> None:
    from cli import demo

    setup_logging("INFO")
    ports = {"x": x_port, "slack": slack_port, "telegram": telegram_port}
    try:
        asyncio.run(
            demo.serve_emulators_forever(ports=ports, bridge_url=bridge_url, time_scale=time_scale)
        )
    except ReachableError as exc:
        click.echo(_("Emulators not started: {error}", error=exc), err=True)
        sys.exit(2)


@cli.group(
    "demo",
    invoke_without_command=True,
    help=N_("Run the whole bridge against local emulators and show what staff would see."),
)
@option("--no-seed", is_flag=True, help=N_("Do not post the sample mentions."))
@option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("config/demo.yaml"),
    show_default=True,
    help=N_("The demo's config file."),
)
@LOCALE_OPTION
@click.pass_context
def demo_group(ctx: click.Context, no_seed: bool, config_path: Path) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from cli import demo

    setup_logging("WARNING")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(_("Not starting: the demo config has problems.") + f"\n{exc}", err=True)
        sys.exit(2)
    speak_as_configured(config)
    try:
        asyncio.run(demo.run_demo(config, config_path=config_path, seed=not no_seed))
    except ReachableError as exc:
        click.echo(_("Demo stopped: {error}", error=exc), err=True)
        sys.exit(2)


X_URL_OPTION = option(
    "--x-url",
    default="http://127.0.0.1:8701",
    show_default=True,
    help=N_("The running X emulator."),
)


@demo_group.command("post", help=N_("Post TEXT on the X emulator as a member of the public."))
@click.argument("text")
@option("--author", default="warga_budi", show_default=True, help=N_("Who posts it on X."))
@option("--reply-to", default=None, help=N_("Id of the post this one answers."))
@X_URL_OPTION
@LOCALE_OPTION
def demo_post(text: str, author: str, reply_to: str | None, x_url: str) -> None:
    from cli import demo

    try:
        post = demo.post_to_x_emulator(x_url, author=author, text=text, in_reply_to=reply_to)
    except ReachableError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(
        _(
            "Posted {id} as @{author}; it appears in Slack within a few seconds.",
            id=post["id"],
            author=author,
        )
    )


@demo_group.command(
    "burst",
    help=N_(
        "Post COUNT mentions on the X emulator at once, as a viral post brings them: the chats "
        "show a few and fold the rest into digests."
    ),
)
@option(
    "--count",
    default=60,
    show_default=True,
    type=click.IntRange(1, 800),
    help=N_("How many mentions (X's mentions timeline reaches back 800)."),
)
@X_URL_OPTION
@LOCALE_OPTION
def demo_burst(count: int, x_url: str) -> None:
    from cli import demo

    try:
        demo.post_burst(x_url, count=count)
    except ReachableError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(
        ngettext(
            "Posted {count} mention. The chats show it within a few seconds.",
            "Posted {count} mentions. The chats show the first ones within a few seconds and "
            "fold the rest into a digest within half a minute; /unanswered lists them all.",
            count,
        )
    )


def main() -> None:
    try:
        cli()
    except ValidationError as exc:
        from app.settings import AppSettings

        if exc.title != AppSettings.__name__:
            raise
        # A setting from the environment or .env that cannot be used: say which and why.
        for problem in exc.errors():
            name = "REACHABLE_" + "_".join(str(part) for part in problem["loc"]).upper()
            error = (problem.get("ctx") or {}).get("error")
            click.echo(f"{name}: {error or problem['msg']}", err=True)
        sys.exit(2)
