"""``reachable demo``: the whole bridge against local emulators, shown to a person in a terminal.

The demo is wiring, like the runtime: it imports the emulators lazily so that the core package
stays free of platform libraries.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.config import AppConfig
from app.httpserver import EmbeddedServer, free_port
from app.runtime import Runtime, stop_on_signals
from app.settings import AppSettings
from bridge.errors import ReachableError
from bridge.settings import Settings
from bridge.store.keys import Keys
from bridge.store.redisconn import open_redis
from bridge.store.store import Store, connect
from bridge.store.vault import Sealer
from bridge.text import i18n
from bridge.text.i18n import _
from cli.demo_linking import link_demo_accounts
from cli.demo_view import ChatView
from cli.redisproc import RedisProcess

X_BEARER_TOKEN = "demo-x-bearer-token"
X_CONSUMER = ("demo-consumer-key", "demo-consumer-secret")
X_HUMAS_TOKEN = ("demo-humas-access-token", "demo-humas-access-secret")
X_OAUTH_CLIENT_ID = "demo-oauth-client"
SLACK_BOT_TOKEN = "xoxb-demo-bot-token"
SLACK_SIGNING_SECRET = "demo-signing-secret"
SLACK_APP_TOKEN = "xapp-1-A0REACH-demo"
SLACK_TEAM_ID = "T0DEMO"
SLACK_APP_ID = "A0REACHABLE"
DEMO_PREFIX = "reachable-demo"

X_USERS = [
    {
        "username": "humas_demo",
        "name": "Humas Kementerian (demo)",
        "verified": True,
        "followers": 182_400,
    },
    {"username": "warga_budi", "name": "Budi Santoso", "followers": 312},
    {"username": "siti_rahma", "name": "Siti Rahmawati", "followers": 1_250},
    {"username": "jane_expat", "name": "Jane Miller", "followers": 87},
    {"username": "promo_spam", "name": "Hadiah Gratis!!", "followers": 3},
    {"username": "rina_personal", "name": "Rina Wulandari", "followers": 640},
]
SLACK_CHANNELS = {"C0HUMAS": "humas", "C0SUPER": "supervisors"}
SLACK_USERS = {"U0RINA": "rina", "U0SARI": "sari", "U0GUEST": "guest"}
TELEGRAM_TOKEN = "123456789:demo-telegram-token"
TELEGRAM_CHATS: dict[int, dict[str, Any]] = {
    -1001000000001: {"title": "Humas Reachable (demo)", "type": "supergroup", "is_forum": False},
    # Each person's private chat with the bot (where /link works).
    1001: {"type": "private"},
    1002: {"type": "private"},
    1003: {"type": "private"},
}
TELEGRAM_USERS = {
    1001: {"first_name": "Rina", "username": "rina_humas"},
    1002: {"first_name": "Sari", "username": "sari_humas"},
    1003: {"first_name": "Tamu"},
}
PORTS = {"web": 8700, "x": 8701, "slack": 8702, "telegram": 8703}

SAMPLE_POSTS: list[dict[str, Any]] = [
    {
        "author": "warga_budi",
        "lang": "in",
        "text": "@humas_demo Jalan rusak di depan Pasar Minggu sudah dua minggu, motor saya hampir "
        "jatuh. Kapan diperbaiki? #lapor",
    },
    {
        "author": "jane_expat",
        "lang": "en",
        "text": "@humas_demo Hello! Is the public service office open on Saturday during the "
        "holidays?",
    },
    {
        "author": "siti_rahma",
        "lang": "in",
        "reply_to_sample": 0,
        "text": "@humas_demo @warga_budi Betul, kemarin saya lewat situ juga. Tolong segera "
        "ditindaklanjuti 🙏",
    },
    {
        "author": "promo_spam",
        "lang": "in",
        "text": "@humas_demo <!channel> *PROMO* klik <https://evil.example|https://bank.example> "
        "@here 👨‍👩‍👧 مرحبا",
    },
]

# What the demo suggests posting next, from a second terminal.
NEXT_POST = "@humas_demo jalan rusak di depan pasar"
# A viral moment: what the public posts when a video of a flooded street goes round.
BURST_TEXTS = (
    "@humas_demo banjir lagi di {place}, air sudah setinggi lutut",
    "@humas_demo kapan saluran air di {place} dibersihkan? sudah banjir tiga kali",
    "@humas_demo mohon kirim bantuan ke {place}, banyak warga terjebak",
    "@humas_demo video banjir di {place} ini viral, apa tanggapan pemerintah?",
)
BURST_PLACES = ("Kampung Melayu", "Cawang", "Bidara Cina", "Rawajati", "Pejaten Timur")


@dataclass
class DemoRedis:
    factory: Callable[[], aioredis.Redis]
    description: str
    close: Callable[[], None]


async def choose_redis(settings: Settings) -> DemoRedis:
    """The configured Redis if it answers, else a private redis-server, else fakeredis."""
    probe = open_redis(settings)
    try:
        await probe.ping()
        return DemoRedis(
            lambda: open_redis(settings),
            _(
                "Redis at {url} (keys prefixed '{prefix}:')",
                url=settings.redis_url,
                prefix=DEMO_PREFIX,
            ),
            lambda: None,
        )
    except (RedisError, OSError):
        pass
    finally:
        await probe.aclose()
    if shutil.which("redis-server"):
        process = RedisProcess().start()
        return DemoRedis(
            lambda: connect(process.url),
            _("a private redis-server on port {port} (stops with the demo)", port=process.port),
            process.cleanup,
        )
    try:
        fakeredis = importlib.import_module("fakeredis")
    except ImportError:
        raise ReachableError(
            "no Redis answers at REACHABLE_REDIS_URL, redis-server is not "
            "installed, and fakeredis is missing: start Redis, install "
            "redis-server, or `pip install 'reachable[demo]'`"
        ) from None
    server = fakeredis.FakeServer()
    return DemoRedis(
        lambda: fakeredis.aioredis.FakeRedis(server=server, decode_responses=True, protocol=2),
        _("an in-process store (fakeredis): no Redis was found, nothing is kept after the demo"),
        lambda: None,
    )


async def clear_prefix(redis: aioredis.Redis, prefix: str) -> None:
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])


@dataclass
class Emulators:
    x: EmbeddedServer
    slack: EmbeddedServer
    telegram: EmbeddedServer

    def all(self) -> list[EmbeddedServer]:
        return [self.x, self.slack, self.telegram]


def _emulator(module: str) -> Any:
    """An emulator module; they are a second distribution, absent from a runtime install."""
    try:
        return importlib.import_module(f"emulators.{module}")
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != "emulators":
            raise
        raise ReachableError(
            _(
                "the emulators are not installed. They come with the source repository: "
                "run `pip install ./emulators` there (`make demo` does it for you)."
            )
        ) from exc


def build_emulators(*, bridge_url: str, time_scale: float = 1.0) -> dict[str, Any]:
    x = _emulator("x")
    slack = _emulator("slack")
    telegram = _emulator("telegram")
    return {
        "x": x.XEmulator(
            bearer_tokens={X_BEARER_TOKEN},
            oauth1_consumers={X_CONSUMER[0]: X_CONSUMER[1]},
            oauth1_tokens={X_HUMAS_TOKEN[0]: (X_HUMAS_TOKEN[1], "humas_demo")},
            oauth2_clients={X_OAUTH_CLIENT_ID: None},
            # The bridge serves its linking callback beside its Slack events URL.
            oauth2_callbacks={X_OAUTH_CLIENT_ID: [_origin(bridge_url) + "/link/x/callback"]},
            users=X_USERS,
            time_scale=time_scale,
        ),
        "slack": slack.SlackEmulator(
            bot_token=SLACK_BOT_TOKEN,
            signing_secret=SLACK_SIGNING_SECRET,
            app_token=SLACK_APP_TOKEN,
            team_id=SLACK_TEAM_ID,
            app_id=SLACK_APP_ID,
            bot_user_id="U0REACHBOT",
            bot_id="B0REACHBOT",
            bridge_url=bridge_url,
            channels=SLACK_CHANNELS,
            users=SLACK_USERS,
            rate_limits=True,
            time_scale=time_scale,
        ),
        "telegram": telegram.TelegramEmulator(
            token=TELEGRAM_TOKEN,
            bot_username="reachable_demo_bot",
            chats=TELEGRAM_CHATS,
            users=TELEGRAM_USERS,
            rate_limits=True,
            time_scale=time_scale,
        ),
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def start_emulators(
    *, ports: dict[str, int], bridge_url: str, time_scale: float = 1.0
) -> Emulators:
    built = build_emulators(bridge_url=bridge_url, time_scale=time_scale)
    servers = {
        name: EmbeddedServer(built[name].app, port=ports[name], name=f"{name}-emulator")
        for name in ("x", "slack", "telegram")
    }
    for server in servers.values():
        await server.start()
    return Emulators(**servers)


async def serve_emulators_forever(
    *, ports: dict[str, int], bridge_url: str, time_scale: float = 1.0
) -> None:
    emulators = await start_emulators(ports=ports, bridge_url=bridge_url, time_scale=time_scale)
    rows = [
        (
            _("X emulator:"),
            _("{url}   (bearer token {token})", url=emulators.x.url, token=X_BEARER_TOKEN),
        ),
        (
            _("Slack emulator:"),
            _(
                "{url}/api/   (bot token {token}, signing secret {secret}; sends events to "
                "{bridge}; Socket Mode app token {app_token})",
                url=emulators.slack.url,
                token=SLACK_BOT_TOKEN,
                secret=SLACK_SIGNING_SECRET,
                bridge=bridge_url,
                app_token=SLACK_APP_TOKEN,
            ),
        ),
        (
            _("Telegram emulator:"),
            _("{url}   (bot token {token})", url=emulators.telegram.url, token=TELEGRAM_TOKEN),
        ),
    ]
    width = max(len(label) for label, _detail in rows)
    for label, detail in rows:
        say(f"{label:<{width}} {detail}")
    if time_scale != 1:
        say(
            _(
                "Rate windows run {scale} times faster than real time: start the bridge with "
                "REACHABLE_PLATFORM_TIME_SCALE={scale}.",
                scale=f"{time_scale:g}",
            )
        )
    say(_("Control API: /_emulator/... (see docs/development.md). Ctrl+C stops."))
    stop = asyncio.Event()
    stop_on_signals(stop)
    await stop.wait()
    for server in reversed(emulators.all()):
        await server.stop()


def demo_settings(*, emulators: Emulators, web_port: int) -> AppSettings:
    return AppSettings(
        key_prefix=DEMO_PREFIX,
        web_port=web_port,
        x_api_url=emulators.x.url,
        x_bearer_token=X_BEARER_TOKEN,
        x_oauth_client_id=X_OAUTH_CLIENT_ID,
        x_consumer_key=X_CONSUMER[0],
        x_consumer_secret=X_CONSUMER[1],
        x_account_tokens={
            "humas": {"access_token": X_HUMAS_TOKEN[0], "access_token_secret": X_HUMAS_TOKEN[1]}
        },
        slack_api_url=f"{emulators.slack.url}/api/",
        slack_bot_token=SLACK_BOT_TOKEN,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_team_id=SLACK_TEAM_ID,
        slack_app_id=SLACK_APP_ID,
        telegram_api_url=emulators.telegram.url,
        telegram_bot_token=TELEGRAM_TOKEN,
        # The demo wipes its data at every start, so a key of its own each time is enough.
        token_key=Sealer.new_key(),
        public_url=f"http://127.0.0.1:{web_port}",
    )


def _port_or_free(port: int) -> int:
    """The usual port when it is free (as uvicorn will bind it), else any free one."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


