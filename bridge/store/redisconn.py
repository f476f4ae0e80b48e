"""Opening Redis, one way for every process: directly at a URL, or through Redis Sentinel.

With Sentinel, the primary is wherever the sentinels say it is now. redis-py asks them for each
new connection and drops a connection to a demoted primary at its first refusal; this module
also asks them once a second, because a primary that the sentinels replaced while it ran
(``SENTINEL FAILOVER``, a partition) keeps accepting writes until they get round to demoting
it, seconds later, and every write made there meanwhile is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, parse_url
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.exceptions import RedisError

from bridge.settings import Settings

log = logging.getLogger(__name__)

# A sentinel that does not answer this fast is skipped for the next one.
SENTINEL_TIMEOUT_S = 1.0
# How often each process asks the sentinels whether the primary moved.
PRIMARY_LOOK_S = 1.0


class RoundTrips:
    """Requests this process sent to Redis: a command, a pipeline or a MULTI…EXEC each counts
    once, however many commands it carries (``INFO commandstats`` counts those)."""

    sent = 0


def _counting(base: type[AbstractConnection]) -> type[AbstractConnection]:
    async def send_packed_command(self: Any, command: Any, check_health: bool = True) -> None:
        RoundTrips.sent += 1
        await base.send_packed_command(self, command, check_health)

    return type(f"Counted{base.__name__}", (base,), {"send_packed_command": send_packed_command})


def connect(
    url: str,
    *,
    sentinels: Sequence[tuple[str, int]] = (),
    master: str = "mymaster",
    sentinel_password: str | None = None,
) -> aioredis.Redis:
    """The one way Reachable opens Redis: RESP2 and decoded strings, round trips counted.

    With ``sentinels``, the primary named ``master`` is wherever the sentinels say it is now
    (see the module's docstring). ``url`` then gives the database, user, password and TLS; its
    host and port are not used."""
    if not sentinels:
        client = aioredis.Redis.from_url(url, decode_responses=True, protocol=2)
    else:
        options: dict[str, Any] = dict(parse_url(url))
        for unused in ("host", "port", "connection_class"):
            options.pop(unused, None)
        manager = Sentinel(
            sentinels,
            sentinel_kwargs={
                "password": sentinel_password,
                "socket_timeout": SENTINEL_TIMEOUT_S,
                "socket_connect_timeout": SENTINEL_TIMEOUT_S,
                "decode_responses": True,
            },
        )
        client = manager.master_for(
            master,
            redis_class=_SentinelClient,
            connection_pool_class=_PrimaryFollowingPool,
            decode_responses=True,
            protocol=2,
            ssl=url.startswith("rediss:"),
            **options,
        )
        cast(_SentinelClient, client).sentinel_manager = manager
    pool = client.connection_pool
    pool.connection_class = _counting(pool.connection_class)
    return client


def open_redis(settings: Settings) -> aioredis.Redis:
    """The deployment's Redis: through its sentinels when REACHABLE_REDIS_SENTINELS names
    them, else at REACHABLE_REDIS_URL."""
    password = settings.redis_sentinel_password
    return connect(
        settings.redis_url,
        sentinels=settings.sentinel_addresses,
        master=settings.redis_sentinel_master,
        sentinel_password=password.get_secret_value() if password else None,
    )


def redis_location(settings: Settings) -> str:
    """Where the processes look for Redis, for people to read (no password)."""
    if settings.sentinel_addresses:
        sentinels = ", ".join(f"{host}:{port}" for host, port in settings.sentinel_addresses)
        return f"the primary {settings.redis_sentinel_master!r} of the sentinels {sentinels}"
    return redact_url(settings.redis_url)


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _SentinelClient(aioredis.Redis):
    """A client of the primary that also closes its connections to the sentinels."""

    sentinel_manager: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.sentinel_manager is not None:
            await close_sentinels(self.sentinel_manager)


async def close_sentinels(manager: Sentinel) -> None:
    """Close the connections to the sentinels (redis-py before 8.2 has no Sentinel.aclose)."""
    for sentinel in manager.sentinels:
        await sentinel.aclose()


class _PrimaryFollowingPool(SentinelConnectionPool):
    """Connections to the primary the sentinels name; when they name another one, every
    connection to the old one is closed (a command on its way there fails as in any outage
    and is tried again on the new primary, where it belongs)."""

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call]
        self._next_look = 0.0

    async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
        now = time.monotonic()
        if now >= self._next_look:
            self._next_look = now + PRIMARY_LOOK_S
            await self._follow_primary()
        connection: AbstractConnection = await super().get_connection(  # type: ignore[no-untyped-call]
            *args, **kwargs
        )
        return connection

    async def _follow_primary(self) -> None:
        known = self.master_address
        try:
            current = await self.sentinel_manager.discover_master(self.service_name)
        except RedisError:
            return  # the connection about to be made asks again, and fails like any outage
        if known is not None and tuple(current) != tuple(known):
            log.warning(
                "Redis Sentinel: the primary %r is now at %s:%s (was %s:%s); reconnecting",
                self.service_name,
                *current,
                *known,
            )
            self.master_address = current
            await self.disconnect(inuse_connections=True)
