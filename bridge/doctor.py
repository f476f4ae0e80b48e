"""`reachable doctor`: is this deployment ready to go live?

Checks what the bridge cannot fix for itself and would otherwise discover in production: Redis
(answers, keeps data across restarts, recent enough, never evicts), the encryption key, the
clocks, and through each platform's own checks, every credential, scope, channel and bot
membership. Each finding says what is wrong and how to fix it; any failure makes the exit
code non-zero.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

import httpx
from redis.exceptions import RedisError

from bridge.config import Config
from bridge.errors import ReachableError
from bridge.i18n import _, ngettext
from bridge.settings import Settings
from bridge.store import Store
from bridge.vault import Sealer, TokenVault

MIN_REDIS = (6, 2)  # XAUTOCLAIM
CLOCK_WARN_S = 30.0
# Slack refuses requests signed more than 300 s away from its clock, X OAuth 1.0a signatures
# fail at about the same distance: well before that, the bridge stops working.
CLOCK_FAIL_S = 240.0
CHECK_TIMEOUT_S = 20.0


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"

    def label(self) -> str:
        """The status as the table shows it, in the reader's language."""
        return {Status.OK: _("ok"), Status.WARN: _("warn"), Status.FAIL: _("FAIL")}[self]


@dataclass(frozen=True)
class Finding:
    area: str
    check: str
    status: Status
    detail: str
    fix: str = ""


def ok(area: str, check: str, detail: str) -> Finding:
    return Finding(area, check, Status.OK, detail)


def warn(area: str, check: str, detail: str, fix: str) -> Finding:
    return Finding(area, check, Status.WARN, detail, fix)


def fail(area: str, check: str, detail: str, fix: str) -> Finding:
    return Finding(area, check, Status.FAIL, detail, fix)


@dataclass(frozen=True)
class DoctorContext:
    settings: Settings
    config: Config
    store: Store | None


PlatformDoctor = Callable[[DoctorContext], Awaitable[list[Finding]]]


async def examine(
    settings: Settings,
    config: Config,
    store: Store,
    doctors: Mapping[str, PlatformDoctor],
) -> list[Finding]:
    """Every finding, in a stable order: Redis, key, clocks, then each platform in use."""
    findings = await check_redis(store, settings.redis_url)
    reachable = findings[0].status is not Status.FAIL
    networks: list[str] = sorted({a.network for a in config.accounts})
    platforms = networks + sorted({d.chat for d in config.destinations.values()})
    findings += await check_key(settings, store if reachable else None, networks)
    findings += await check_clocks(_api_urls(settings, platforms))
    context = DoctorContext(settings, config, store if reachable else None)
    for platform in platforms:
        doctor = doctors.get(platform)
        if doctor is None:
            findings.append(
                fail(
                    platform,
                    _("checks"),
                    _("no checks exist for this platform"),
                    _("report a bug"),
                )
            )
            continue
        try:
            findings += await asyncio.wait_for(doctor(context), CHECK_TIMEOUT_S * 3)
        except TimeoutError:
            findings.append(
                fail(
                    platform,
                    _("checks"),
                    _("the platform did not answer in time"),
                    _network_fix(),
                )
            )
    return findings


def blocks_go_live(findings: list[Finding]) -> bool:
    return any(f.status is Status.FAIL for f in findings)


# -- Redis ---------------------------------------------------------------------------------------


