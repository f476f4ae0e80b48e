"""What every benchmark runs on: a real redis-server, the three emulators in this process, and
the bridge as its own process (``reachable run``), exactly as an operator starts it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import redis

from app.httpserver import ThreadedServer, free_port
from cli.redisproc import RedisProcess
from emulators.slack import SlackEmulator
from emulators.telegram import TelegramEmulator
from emulators.x import PostSpec, XEmulator

ROOT = Path(__file__).resolve().parents[1]
X_TOKEN = "bench-bearer"
SLACK_TOKEN = "xoxb-bench"
SLACK_SECRET = "bench-signing-secret"
TELEGRAM_TOKEN = "4242:bench"
X_CONSUMER = ("bench-consumer-key", "bench-consumer-secret")
X_HUMAS_TOKEN = ("bench-humas-token", "bench-humas-secret")
CHANNEL = "C0BENCH"
GROUP = -1001000000042
PREFIX = "bench"

CONFIG = """
accounts:
  - {{key: humas, handle: humas_demo, poll_every: {poll}, backfill: 1}}
destinations:
  desk: {{chat: slack, channel: {channel}}}
routes:
  - {{name: everything, to: [desk], sla: 4h}}
"""


class Bench:
    """One deployment: start it, feed it mentions, read what the chats show and what it cost.

    The platforms' limits are off (Slack's on for the burst run, ``slack_limits``): throughput,
    Redis cost and latency measure the bridge itself, which the platforms' pace would hide.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        poll: str = "1s",
        slack_limits: bool = False,
        config: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``config``: the YAML file's text instead of one Slack channel's (``{poll}`` and
        ``{channel}`` filled in); ``env``: more settings for the bridge."""
        self.workdir = workdir
        self.redis = RedisProcess(directory=workdir, appendonly=True).start()
        self.web_port = free_port()
        self.x = XEmulator(
            bearer_tokens={X_TOKEN},
            oauth1_consumers={X_CONSUMER[0]: X_CONSUMER[1]},
            oauth1_tokens={X_HUMAS_TOKEN[0]: (X_HUMAS_TOKEN[1], "humas_demo")},
            users=[{"username": "humas_demo", "name": "Humas", "followers": 1000}],
        )
        self.x.limiter.set_enabled(False)
        self.slack = SlackEmulator(
            bot_token=SLACK_TOKEN,
            signing_secret=SLACK_SECRET,
            channels={CHANNEL: "bench"},
            users={"U0RINA": "rina"},
            rate_limits=slack_limits,
            bridge_url=f"http://127.0.0.1:{self.web_port}/slack/events",
        )
        self.telegram = TelegramEmulator(
            token=TELEGRAM_TOKEN,
            bot_username="bench_bot",
            chats={GROUP: {"title": "Bench", "type": "supergroup"}},
            users={1001: {"first_name": "Rina"}},
            rate_limits=False,
        )
        self.servers = [
            ThreadedServer(app).start() for app in (self.x.app, self.slack.app, self.telegram.app)
        ]
        self.config = workdir / "reachable.yaml"
        self.config.write_text((config or CONFIG).format(poll=poll, channel=CHANNEL))
        self.log = workdir / "bridge.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(timeout=30, trust_env=False)
        self.slack_interval_s = 1.0 if slack_limits else 0.0
        self.extra_env = env or {}

    @property
    def x_url(self) -> str:
        return self.servers[0].url

    @property
    def slack_url(self) -> str:
        return self.servers[1].url

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "REACHABLE_REDIS_URL": self.redis.url,
            "REACHABLE_KEY_PREFIX": PREFIX,
            "REACHABLE_WEB_PORT": str(self.web_port),
            "REACHABLE_X_API_URL": self.x_url,
            "REACHABLE_X_BEARER_TOKEN": X_TOKEN,
            "REACHABLE_X_CONSUMER_KEY": X_CONSUMER[0],
            "REACHABLE_X_CONSUMER_SECRET": X_CONSUMER[1],
            "REACHABLE_X_ACCOUNT_TOKENS": json.dumps(
                {
                    "humas": {
                        "access_token": X_HUMAS_TOKEN[0],
                        "access_token_secret": X_HUMAS_TOKEN[1],
                    }
                }
            ),
            "REACHABLE_SLACK_API_URL": f"{self.slack_url}/api/",
            "REACHABLE_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "REACHABLE_SLACK_SIGNING_SECRET": SLACK_SECRET,
            "REACHABLE_SLACK_CHANNEL_INTERVAL_S": str(self.slack_interval_s),
            "REACHABLE_TELEGRAM_API_URL": self.servers[2].url,
            "REACHABLE_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "REACHABLE_PERSONAL_ACCOUNTS": "false",
            "REACHABLE_LOG_LEVEL": "WARNING",
            "NO_PROXY": "127.0.0.1,localhost",
            **self.extra_env,
        }

    def start(self, *roles: str) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "cli", "run", "--config", str(self.config)]
        for role in roles:
            args += ["--role", role]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(args, env=self.env(), stdout=log, stderr=log, cwd=ROOT)
        return self.process

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def close(self) -> None:
        self.stop()
        self.http.close()
        for server in self.servers:
            server.stop()
        self.redis.cleanup()

    # -- feeding and reading ---------------------------------------------------------------------

    def post_mentions(self, count: int, *, tag: str) -> list[tuple[str, float]]:
        """Members of the public post ``count`` mentions; their ids and when each was posted."""
        posted = []
        for n in range(count):
            post = self.x.add_post(
                PostSpec(author=f"warga_{n % 500}", text=f"@humas_demo {tag} nomor {n}")
            )
            posted.append((post.id, time.time()))
        return posted

    def slack_messages(self) -> list[dict[str, Any]]:
        return list(self.slack.messages(CHANNEL))

    def wait_for_messages(self, count: int, *, timeout_s: float) -> float:
        """Seconds until the channel shows ``count`` messages (raises past the timeout)."""
        started = time.monotonic()
        while len(self.slack_messages()) < count:
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"{len(self.slack_messages())} of {count} after {timeout_s} s")
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the bridge stopped: see {self.log}")
            time.sleep(0.05)
        return time.monotonic() - started

    def x_calls(self, fragment: str) -> list[dict[str, Any]]:
        return [c for c in self.x.core.calls_snapshot() if fragment in c["path"]]

    def redis_commands(self) -> int:
        with redis.Redis.from_url(self.redis.url) as client:
            stats = client.info("commandstats")
        return sum(int(v["calls"]) for v in stats.values())

    def round_trips(self) -> int:
        """Requests the bridge process sent to Redis since it started (its own count)."""
        metrics = self.http.get(f"http://127.0.0.1:{self.web_port}/metrics").text
        found = re.search(r"^reachable_redis_round_trips_total (\S+)$", metrics, re.MULTILINE)
        assert found is not None, "the bridge's /metrics has no round-trip count"
        return int(float(found.group(1)))

    def redis_info(self, section: str) -> dict[str, Any]:
        with redis.Redis.from_url(self.redis.url) as client:
            return dict(client.info(section))

    def rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return kb / 1024


def dump(results: dict[str, Any], path: Path | None) -> None:
    if path is not None:
        path.write_text(json.dumps(results, indent=2, default=str))
