"""``reachable demo``: the whole bridge against local emulators, shown to a person in a terminal.

The demo is wiring, like the runtime: it imports the emulators lazily so that the core package
stays free of platform libraries.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import shutil
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bridge.config import Config, load_config
from bridge.errors import ReachableError
from bridge.httpserver import EmbeddedServer, free_port
from bridge.redisproc import RedisProcess
from bridge.settings import Settings
from bridge.store import connect

X_BEARER_TOKEN = "demo-x-bearer-token"
SLACK_BOT_TOKEN = "xoxb-demo-bot-token"
SLACK_SIGNING_SECRET = "demo-signing-secret"
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
]
SLACK_CHANNELS = {"C0HUMAS": "humas", "C0SUPER": "supervisors"}
SLACK_USERS = {"U0RINA": "rina", "U0SARI": "sari", "U0GUEST": "guest"}

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


@dataclass
class DemoRedis:
    factory: Callable[[], aioredis.Redis]
    description: str
    close: Callable[[], None]


async def choose_redis(settings: Settings) -> DemoRedis:
    """The configured Redis if it answers, else a private redis-server, else fakeredis."""
    probe = connect(settings.redis_url)
    try:
        await probe.ping()
        return DemoRedis(
            lambda: connect(settings.redis_url),
            f"Redis at {settings.redis_url} (keys prefixed '{DEMO_PREFIX}:')",
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
            f"a private redis-server on port {process.port} (stops with the demo)",
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
        "an in-process store (fakeredis): no Redis was found, nothing is kept after the demo",
        lambda: None,
    )


async def clear_prefix(redis: aioredis.Redis, prefix: str) -> None:
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=500)]
    for start in range(0, len(keys), 500):
        await redis.delete(*keys[start : start + 500])


def build_emulators(*, bridge_url: str) -> tuple[Any, Any]:
    x_module = importlib.import_module("adapters.x.emulator")
    slack_module = importlib.import_module("adapters.slack.emulator")
    x = x_module.XEmulator(bearer_tokens={X_BEARER_TOKEN}, users=X_USERS)
    slack = slack_module.SlackEmulator(
        bot_token=SLACK_BOT_TOKEN,
        signing_secret=SLACK_SIGNING_SECRET,
        team_id=SLACK_TEAM_ID,
        app_id=SLACK_APP_ID,
        bot_user_id="U0REACHBOT",
        bot_id="B0REACHBOT",
        bridge_url=bridge_url,
        channels=SLACK_CHANNELS,
        users=SLACK_USERS,
        rate_limits=True,
    )
    return x, slack


async def start_emulators(
    *, x_port: int, slack_port: int, bridge_url: str
) -> tuple[EmbeddedServer, EmbeddedServer]:
    x, slack = build_emulators(bridge_url=bridge_url)
    x_server = EmbeddedServer(x.app, port=x_port, name="x-emulator")
    slack_server = EmbeddedServer(slack.app, port=slack_port, name="slack-emulator")
    await x_server.start()
    await slack_server.start()
    return x_server, slack_server


async def serve_emulators_forever(*, x_port: int, slack_port: int, bridge_url: str) -> None:
    x_server, slack_server = await start_emulators(
        x_port=x_port, slack_port=slack_port, bridge_url=bridge_url
    )
    print(f"X emulator:     {x_server.url}   (bearer token {X_BEARER_TOKEN})")
    print(
        f"Slack emulator: {slack_server.url}/api/   (bot token {SLACK_BOT_TOKEN}, "
        f"signing secret {SLACK_SIGNING_SECRET}; sends events to {bridge_url})"
    )
    print("Control API: /_emulator/... (see README). Ctrl+C stops.")
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await stop.wait()
    await slack_server.stop()
    await x_server.stop()


def demo_settings(*, x_url: str, slack_url: str, web_port: int) -> Settings:
    return Settings(
        key_prefix=DEMO_PREFIX,
        web_port=web_port,
        x_api_url=x_url,
        x_bearer_token=X_BEARER_TOKEN,
        slack_api_url=f"{slack_url}/api/",
        slack_bot_token=SLACK_BOT_TOKEN,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_team_id=SLACK_TEAM_ID,
        slack_app_id=SLACK_APP_ID,
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


async def run_demo(*, config_path: Path, seed: bool) -> None:
    from bridge.runtime import Runtime

    config = load_config(config_path)
    x_port, slack_port, web_port = (_port_or_free(p) for p in (8701, 8702, 8700))
    bridge_url = f"http://127.0.0.1:{web_port}/slack/events"
    say(f"Reachable demo, with {config_path}")
    settings = demo_settings(
        x_url=f"http://127.0.0.1:{x_port}",
        slack_url=f"http://127.0.0.1:{slack_port}",
        web_port=web_port,
    )
    store = await choose_redis(Settings())
    say(f"• State: {store.description}")
    redis = store.factory()
    await clear_prefix(redis, DEMO_PREFIX)
    await redis.aclose()
    x_server, slack_server = await start_emulators(
        x_port=x_port, slack_port=slack_port, bridge_url=bridge_url
    )
    say(
        f"• X emulator on {x_server.url}, Slack emulator on {slack_server.url}, "
        f"bridge web app on http://127.0.0.1:{web_port}"
    )
    stop = asyncio.Event()
    _stop_on_signals(stop)
    runtime = Runtime(settings=settings, config=config, redis_factory=store.factory)
    bridge = asyncio.create_task(runtime.run(stop), name="bridge")
    try:
        await _wait_ready(runtime, bridge)
        say("• Bridge running: poller, router and Slack mirror in one process")
        channels = [d.address for d in config.destinations.values() if d.chat == "slack"]
        async with httpx.AsyncClient(timeout=10) as http:
            if seed:
                await _seed(http, x_server.url, config)
                await _show_when_settled(
                    http, slack_server.url, channels, expected=len(SAMPLE_POSTS), stop=stop
                )
            say("")
            say("The demo keeps running. Post another mention from a second terminal:")
            say(
                f'  {_command()} demo post "@humas_demo jalan rusak di depan pasar" '
                "--author warga_budi" + ("" if x_port == 8701 else f" --x-url {x_server.url}")
            )
            say("New messages appear below. Ctrl+C stops the demo.")
            await _follow(http, slack_server.url, channels, stop, bridge)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await bridge
        await slack_server.stop()
        await x_server.stop()
        store.close()
        say("Demo stopped.")


async def _wait_ready(runtime: Any, bridge: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(runtime.ready.wait())
    done, _ = await asyncio.wait([ready, bridge], return_when=asyncio.FIRST_COMPLETED)
    if bridge in done:
        ready.cancel()
        bridge.result()
        raise ReachableError("the bridge stopped during start-up")


async def _seed(http: httpx.AsyncClient, x_url: str, config: Config) -> None:
    say("")
    say("Members of the public post on X:")
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
        "Waiting for them to appear in Slack (the poller checks X every "
        f"{int(config.accounts[0].poll_every.total_seconds())} s)…"
    )


async def _messages(http: httpx.AsyncClient, slack_url: str, channel: str) -> list[dict[str, Any]]:
    response = await http.get(f"{slack_url}/_emulator/messages", params={"channel": channel})
    response.raise_for_status()
    return list(response.json()["messages"])


async def _show_when_settled(
    http: httpx.AsyncClient,
    slack_url: str,
    channels: list[str],
    *,
    expected: int,
    stop: asyncio.Event,
) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while not stop.is_set():
        counts = [len(await _messages(http, slack_url, c)) for c in channels]
        if sum(counts) >= expected or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    for channel in channels:
        messages = await _messages(http, slack_url, channel)
        if messages:
            say("")
            say(render_channel(channel, messages))
            pings = [p for m in messages for p in m.get("pings", [])]
            say("")
            say(
                f"Pings caused by these {len(messages)} messages: {len(pings) or 'none'}. The "
                "post by @promo_spam tried <!channel>, @here and a link disguised as a bank's; "
                "Slack shows it as plain text."
            )


async def _follow(
    http: httpx.AsyncClient,
    slack_url: str,
    channels: list[str],
    stop: asyncio.Event,
    bridge: asyncio.Task[None],
) -> None:
    seen = {c: {m["ts"] for m in await _messages(http, slack_url, c)} for c in channels}
    while not stop.is_set() and not bridge.done():
        for channel in channels:
            for message in await _messages(http, slack_url, channel):
                if message["ts"] not in seen[channel]:
                    seen[channel].add(message["ts"])
                    say("")
                    say(f"New in #{SLACK_CHANNELS.get(channel, channel)}:")
                    say(render_message(message, indent="  "))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
    if bridge.done() and not stop.is_set():
        bridge.result()


_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_DATE = re.compile(r"<!date\^\d+\^[^|]*\|([^>]+)>")


def _mrkdwn_for_terminal(text: str) -> str:
    text = _DATE.sub(r"\1", text)
    text = _LINK.sub(
        lambda m: m.group(2) if m.group(2).startswith("@") else f"{m.group(2)} ({m.group(1)})", text
    )
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _element_text(element: dict[str, Any]) -> str:
    text = str(element.get("text", ""))
    return _mrkdwn_for_terminal(text) if element.get("type") == "mrkdwn" else text


def render_message(message: dict[str, Any], *, indent: str = "") -> str:
    """A Slack message as a person sees it, in plain terminal text."""
    lines: list[str] = []
    for block in message.get("blocks") or []:
        kind = block.get("type")
        if kind == "context":
            lines.append(" · ".join(_element_text(e) for e in block.get("elements", [])))
        elif kind == "section" and block.get("text"):
            lines += [f"  {line}" for line in _element_text(block["text"]).splitlines()]
        elif kind == "actions":
            lines.append(
                "  ".join(
                    f"[{_element_text(e.get('text', {}))}]" for e in block.get("elements", [])
                )
            )
    if not lines:
        lines.append(_mrkdwn_for_terminal(str(message.get("text", ""))))
    return "\n".join(f"{indent}│ {line}" for line in lines)


def render_channel(channel: str, messages: list[dict[str, Any]]) -> str:
    name = SLACK_CHANNELS.get(channel, channel)
    out = [f"What staff now see in Slack #{name} ({channel}):"]
    top = [m for m in messages if not m.get("thread_ts") or m.get("thread_ts") == m["ts"]]
    for message in top:
        out.append("┌" + "─" * 70)
        out.append(render_message(message))
        replies = [
            m for m in messages if m.get("thread_ts") == message["ts"] and m["ts"] != message["ts"]
        ]
        for reply in replies:
            out.append("│   ↳ in the thread:")
            out.append(render_message(reply, indent="│     "))
        out.append("└" + "─" * 70)
    return "\n".join(out)


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


def _command() -> str:
    """How this person runs reachable: plain when on PATH, else the virtualenv's copy."""
    return "reachable" if shutil.which("reachable") else ".venv/bin/reachable"


def say(text: str) -> None:
    print(text, flush=True)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