async def check_redis(store: Store, url: str) -> list[Finding]:
    area, check = "Redis", _("reachable")
    try:
        server = await store.redis.info("server")
        persistence = await store.redis.info("persistence")
        memory = await store.redis.info("memory")
    except (RedisError, OSError) as exc:
        return [
            fail(
                area,
                check,
                _("{url} does not answer: {error}", url=redact_url(url), error=exc),
                _("start Redis, or point REACHABLE_REDIS_URL at it (with its password)"),
            )
        ]
    version = str(server.get("redis_version", "0"))
    findings = [
        ok(area, check, _("Redis {version} at {url}", version=version, url=redact_url(url)))
    ]
    if _version_tuple(version) < MIN_REDIS:
        findings.append(
            fail(
                area,
                _("version"),
                _(
                    "Redis {version} is older than {minimum}",
                    version=version,
                    minimum=".".join(map(str, MIN_REDIS)),
                ),
                _("upgrade Redis: the stages need XAUTOCLAIM (6.2 or later; 7 recommended)"),
            )
        )
    findings.append(await _persistence(store, persistence))
    policy = str(memory.get("maxmemory_policy", "noeviction"))
    if policy != "noeviction":
        findings.append(
            fail(
                area,
                _("eviction"),
                _(
                    "maxmemory-policy is {policy}: under memory pressure Redis would delete "
                    "accepted mentions, threads and linked accounts",
                    policy=policy,
                ),
                _("set maxmemory-policy noeviction (and give Redis the memory it needs)"),
            )
        )
    return findings


async def _persistence(store: Store, persistence: dict[str, object]) -> Finding:
    area, check = "Redis", _("persistence")
    if str(persistence.get("aof_enabled")) == "1":
        fsync = await _config_value(store, "appendfsync")
        if fsync == "no":
            return warn(
                area,
                check,
                _("AOF is on with appendfsync no: a crash can lose the last 30 s of writes"),
                _("set appendfsync everysec (or always, to lose nothing)"),
            )
        return ok(area, check, _("AOF on (appendfsync {fsync})", fsync=fsync or _("unknown")))
    saves = await _config_value(store, "save")
    if saves:
        return warn(
            area,
            check,
            _(
                "only RDB snapshots (save {saves}): a crash loses what was accepted since the last",
                saves=saves,
            ),
            _("turn AOF on: appendonly yes (appendfsync everysec or always)"),
        )
    return fail(
        area,
        check,
        _("persistence is off: a restart loses every mention, thread, timer and linked account"),
        _(
            "turn AOF on: appendonly yes in redis.conf (or CONFIG SET appendonly yes, then "
            "CONFIG REWRITE)"
        ),
    )


async def _config_value(store: Store, name: str) -> str | None:
    """A CONFIG GET value; managed Redis services often refuse CONFIG, which is not a fault."""
    try:
        found = await store.redis.config_get(name)
    except RedisError:
        return None
    return str(found.get(name, "")) or None


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", version)[:2]
    return tuple(int(n) for n in numbers) or (0,)


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# -- the encryption key --------------------------------------------------------------------------


async def check_key(settings: Settings, store: Store | None, networks: list[str]) -> list[Finding]:
    area, check = _("Encryption key"), "REACHABLE_TOKEN_KEY"
    if not settings.personal_accounts:
        return [ok(area, check, _("personal accounts are off; no key needed"))]
    fix = _("create one with `reachable keygen`")
    if settings.token_key is None:
        return [fail(area, check, _("REACHABLE_TOKEN_KEY is not set"), fix)]
    try:
        sealer = Sealer(settings.token_key)
    except ReachableError:
        said = _("REACHABLE_TOKEN_KEY is not a valid key (32 url-safe base64-encoded bytes)")
        return [fail(area, check, said, fix)]
    if store is None:
        return [ok(area, check, _("a valid key (stored tokens not checked: Redis is down)"))]
    vault = TokenVault(store, sealer)
    linked = [account for network in networks for account in await vault.all_linked(network)]
    for account in linked:
        try:
            await vault.credentials(account.person, account.network)
        except ReachableError:
            return [
                fail(
                    area,
                    check,
                    _(
                        "the key does not open the stored tokens ({person}'s {network} link): "
                        "it changed since they were sealed",
                        person=account.person,
                        network=account.network,
                    ),
                    _("restore the key they were sealed with, or have everyone link again"),
                )
            ]
    if not linked:
        return [ok(area, check, _("a valid key (no linked accounts yet)"))]
    opens = ngettext(
        "a valid key; it opens the {count} linked account's tokens",
        "a valid key; it opens all {count} linked accounts' tokens",
        len(linked),
    )
    return [ok(area, check, opens)]


