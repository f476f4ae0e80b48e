"""Wire settings, config, Redis and the adapters into running roles.

``poller`` polls the networks, ``worker`` runs the stages, ``web`` serves the chat platforms'
callbacks. One process may run all three (the default) or any of them; processes keep no
state of their own, so more of each can be started against the same Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app import registry
from app.httpserver import EmbeddedServer
from app.linking_web import link_web_routes
from app.settings import AppSettings
from app.web import create_web_app
from bridge.actions import ActionDispatcher
from bridge.config import Config, Destination
from bridge.desks.admin import AdminDesk
from bridge.desks.claims import ThreadDesk
from bridge.desks.linking import AccountLinker, LinkDesk
from bridge.desks.replies import Publisher, ReplyDesk
from bridge.errors import ReachableError
from bridge.ops.maintenance import Maintenance
from bridge.ops.reload import ConfigWatcher, ReloadOutcome, request_reload
from bridge.pipeline.mirror import MirrorStage
from bridge.pipeline.poll import Poller
from bridge.pipeline.publish import PublishStage
from bridge.pipeline.route import RouterStage
from bridge.pipeline.runner import StageRunner, consumer_name
from bridge.pipeline.supervise import SupervisionStage, Timekeeper, backfill_open_threads
from bridge.ports import AdapterContext, ChatSink, MentionSource
from bridge.settings import Settings
from bridge.store.keys import Keys
from bridge.store.redis_outage import describe, is_outage
from bridge.store.redisconn import open_redis, redis_location
from bridge.store.retention import Lifetimes, lifetimes_for
from bridge.store.store import Store
from bridge.store.vault import Sealer, TokenVault

log = logging.getLogger(__name__)

ROLES = ("poller", "worker", "web")
SHUTDOWN_GRACE_S = 10.0
REDIS_START_RETRY_S = 0.5


@dataclass
class Runtime:
    settings: AppSettings
    config: Config
    roles: Iterable[str] = ROLES
    redis_factory: Callable[[], aioredis.Redis] | None = None
    # The file the config came from: watched, and reloaded when it changes or on SIGHUP.
    config_path: Path | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    watcher: ConfigWatcher | None = None

    def current_config(self) -> Config:
        return self.config

    def _replace_config(self, config: Config) -> None:
        self.config = config

    def _lifetimes(self) -> Lifetimes:
        return lifetimes_for(self.config.retention, self.settings.retention_scale)

    async def run(self, stop: asyncio.Event) -> None:
        roles = set(self.roles)
        unknown = roles - set(ROLES)
        if unknown:
            raise ReachableError(
                f"unknown role(s) {', '.join(sorted(unknown))} (known: {', '.join(ROLES)})"
            )
        redis = self.redis_factory() if self.redis_factory else open_redis(self.settings)
        deadline = time.monotonic() + self.settings.redis_start_wait_s
        where = redis_location(self.settings)
        try:
            store = Store(redis, Keys(self.settings.key_prefix), lifetimes=self._lifetimes)
            while await _wait_for_redis(redis, self.settings, deadline, stop):
                # A start cut short stops what it had started, without stopping the process.
                attempt = asyncio.Event()
                relay = asyncio.create_task(_relay(stop, attempt), name="stop-relay")
                try:
                    await self._run_roles(store, roles, attempt)
                    return
                except (RedisError, OSError) as exc:
                    # Redis restarting or failing over while this process starts (containers
                    # starting together, a supervisor restarting both) is no reason to stay down.
                    if self.ready.is_set() or stop.is_set() or not is_outage(exc):
                        raise
                    if time.monotonic() > deadline:
                        raise ReachableError(
                            f"Redis at {where} stayed unavailable while starting: {describe(exc)}"
                        ) from None
                    log.warning("Redis went away while starting (%s); starting again", exc)
                finally:
                    relay.cancel()
        finally:
            stop.set()  # however the run ended, whoever waits on it knows
            await redis.aclose()

    async def _run_roles(self, store: Store, roles: set[str], stop: asyncio.Event) -> None:
        context = AdapterContext(settings=self.settings, config=self.current_config, store=store)
        sources: dict[str, MentionSource] = {}
        sinks: dict[str, ChatSink] = {}
        publishers: dict[str, Publisher] = {}
        closers: list[Callable[[], Awaitable[None]]] = []
        tasks: list[asyncio.Task[None]] = []
        server: EmbeddedServer | None = None
        try:
            context, linking = self._with_personal_accounts(context)
            if roles & {"worker", "web"}:
                for network in sorted({a.network for a in self.config.accounts}):
                    publishers[network] = await registry.PUBLISHERS[network](context)
                    closers.append(publishers[network].close)
                desk = ReplyDesk(
                    store, config=self.current_config, publishers=publishers, vault=context.vault
                )
                admin = AdminDesk(store, config=self.current_config, reload=self._reload_everywhere)
                threads = ThreadDesk(store, config=self.current_config)
                actions = ActionDispatcher(
                    store,
                    config=self.current_config,
                    replies=desk,
                    threads=threads,
                    admin=admin,
                    linking=linking,
                )
                context = dataclasses.replace(context, actions=actions)
            if "poller" in roles:
                for network in sorted({a.network for a in self.config.accounts}):
                    sources[network] = await registry.SOURCES[network](context)
                    closers.append(sources[network].close)
            if roles & {"worker", "web"}:
                for chat in sorted({d.chat for d in self.config.destinations.values()}):
                    sinks[chat] = await registry.SINKS[chat](context)
                    closers.append(sinks[chat].close)
                if linking is not None:
                    linking.tell_with({chat: sink.tell_privately for chat, sink in sinks.items()})
            if self.config_path is not None:
                self.watcher = ConfigWatcher(
                    self.config_path,
                    store,
                    current=self.current_config,
                    replace=self._replace_config,
                    interval_s=self.settings.config_watch_s,
                )
                tasks.append(asyncio.create_task(self.watcher.run(stop), name="config"))
            owner = consumer_name("+".join(sorted(roles)))
            if "poller" in roles:
                poller = Poller(
                    store,
                    sources=sources,
                    config=self.current_config,
                    owner=owner,
                    vault=context.vault,
                    linked_every_s=self.settings.linked_poll_s,
                    platform_time=self.settings.platform_time,
                )
                tasks.append(asyncio.create_task(poller.run(stop), name="poller"))
            if "worker" in roles:
                await backfill_open_threads(store)
                tasks += self._stage_tasks(store, sinks, publishers, owner, stop)
            if "web" in roles:
                for name, sink in sinks.items():
                    tasks.append(asyncio.create_task(sink.listen(stop), name=f"listen-{name}"))
                routes = [route for sink in sinks.values() for route in sink.web_routes()]
                if linking is not None:
                    routes += link_web_routes(linking)
                server = EmbeddedServer(
                    create_web_app(store, routes=routes, checks=self._readiness(sinks, publishers)),
                    host=self.settings.web_host,
                    port=self.settings.web_port,
                    name="web",
                )
                await server.start()
                log.info("web app listening on %s", server.url)
            elif self.settings.health_port is not None:
                server = EmbeddedServer(
                    create_web_app(store, routes=[], checks=self._readiness(sinks, publishers)),
                    host=self.settings.web_host,
                    port=self.settings.health_port,
                    name="health",
                )
                await server.start()
                log.info("health and metrics on %s", server.url)
            log.info("running roles: %s", ", ".join(sorted(roles)))
            self.ready.set()
            await _wait_for_stop_or_crash(stop, tasks)
        finally:
            stop.set()
            # Let each stage finish the entry at hand; what is still running then is cancelled
            # and its entry, left pending, is taken over later.
            if tasks:
                await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_S)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if server is not None:
                await server.stop()
            for close in reversed(closers):
                with contextlib.suppress(Exception):
                    await close()

    def _readiness(
        self, sinks: dict[str, ChatSink], publishers: dict[str, Publisher]
    ) -> dict[str, Callable[[], Awaitable[None]]]:
        checks: dict[str, Callable[[], Awaitable[None]]] = {
            name: sink.ping for name, sink in sinks.items()
        }
        for network, publisher in publishers.items():
            account = next(a for a in self.config.accounts if a.network == network)
            checks[network] = functools.partial(publisher.ping, account)
        return checks

    async def _reload_everywhere(self, who: str) -> ReloadOutcome | None:
        """An admin asked in chat: reload here, and if the file is sound, in every process."""
        if self.watcher is None:
            return None
        outcome = await self.watcher.reload(reason=f"asked by {who}")
        if not outcome.refused:
            await request_reload(self.watcher.store, by=who)
        return outcome

    def _with_personal_accounts(
        self, context: AdapterContext
    ) -> tuple[AdapterContext, LinkDesk | None]:
        """The vault (in the context) and the link desk, unless personal accounts are turned
        off; a missing key stops the start here, before anything could be linked without
        encryption."""
        if not self.settings.personal_accounts:
            return context, None
        vault = TokenVault(context.store, Sealer(self.settings.token_key))
        networks = sorted({a.network for a in self.config.accounts} & set(registry.LINKERS))
        linkers: dict[str, AccountLinker] = {
            network: registry.LINKERS[network](self.settings) for network in networks
        }
        linking = LinkDesk(
            vault,
            linkers,
            public_url=self.settings.public_url,
            chats=self.config.chat_platforms,
            networks=self.config.network_platforms,
        )
        return dataclasses.replace(context, vault=vault), linking

    def _stage_tasks(
        self,
        store: Store,
        sinks: dict[str, ChatSink],
        publishers: dict[str, Publisher],
        owner: str,
        stop: asyncio.Event,
    ) -> list[asyncio.Task[None]]:
        claim_idle_ms = int(self.settings.claim_idle_s * 1000)
        router = RouterStage(store, config=self.current_config)
        mirror = MirrorStage(
            store,
            config=self.current_config,
            sinks=sinks,
            channel_interval_s=lambda destination: _channel_interval(sinks, destination),
            time_budget_s=self.settings.claim_idle_s / 2,
            platform_interval_s=lambda chat: _overall_interval(sinks, chat),
            platform_time=self.settings.platform_time,
        )
        publish = PublishStage(store, config=self.current_config, publishers=publishers)
        supervision = SupervisionStage(store, config=self.current_config)
        # Replies are read one at a time: if one kills its worker, no other reply is held up
        # with it or counted as delivered again and again.
        runners = [
            StageRunner(
                store.redis,
                stream=stage.stream,
                group=stage.group,
                consumer=owner,
                handler=stage.handle,
                lane_of=lane_of,
                claim_idle_ms=claim_idle_ms,
                batch=batch,
            )
            for stage, lane_of, batch in (
                (router, None, 50),
                (mirror, mirror.lane_of, 50),
                (publish, None, 1),
                (supervision, None, 50),
            )
        ]
        timekeeper = Timekeeper(store, config=self.current_config)
        upkeep = Maintenance(store, owner=owner)
        tasks = [asyncio.create_task(r.run(stop), name=r.group) for r in runners]
        return [
            *tasks,
            asyncio.create_task(timekeeper.run(stop), name="timekeeper"),
            asyncio.create_task(upkeep.run(stop), name="maintenance"),
        ]


def _channel_interval(sinks: dict[str, ChatSink], destination: Destination) -> float:
    """Seconds between two messages to one destination, as its chat paces them."""
    sink = sinks.get(destination.chat)
    return sink.channel_interval_s(destination) if sink is not None else 0.0


def _overall_interval(sinks: dict[str, ChatSink], chat: str) -> float:
    """Seconds between any two messages of the bot on one chat, as it paces them."""
    sink = sinks.get(chat)
    return sink.overall_interval_s() if sink is not None else 0.0


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop``: roles finish what they hold, then the process exits."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


async def _wait_for_redis(
    redis: aioredis.Redis, settings: Settings, deadline: float, stop: asyncio.Event
) -> bool:
    """Ping until Redis answers (True) or ``stop`` is set (False). Past ``deadline``
    (monotonic) the start is refused, saying why."""
    waiting = False
    where = redis_location(settings)
    while not stop.is_set():
        try:
            await redis.ping()
        except (RedisError, OSError) as exc:
            if time.monotonic() >= deadline:
                reason = str(exc).rstrip(".")
                fix = (
                    "Start Redis and its sentinels, or check REACHABLE_REDIS_SENTINELS and "
                    "REACHABLE_REDIS_SENTINEL_MASTER."
                    if settings.sentinel_addresses
                    else "Start Redis or set REACHABLE_REDIS_URL."
                )
                raise ReachableError(f"cannot reach Redis at {where}: {reason}. {fix}") from None
            if not waiting:
                log.warning("waiting for Redis at %s (%s)", where, exc)
                waiting = True
            pause = min(REDIS_START_RETRY_S, max(deadline - time.monotonic(), 0.0))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            continue
        if waiting:
            log.info("Redis answers; starting")
        return True
    return False


async def _relay(source: asyncio.Event, target: asyncio.Event) -> None:
    await source.wait()
    target.set()


async def _wait_for_stop_or_crash(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    stopper = asyncio.create_task(stop.wait(), name="stop")
    try:
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    for task in done:
        if task is not stopper and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
