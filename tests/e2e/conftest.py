"""The whole service as a user meets it: emulators in threads, the bridge as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from app.httpserver import ThreadedServer, free_port
from cli.redisproc import RedisProcess
from emulators.slack import SlackEmulator
from emulators.telegram import TelegramEmulator
from emulators.x import XEmulator
from tests.e2e.web_browser import Browser

ROOT = Path(__file__).resolve().parents[2]
X_TOKEN = "test-x-bearer"
SLACK_TOKEN = "xoxb-test-token"
SLACK_SECRET = "test-signing-secret"
SLACK_APP_TOKEN = "xapp-1-A0TEST-test"
TEAM_ID = "T0TEST"
APP_ID = "A0TEST"
TELEGRAM_TOKEN = "424242:test-telegram-token"
X_CONSUMER = ("test-consumer-key", "test-consumer-secret")
X_HUMAS_TOKEN = ("humas-access-token", "humas-access-secret")
X_OAUTH_CLIENT = ("test-oauth-client", "test-oauth-client-secret")
TOKEN_KEY = "0Ud4C3Zd2kAr1SrY5dTt3s5o0GCH1zkq2xVQ2DbYSxI="
GROUP = -1001000000001
UNKNOWN_GROUP = -1009999999999
FORUM = -1002000000002
BASIC_GROUP = -4000000001
# The platforms' rate limits are on, on emulator clocks running TIME_SCALE times faster than real
# time (Telegram's 20 messages a minute per group pass in 3 s at 20), and the bridge paces itself
# on the same clock. REACHABLE_TEST_TIME_SCALE changes it: 1 runs the suite in real time.
TIME_SCALE = float(os.environ.get("REACHABLE_TEST_TIME_SCALE", "20"))
CLAIM_IDLE_S = 3.0
# How long a check for repeats watches once the expected state is there: longer than a
# deferred entry's retry (a quarter of the claim-idle time) twice over; after a worker was
# killed, longer than the claim-idle time after which its entries are taken over.
REPEAT_WINDOW_S = 2.0
TAKEOVER_WINDOW_S = CLAIM_IDLE_S + 1.0
T = TypeVar("T")

CONFIG = """
accounts:
  - {key: humas, handle: humas_demo, poll_every: 1s, backfill: 20}
destinations:
  humas-slack: {chat: slack, channel: C0HUMAS}
  humas-telegram: {chat: telegram, chat_id: -1001000000001}
  supervisors: {chat: slack, channel: C0SUPER}
people:
  - {key: rina, slack: U0RINA, telegram: 1001, speaks_for: [humas]}
  - {key: sari, slack: U0SARI, telegram: 1002, roles: [staff, supervisor, admin]}
routes:
  - {name: complaints, match: {any_words: [rusak, lapor]}, to: [humas-slack, humas-telegram],
     sla: 30m, priority: high}
  - {name: everything-else, to: [humas-slack, humas-telegram], sla: 4h}