def chat_views(config: AppConfig, emulators: Emulators) -> list[ChatView]:
    """The chats that routes send mentions to."""
    routed = {key for route in config.routes for key in route.to}
    views = []
    for key, destination in config.destinations.items():
        if key not in routed:
            continue
        if destination.chat == "slack":
            name = SLACK_CHANNELS.get(destination.address, destination.address)
            views.append(
                ChatView(
                    "slack",
                    emulators.slack.url,
                    destination.address,
                    _("Slack #{channel} ({id})", channel=name, id=destination.address),
                )
            )
        else:
            chat = TELEGRAM_CHATS.get(int(destination.address), {})
            title = str(chat.get("title", destination.address))
            views.append(
                ChatView(
                    "telegram",
                    emulators.telegram.url,
                    destination.address,
                    _(
                        'the Telegram group "{title}" ({id})',
                        title=title,
                        id=destination.address,
                    ),
                )
            )
    return views


async def run_demo(config: AppConfig, *, config_path: Path, seed: bool) -> None:
    """Narrate in the current language; the bridge itself starts from no reader's language,
    as in production (the demo's chats have their own)."""
    ports = {name: _port_or_free(port) for name, port in PORTS.items()}
    bridge_url = f"http://127.0.0.1:{ports['web']}/slack/events"
    say(_("Reachable demo, with {path}", path=config_path))
    store = await choose_redis(AppSettings())
    say(_("• State: {store}", store=store.description))
    redis = store.factory()
    await clear_prefix(redis, DEMO_PREFIX)
    await redis.aclose()
    emulators = await start_emulators(ports=ports, bridge_url=bridge_url)
    web = f"http://127.0.0.1:{ports['web']}"
    say(
        _(
            "• Emulators: X on {x}, Slack on {slack}, Telegram on {telegram}; bridge web app "
            "on {web}",
            x=emulators.x.url,
            slack=emulators.slack.url,
            telegram=emulators.telegram.url,
            web=web,
        )
    )
    stop = asyncio.Event()
    stop_on_signals(stop)
    settings = demo_settings(emulators=emulators, web_port=ports["web"])
    await _link_personal_accounts(settings, config, store.factory())
    runtime = Runtime(
        settings=settings, config=config, redis_factory=store.factory, config_path=config_path
    )
    with i18n.neutral():
        bridge = asyncio.create_task(runtime.run(stop), name="bridge")
    views = chat_views(config, emulators)
    try:
        await _wait_ready(runtime, bridge)
        say(_("• Bridge running: poller, router and the Slack and Telegram mirrors in one process"))
        async with httpx.AsyncClient(timeout=10) as http:
            if seed:
                await _seed(http, emulators.x.url, config)
                await _show_when_settled(http, views, expected=len(SAMPLE_POSTS), stop=stop)
            say("")
            say(_("The demo keeps running. Post another mention from a second terminal:"))
            x_option = "" if ports["x"] == PORTS["x"] else f" --x-url {emulators.x.url}"
            say(f'  {_command()} demo post "{NEXT_POST}" --author warga_budi{x_option}')
            say(_("Or a viral moment, more mentions at once than a channel shows one by one:"))
            say(f"  {_command()} demo burst{x_option}")
            say(_("New messages appear below. Ctrl+C stops the demo."))
            await _follow(http, views, stop, bridge)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await bridge
        for server in reversed(emulators.all()):
            await server.stop()
        store.close()
        say(_("Demo stopped."))


