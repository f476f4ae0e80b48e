"""`reachable doctor`: is this deployment ready to go live?

Checks what the bridge cannot fix for itself and would otherwise discover in production: Redis
(answers, keeps data across restarts, recent enough, never evicts, has room to grow or stays
flat), the encryption key, the
clocks, and through each platform's own checks, every credential, scope, channel and bot
membership. Each finding says what is wrong and how to fix it; any failure makes the exit
code non-zero.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

import httpx
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel
from redis.exceptions import RedisError

from bridge.config import Config
from bridge.domain.platform_time import is_real_platform
from bridge.errors import ReachableError
from bridge.ops.findings import DoctorContext, Finding, PlatformDoctor, Status, fail, ok, warn
from bridge.ops.memory import amount, growth, samples
from bridge.settings import Settings
from bridge.store.redisconn import close_sentinels, redis_location
from bridge.store.store import Store
from bridge.store.vault import Sealer, TokenVault
from bridge.text.i18n import _, duration, ngettext

MIN_REDIS = (6, 2)  # XAUTOCLAIM
CLOCK_WARN_S = 30.0
# Slack refuses requests signed more than 300 s away from its clock, X OAuth 1.0a signatures
# fail at about the same distance: well before that, the bridge stops working.
CLOCK_FAIL_S = 240.0
CHECK_TIMEOUT_S = 20.0
# Warn when Redis would be full within this many days at the present growth.
ROOM_WARN_DAYS = 30

SettingsT = TypeVar("SettingsT", bound=Settings)


@dataclass(frozen=True)
class PlatformAddress(Generic[SettingsT]):
    """Where a platform's API is, as its settings give it (its clock is read there), and the
    hosts of the real platform, which its adapter knows."""

    url: Callable[[SettingsT], str]
    real_hosts: tuple[str, ...]


async def examine(
    settings: SettingsT,
    config: Config,
    store: Store,
    doctors: Mapping[str, PlatformDoctor],
    addresses: Mapping[str, PlatformAddress[SettingsT]],
) -> list[Finding]:
    """Every finding, in a stable order: Redis, key, clocks, then each platform in use."""
    findings = await check_redis(store, redis_location(settings), scale=settings.retention_scale)
    if settings.sentinel_addresses:
        findings += await check_sentinels(settings)
    reachable = findings[0].status is not Status.FAIL
    networks: list[str] = sorted({a.network for a in config.accounts})
    platforms = networks + sorted({d.chat for d in config.destinations.values()})
    findings += await check_key(settings, store if reachable else None, networks)
    urls = {p: addresses[p].url(settings) for p in platforms if p in addresses}
    real = [p for p, url in urls.items() if is_real_platform(url, addresses[p].real_hosts)]
    findings += await check_clocks(urls)
    findings += check_platform_time(settings.platform_time_scale, real)
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


async def check_redis(store: Store, where: str, *, scale: float = 1.0) -> list[Finding]:
    """``where``: how Redis is reached, for the findings; ``scale``: the retention scale (a day
    of memory readings lasts that much less)."""
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
                _("{url} does not answer: {error}", url=where, error=exc),
                _("start Redis, or point REACHABLE_REDIS_URL at it (with its password)"),
            )
        ]
    version = str(server.get("redis_version", "0"))
    findings = [ok(area, check, _("Redis {version} at {url}", version=version, url=where))]
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
    return findings + memory_findings(memory, await samples(store), scale=scale)


def memory_findings(
    memory: dict[str, Any], readings: list[tuple[int, int]], *, scale: float = 1.0
) -> list[Finding]:
    """How much memory Redis uses, its limit, and how fast it grows (from the upkeep's hourly
    readings): when it would be full at that rate, or that retention holds it flat."""
    area, check = "Redis", _("memory")
    used, peak = int(memory.get("used_memory", 0)), int(memory.get("used_memory_peak", 0))
    limit, machine = int(memory.get("maxmemory", 0)), int(memory.get("total_system_memory", 0))
    usage = _("used {used} (peak {peak})", used=amount(used), peak=amount(peak))
    if limit:
        said = _(
            "{usage} of maxmemory {limit}, policy {policy}",
            usage=usage,
            limit=amount(limit),
            policy=memory.get("maxmemory_policy", "?"),
        )
        findings = [ok(area, check, said)]
    else:
        room = (
            _("until this machine's {memory} run out", memory=amount(machine))
            if machine
            else _("until the machine runs out")
        )
        said = _(
            "{usage}; maxmemory is 0 (no limit): Redis may grow {room}, and then the system "
            "stops it",
            usage=usage,
            room=room,
        )
        fix = _(
            "set maxmemory in redis.conf to what Redis may take (say three quarters of the "
            "machine's memory) and keep maxmemory-policy noeviction"
        )
        findings = [warn(area, check, said, fix)]
    return [*findings, _growth_finding(used, limit or machine, bool(limit), readings, scale)]


def span(days: float) -> timedelta:
    """A span of readings shorter than a day, to the minute."""
    return timedelta(minutes=round(days * 24 * 60))


def _growth_finding(
    used: int, ceiling: int, is_maxmemory: bool, readings: list[tuple[int, int]], scale: float
) -> Finding:
    area, check = "Redis", _("growth")
    found = growth(readings, scale=scale)
    if found is None:
        return ok(
            area,
            check,
            _(
                "not measured yet: workers read Redis's memory every hour; the growth shows "
                "after a day"
            ),
        )
    over = duration(timedelta(days=round(found.days)) if found.days >= 1 else span(found.days))
    rate = _("{amount} a day over the last {days}", amount=amount(found.per_day), days=over)
    if found.flat(used):
        return ok(area, check, _("flat ({rate}): retention holds it", rate=rate))
    left = found.days_left(used, ceiling) if ceiling else None
    if left is None:
        return ok(area, check, rate)
    what = _("maxmemory") if is_maxmemory else _("the machine's memory")
    said = _(
        "{rate}: {what} is reached in about {left}",
        rate=rate,
        what=what,
        left=duration(timedelta(days=left)),
    )
    if left < ROOM_WARN_DAYS:
        fix = _(
            "give Redis more memory (maxmemory), or keep less: shorten the periods under "
            "`retention:` in the config"
        )
        return warn(area, check, said, fix)
    return ok(area, check, said)


async def check_sentinels(settings: Settings) -> list[Finding]:
    """What the sentinels say of the primary: where it is, its replicas, whether enough of
    them agree to fail it over."""
    area, master = "Sentinel", settings.redis_sentinel_master
    password = settings.redis_sentinel_password
    sentinels = Sentinel(
        settings.sentinel_addresses,
        sentinel_kwargs={
            "password": password.get_secret_value() if password else None,
            "socket_timeout": 2.0,
            "socket_connect_timeout": 2.0,
            "decode_responses": True,
        },
    )
    findings: list[Finding] = []
    try:
        answering = []
        addresses = settings.sentinel_addresses
        for (host, port), sentinel in zip(addresses, sentinels.sentinels, strict=True):
            try:
                await sentinel.ping()
                answering.append(sentinel)
            except (RedisError, OSError) as exc:
                findings.append(
                    warn(
                        area,
                        f"{host}:{port}",
                        _("this sentinel does not answer: {error}", error=exc),
                        _("start it, or take it out of REACHABLE_REDIS_SENTINELS"),
                    )
                )
        if not answering:
            return [
                fail(
                    area,
                    _("reachable"),
                    _("no sentinel answers"),
                    _("start the sentinels, or point REACHABLE_REDIS_SENTINELS at them"),
                ),
                *findings,
            ]
        return [*await _sentinel_view(answering[0], master), *findings]
    finally:
        await close_sentinels(sentinels)


async def _sentinel_view(sentinel: Redis, master: str) -> list[Finding]:
    area = "Sentinel"
    try:
        state = cast(dict[str, Any], await sentinel.sentinel_master(master))
        replicas = await sentinel.sentinel_slaves(master)
    except (RedisError, OSError) as exc:
        return [
            fail(
                area,
                _("primary"),
                _("the sentinels know no primary named {name}: {error}", name=master, error=exc),
                _("set REACHABLE_REDIS_SENTINEL_MASTER to the name in `sentinel monitor`"),
            )
        ]
    sentinel_count = int(state.get("num-other-sentinels", 0)) + 1
    findings = [
        ok(
            area,
            _("primary"),
            ngettext(
                "{name} is at {address}, watched by {count} sentinel; {quorum} must agree to "
                "fail it over",
                "{name} is at {address}, watched by {count} sentinels; {quorum} must agree to "
                "fail it over",
                sentinel_count,
                name=master,
                address=f"{state['ip']}:{state['port']}",
                quorum=state.get("quorum", "?"),
            ),
        )
    ]
    healthy = [r for r in replicas if not (r.get("is_sdown") or r.get("is_odown"))]
    if healthy:
        addresses = ", ".join(f"{r['ip']}:{r['port']}" for r in healthy)
        findings.append(ok(area, _("replicas"), addresses))
    else:
        findings.append(
            warn(
                area,
                _("replicas"),
                _("no replica is up: a failover would have nothing to promote"),
                _("run a replica of the primary (replicaof), watched by the same sentinels"),
            )
        )
    try:
        await sentinel.sentinel_ckquorum(master)
    except (RedisError, OSError) as exc:
        findings.append(
            fail(
                area,
                _("quorum"),
                _("the sentinels could not agree on a failover: {error}", error=exc),
                _("run at least as many sentinels as the quorum, able to reach one another"),
            )
        )
    else:
        findings.append(ok(area, _("quorum"), _("enough sentinels agree to fail over")))
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


def check_platform_time(scale: float, real: list[str]) -> list[Finding]:
    """A platform time scale is for emulators: against a real platform (of ``real``, the ones
    whose API address is the real one) the bridge would send that many times faster than the
    platform allows, and read its waits as that much shorter."""
    if scale == 1:
        return []
    area, check = _("Clock"), "REACHABLE_PLATFORM_TIME_SCALE"
    shown = f"{scale:g}"
    if real:
        said = _(
            "{scale}: against {platforms} the bridge would send {scale} times faster than they "
            "allow",
            scale=shown,
            platforms=", ".join(sorted(real)),
        )
        return [fail(area, check, said, _("unset it: a time scale is for the emulators only"))]
    said = _(
        "{scale}: the platforms' rate windows run {scale} times faster (emulators)", scale=shown
    )
    return [ok(area, check, said)]


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


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