escalation: {to: supervisors}
"""


class Emulators:
    def __init__(self, bridge_port: int) -> None:
        self.bridge_port = bridge_port
        self.x = XEmulator(
            oauth1_consumers={X_CONSUMER[0]: X_CONSUMER[1]},
            oauth1_tokens={X_HUMAS_TOKEN[0]: (X_HUMAS_TOKEN[1], "humas_demo")},
            oauth2_clients={X_OAUTH_CLIENT[0]: X_OAUTH_CLIENT[1]},
            oauth2_callbacks={
                X_OAUTH_CLIENT[0]: [f"http://127.0.0.1:{bridge_port}/link/x/callback"]
            },
            bearer_tokens={X_TOKEN},
            users=[
                {"username": "humas_demo", "name": "Humas", "verified": True, "followers": 1000}
            ],
            time_scale=TIME_SCALE,
        )
        self.slack = SlackEmulator(
            bot_token=SLACK_TOKEN,
            signing_secret=SLACK_SECRET,
            team_id=TEAM_ID,
            app_id=APP_ID,
            bot_user_id="U0BOT",
            bot_id="B0BOT",
            bridge_url=f"http://127.0.0.1:{bridge_port}/slack/events",
            app_token=SLACK_APP_TOKEN,
            channels={"C0HUMAS": "humas", "C0SUPER": "supervisors"},
            users={
                "U0RINA": "rina",
                "U0SARI": "sari",
                "U0EVE": "eve",
                "U0BUDI": "budi",
                "U0ADI": "adi",
            },
            time_scale=TIME_SCALE,
        )
        self.telegram = TelegramEmulator(
            token=TELEGRAM_TOKEN,
            bot_username="reachable_test_bot",
            chats={
                GROUP: {"title": "Humas", "type": "supergroup", "is_forum": False},
                UNKNOWN_GROUP: {"title": "Elsewhere", "type": "supergroup", "is_forum": False},
                FORUM: {"title": "Desks", "type": "supergroup", "is_forum": True},
                BASIC_GROUP: {"title": "Old group", "type": "group", "is_forum": False},
                1001: {"type": "private"},
                1002: {"type": "private"},
                1003: {"type": "private"},
                1004: {"type": "private"},
                6666: {"type": "private"},
            },
            users={
                1001: {"first_name": "Rina"},
                1002: {"first_name": "Sari"},
                1003: {"first_name": "Budi"},
                1004: {"first_name": "Adi"},
                6666: {"first_name": "Eve"},
            },
            time_scale=TIME_SCALE,
        )
        self.x_server = ThreadedServer(self.x.app).start()
        self.slack_server = ThreadedServer(self.slack.app).start()
        self.telegram_server = ThreadedServer(self.telegram.app).start()
        self.http = httpx.Client(timeout=15)

    def post(self, author: str, text: str, in_reply_to: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"author": author, "text": text}
        if in_reply_to:
            body["in_reply_to"] = in_reply_to
        response = self.http.post(f"{self.x_server.url}/_emulator/posts", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def messages(self, channel: str = "C0HUMAS") -> list[dict[str, Any]]:
        response = self.http.get(
            f"{self.slack_server.url}/_emulator/messages", params={"channel": channel}
        )
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def telegram_messages(self, chat_id: int = GROUP) -> list[dict[str, Any]]:
        response = self.http.get(
            f"{self.telegram_server.url}/_emulator/messages", params={"chat_id": chat_id}
        )
        assert response.status_code == 200, response.text
        return list(response.json()["messages"])

    def telegram_control(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"{self.telegram_server.url}/_emulator/{path}", json=body)

    def press(self, user_id: int, chat_id: int, message_id: int, action: str) -> str:
        """A person presses a button; returns the callback query's id."""
        response = self.telegram_control(
            "press",
            {"user_id": user_id, "chat_id": chat_id, "message_id": message_id, "action": action},
        )
        assert response.status_code == 200, response.text
        return str(response.json()["callback_query_id"])

    def answer_text(self, callback_query_id: str, *, timeout: float = 20) -> str:
        """What the bot answered to a button press (the toast or alert the person sees)."""

        def answered() -> str | None:
            answer = self.http.get(
                f"{self.telegram_server.url}/_emulator/answers",
                params={"callback_query_id": callback_query_id},
            ).json()
            return answer.get("text") if answer.get("answered") else None

        return str(wait_for(answered, timeout=timeout, what="the bot's answer to a button"))

    def telegram_pending(self) -> int:
        """Updates Telegram still holds for the bot: 0 once every one was taken and confirmed
        (the webhook's 200, or a later getUpdates' offset)."""
        info = self.http.get(f"{self.telegram_server.url}/bot{TELEGRAM_TOKEN}/getWebhookInfo")
        return int(info.json()["result"]["pending_update_count"])

    def telegram_calls(self, method: str) -> list[dict[str, Any]]:
        calls = self.http.get(f"{self.telegram_server.url}/_emulator/calls").json()["calls"]
        return [c for c in calls if c["path"].endswith(f"/{method}")]

    def slack_control(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"{self.slack_server.url}/_emulator/{path}", json=body)

    def click(self, user: str, ts: str, action: str, channel: str = "C0HUMAS") -> None:
        """A person presses a button of a Slack message; the bridge must accept it."""
        result = self.slack_control(
            "click", {"user": user, "channel": channel, "ts": ts, "action_id": action}
        )
        assert result.json()["status"] == 200, result.text

    def slash(self, user: str, text: str, channel: str = "C0HUMAS") -> str:
        """A person types ``/reachable <text>``; returns the bridge's immediate answer."""
        result = self.slack_control(
            "command", {"user": user, "channel": channel, "command": "/reachable", "text": text}
        )
        assert result.status_code == 200 and result.json()["status"] == 200, result.text
        return str(result.json()["body"])

    def views(self, user: str) -> list[dict[str, Any]]:
        """The modals open for a person in Slack, once there is one."""
        return list(
            wait_for(
                lambda: self.http.get(
                    f"{self.slack_server.url}/_emulator/views", params={"user": user}
                ).json()["views"],
                what=f"a form open for {user}",
            )
        )

    def x_control(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(f"{self.x_server.url}/_emulator/{path}", json=body)

    def close(self) -> None:
        self.http.close()
        self.x_server.stop()
        self.slack_server.stop()
        self.telegram_server.stop()


class BridgeProcess:
    """``reachable run`` in a child process, as an operator starts it."""

    def __init__(
        self, *, env: dict[str, str], config: Path, roles: tuple[str, ...] = (), log: Path
    ) -> None:
        args = [sys.executable, "-m", "cli", "run", "--config", str(config)]
        for role in roles:
            args += ["--role", role]
        self._log = log.open("ab")
        self.process = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


class Deployment:
    def __init__(self, tmp_path: Path, redis_url: str, emulators: Emulators) -> None:
        self.emulators = emulators
        self.config = tmp_path / "reachable.yaml"
        self.config.write_text(CONFIG)
        self.log = tmp_path / "bridge.log"
        self.env = {
            **os.environ,
            "REACHABLE_REDIS_URL": redis_url,
            "REACHABLE_KEY_PREFIX": "e2e",
            "REACHABLE_WEB_PORT": str(emulators.bridge_port),
            "REACHABLE_X_API_URL": emulators.x_server.url,
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
            "REACHABLE_SLACK_API_URL": f"{emulators.slack_server.url}/api/",
            "REACHABLE_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "REACHABLE_SLACK_SIGNING_SECRET": SLACK_SECRET,
            "REACHABLE_SLACK_TEAM_ID": TEAM_ID,
            "REACHABLE_SLACK_APP_ID": APP_ID,
            "REACHABLE_TELEGRAM_API_URL": emulators.telegram_server.url,
            "REACHABLE_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
            "REACHABLE_PLATFORM_TIME_SCALE": str(TIME_SCALE),
            "REACHABLE_CLAIM_IDLE_S": str(CLAIM_IDLE_S),
            "REACHABLE_TOKEN_KEY": TOKEN_KEY,
            "REACHABLE_PUBLIC_URL": f"http://127.0.0.1:{emulators.bridge_port}",
            "REACHABLE_X_OAUTH_CLIENT_ID": X_OAUTH_CLIENT[0],
            "REACHABLE_X_OAUTH_CLIENT_SECRET": X_OAUTH_CLIENT[1],
            "NO_PROXY": "127.0.0.1,localhost",
        }
        self.processes: list[BridgeProcess] = []

    def start(self, *roles: str) -> BridgeProcess:
        process = BridgeProcess(env=self.env, config=self.config, roles=roles, log=self.log)
        self.processes.append(process)
        if not roles or "web" in roles:
            wait_for(
                lambda: _healthy(self.emulators.bridge_port) or not process.alive(),
                # About 2 s on a quiet machine; far more when the suite's workers share
                # two busy cores.
                timeout=60,
                what="the bridge's web app",
            )
            assert process.alive(), self.log.read_text()
        return process

    def audit(self) -> str:
        """What `reachable audit --since 1h` prints for this deployment."""
        result = subprocess.run(
            [sys.executable, "-m", "cli", "audit", "--since", "1h"],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def use_slack_socket_mode(self) -> None:
        """Slack reaches the bridge over the websocket the bridge opens, not by HTTP."""
        response = self.emulators.slack_control("config", {"socket_mode": True})
        assert response.status_code == 200, response.text
        self.env.pop("REACHABLE_SLACK_SIGNING_SECRET")
        self.env["REACHABLE_SLACK_MODE"] = "socket"
        self.env["REACHABLE_SLACK_APP_TOKEN"] = SLACK_APP_TOKEN
        self.env["REACHABLE_SLACK_SOCKET_PING_S"] = "1"

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def settled(
    measure: Callable[[], T],
    *,
    until: Callable[[T], bool],
    what: str,
    timeout: float = 40,
    window_s: float = REPEAT_WINDOW_S,
) -> T:
    """What ``measure`` reads once ``until`` holds for it, after watching it stay the same for
    ``window_s`` more seconds. The test fails when the state never comes within ``timeout``,
    and when anything changes in the window (a repeat arriving late, one more post), so a slow
    bridge cannot pass a check it never reached."""
    reached: list[T] = []

    def arrived() -> bool:
        reached[:] = [measure()]
        return until(reached[0])

    wait_for(arrived, timeout=timeout, what=what)
    deadline = time.monotonic() + window_s
    while time.monotonic() < deadline:
        time.sleep(0.1)
        later = measure()
        assert later == reached[0], f"{what}, then it changed: {reached[0]!r} became {later!r}"
    return reached[0]


@pytest.fixture
def emulators() -> Iterator[Emulators]:
    instance = Emulators(bridge_port=free_port())
    yield instance
    instance.close()


@pytest.fixture
def deployment(tmp_path: Path, redis_url: str, emulators: Emulators) -> Iterator[Deployment]:
    instance = Deployment(tmp_path, redis_url, emulators)
    yield instance
    instance.stop_all()


@pytest.fixture
def browsers() -> Iterator[Callable[[], Browser]]:
    """A new browser of its own (own cookies) for each person in the story."""
    opened: list[Browser] = []

    def new_browser() -> Browser:
        opened.append(Browser())
        return opened[-1]

    yield new_browser
    for browser in opened:
        browser.close()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    process = RedisProcess(directory=tmp_path, appendonly=True).start()
    yield process
    process.cleanup()


def slack_buttons(message: dict[str, Any]) -> list[str]:
    """The action ids of a Slack message's buttons, in order."""
    return [
        element["action_id"]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def telegram_buttons(message: dict[str, Any]) -> list[str]:
    """The actions (callback_data before ':') of a Telegram message's buttons, in order."""
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["callback_data"].split(":", 1)[0] for row in keyboard for button in row]