# -- clocks --------------------------------------------------------------------------------------


async def check_clocks(urls: dict[str, str]) -> list[Finding]:
    findings = []
    async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_S, trust_env=False) as http:
        for platform, url in urls.items():
            findings.append(await _clock(http, platform, url))
    return findings


def _clock_check(platform: str) -> tuple[str, str]:
    return _("Clock"), _("against {platform}", platform=platform)


async def _clock(http: httpx.AsyncClient, platform: str, url: str) -> Finding:
    area, check = _clock_check(platform)
    sent = time.time()
    try:
        response = await http.get(url)
    except httpx.HTTPError as exc:
        said = _("{url} did not answer ({error})", url=url, error=repr(exc))
        return warn(area, check, said, _network_fix())
    received = time.time()
    server = _http_date(response.headers.get("date"))
    if server is None:
        said = _("{url} sent no Date header", url=url)
        return warn(area, check, said, _("check the clock by hand (NTP)"))
    # The Date header has whole seconds; the middle of the round trip is our best guess.
    skew = server.timestamp() - (sent + received) / 2
    return clock_finding(platform, skew)


def clock_finding(platform: str, skew_s: float) -> Finding:
    area, check = _clock_check(platform)
    seconds = f"{abs(skew_s):.0f}"
    if skew_s > 0:
        said = _("this machine is {seconds} s behind it", seconds=seconds)
    else:
        said = _("this machine is {seconds} s ahead of it", seconds=seconds)
    fix = _("synchronise the clock (NTP: timedatectl set-ntp true, or chrony)")
    if abs(skew_s) >= CLOCK_FAIL_S:
        return fail(area, check, _("{skew}: signed requests will be refused", skew=said), fix)
    if abs(skew_s) >= CLOCK_WARN_S:
        return warn(area, check, said, fix)
    least = f"{max(abs(skew_s), 1):.0f}"
    return ok(area, check, _("within {seconds} s", seconds=least))


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def _api_urls(settings: Settings, platforms: list[str]) -> dict[str, str]:
    known = {
        "x": settings.x_api_url,
        "slack": settings.slack_api_url,
        "telegram": settings.telegram_api_url,
    }
    return {p: known[p] for p in platforms if p in known}


def _network_fix() -> str:
    return _("check this machine's outbound HTTPS access (proxy, firewall) to the platform")


# -- output --------------------------------------------------------------------------------------


def render_table(findings: list[Finding]) -> str:
    """A plain-text table: one row per check, the fix indented below each problem."""
    header = (_("AREA"), _("CHECK"), _("STATUS"))
    widths = (
        max(len(header[0]), *(len(f.area) for f in findings)),
        max(len(header[1]), *(len(f.check) for f in findings)),
        max(len(header[2]), *(len(s.label()) for s in Status)),
    )
    lines = [_row(header, widths, _("DETAIL"))]
    for finding in findings:
        lines.append(
            _row((finding.area, finding.check, finding.status.label()), widths, finding.detail)
        )
        if finding.fix:
            lines.append(" " * (sum(widths) + 6) + _("fix: {fix}", fix=finding.fix))
    return "\n".join([*lines, "", verdict(findings)])


def verdict(findings: list[Finding]) -> str:
    """The last line: how many checks, whether anything blocks go-live, how many warnings."""
    failed = sum(f.status is Status.FAIL for f in findings)
    warned = sum(f.status is Status.WARN for f in findings)
    if failed:
        said = ngettext("{count} problem blocks go-live", "{count} problems block go-live", failed)
    else:
        said = _("ready to go live")
    if warned:
        said = ngettext(
            "{verdict}; {count} warning", "{verdict}; {count} warnings", warned, verdict=said
        )
    return ngettext(
        "{count} check: {verdict}.", "{count} checks: {verdict}.", len(findings), verdict=said
    )


def _row(cells: tuple[str, str, str], widths: tuple[int, ...], detail: str) -> str:
    padded = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
    return f"{padded}  {detail}"