async def _link_personal_accounts(settings: Settings, config: AppConfig, redis: Any) -> None:
    try:
        linked = await link_demo_accounts(settings, config, Store(redis, Keys(DEMO_PREFIX)))
    finally:
        await redis.aclose()
    if linked:
        say(_("• Personal X accounts linked (by the PIN flow): {links}", links=", ".join(linked)))


async def _wait_ready(runtime: Any, bridge: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(runtime.ready.wait())
    done, _pending = await asyncio.wait([ready, bridge], return_when=asyncio.FIRST_COMPLETED)
    if bridge in done:
        ready.cancel()
        bridge.result()
        raise ReachableError("the bridge stopped during start-up")


async def _seed(http: httpx.AsyncClient, x_url: str, config: AppConfig) -> None:
    say("")
    say(_("Members of the public post on X:"))
    ids: list[str] = []
    for sample in SAMPLE_POSTS:
        body = {k: v for k, v in sample.items() if k != "reply_to_sample"}
        if "reply_to_sample" in sample:
            body["in_reply_to"] = ids[sample["reply_to_sample"]]
        response = await http.post(f"{x_url}/_emulator/posts", json=body)
        response.raise_for_status()
        ids.append(response.json()["id"])
        say(f"  @{sample['author']}: {sample['text']}")
    say("")
    say(
        _(
            "Waiting for them to appear in chat (the poller checks X every {seconds} s)…",
            seconds=int(config.accounts[0].poll_every.total_seconds()),
        )
    )


async def _show_when_settled(
    http: httpx.AsyncClient, views: list[ChatView], *, expected: int, stop: asyncio.Event
) -> None:
    """Wait until every chat that gets mentions shows them all, then draw each chat."""
    deadline = asyncio.get_running_loop().time() + 60
    while not stop.is_set() and asyncio.get_running_loop().time() < deadline:
        counts = [len(await view.messages(http)) for view in views]
        if all(count >= expected for count in counts):
            break
        await asyncio.sleep(0.5)
    pings = 0
    for view in views:
        messages = await view.messages(http)
        if not messages:
            continue
        say("")
        say(view.render(messages))
        pings += sum(len(m.get("pings", [])) for m in messages)
    say("")
    say(
        _(
            "Pings caused in Slack: {pings}. The post by @promo_spam tried <!channel>, @here and "
            "a link disguised as a bank's; every chat shows it as plain text.",
            pings=pings or _("none"),
        )
    )


async def _follow(
    http: httpx.AsyncClient,
    views: list[ChatView],
    stop: asyncio.Event,
    bridge: asyncio.Task[None],
) -> None:
    """Print every message that appears, and every one that changes (a thread's new state)."""
    shown = {
        view: {view.key(m): view.render_message(m, indent="  ") for m in await view.messages(http)}
        for view in views
    }
    while not stop.is_set() and not bridge.done():
        for view in views:
            for message in await view.messages(http):
                key, drawn = view.key(message), view.render_message(message, indent="  ")
                before = shown[view].get(key)
                if before == drawn:
                    continue
                shown[view][key] = drawn
                say("")
                if before is None:
                    say(_("New in {chat}:", chat=view.title))
                else:
                    say(_("Changed in {chat}:", chat=view.title))
                say(drawn)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
    if bridge.done() and not stop.is_set():
        bridge.result()


def post_to_x_emulator(
    x_url: str, *, author: str, text: str, in_reply_to: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"author": author.lstrip("@"), "text": text}
    if in_reply_to:
        body["in_reply_to"] = in_reply_to
    try:
        response = httpx.post(f"{x_url}/_emulator/posts", json=body, timeout=10)
    except httpx.HTTPError as exc:
        raise ReachableError(
            f"cannot reach the X emulator at {x_url} ({exc}); is `reachable demo` running?"
        ) from None
    if response.status_code != 200:
        raise ReachableError(f"the X emulator refused the post: {response.text}")
    return dict(response.json())


def post_burst(x_url: str, *, count: int) -> None:
    """``count`` mentions from as many people, at once: more than a channel shows one by one
    in a minute, so the chats fold them into digests."""
    for n in range(count):
        text = BURST_TEXTS[n % len(BURST_TEXTS)].format(place=BURST_PLACES[n % len(BURST_PLACES)])
        post_to_x_emulator(x_url, author=f"warga_{n + 1:03d}", text=text, in_reply_to=None)


def _command() -> str:
    """How this person runs reachable: plain when on PATH, else the virtualenv's copy."""
    return "reachable" if shutil.which("reachable") else ".venv/bin/reachable"


def say(text: str) -> None:
    print(text, flush=True)
