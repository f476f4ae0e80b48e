"""`reachable doctor`: the go-live check, as a table with a fix for every problem."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from bridge.ops.doctor import blocks_go_live, examine, render_table
from bridge.store.keys import Keys
from bridge.store.redisconn import open_redis
from bridge.store.store import Store
from bridge.text.i18n import N_, _
from cli.common import CONFIG_OPTION, LOCALE_OPTION, Command, load_or_exit


@click.command(
    "doctor",
    cls=Command,
    help=N_(
        "Check a deployment before go-live: Redis, the key, clocks, and every platform's "
        "credentials, scopes, channels and bot memberships. Exits 1 when anything blocks "
        "go-live.\n\nIt makes a few read calls on each platform (on X, one user lookup and one "
        "page of at most 5 mentions per account) and posts nothing."
    ),
)
@CONFIG_OPTION
@LOCALE_OPTION
def doctor_command(config_path: Path | None) -> None:
    from app import registry
    from app.settings import AppSettings

    settings = AppSettings()
    config = load_or_exit(config_path)
    platforms = sorted(
        {a.network for a in config.accounts} | {d.chat for d in config.destinations.values()}
    )
    click.echo(
        _("Checking Redis, the key, clocks, {platforms}…", platforms=", ".join(platforms)),
        err=True,
    )

    async def main() -> int:
        redis = open_redis(settings)
        try:
            findings = await examine(
                settings,
                config,
                Store(redis, Keys(settings.key_prefix)),
                registry.DOCTORS,
                registry.API_URLS,
            )
        finally:
            await redis.aclose()
        click.echo(render_table(findings))
        return 1 if blocks_go_live(findings) else 0

    sys.exit(asyncio.run(main()))
