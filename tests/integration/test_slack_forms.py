"""Every form the Slack buttons open, opened by people in the Slack emulator: within Slack's
limits for the longest names the config and X allow, in each person's language, and a busy
Slack is said plainly instead of a button that does nothing.

The bridge's Slack app runs in this test's event loop (its web routes on a local port); the
emulator signs each click as Slack does and refuses any form Slack would refuse.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from adapters.slack.chat import SlackChat
from app.config import parse_config
from app.httpserver import EmbeddedServer, ThreadedServer, free_port
from app.settings import AppSettings
from bridge.actions import ActionDispatcher
from bridge.desks.claims import ThreadDesk
from bridge.desks.replies import ReplyDesk
from bridge.domain.models import Author, Mention, ThreadStatus
from bridge.store.store import Store
from bridge.store.threads import change_state
from bridge.store.vault import Credentials, LinkedAccount, Sealer, TokenVault
from emulators.slack import SlackEmulator
from tests.integration.test_slack_mirror import drain

TOKEN, SECRET = "xoxb-forms-test", "forms-secret"
CHANNEL = "C0DESK"
# The longest an X handle (15) and a configured name (80) can be.
HANDLE, PERSONAL = "humas_kominfo_1", "sari_pribadi_01"
RINA_NAME = "Rina Wulandari Kusumaningrum Prawirodirdjo " + "R" * 37
CONFIG = parse_config(f"""
accounts: [{{key: humas, handle: {HANDLE}}}]
destinations:
  desk: {{chat: slack, channel: {CHANNEL}}}
people:
  - {{key: rina, name: "{RINA_NAME}", slack: U0RINA, speaks_for: [humas]}}
  - {{key: sari, name: Sari, slack: U0SARI, speaks_for: [humas], locale: id}}
routes: [{{name: all, to: [desk]}}]
""")


@pytest.fixture
def slack() -> Iterator[tuple[SlackEmulator, str]]:
    emulator = SlackEmulator(
        bot_token=TOKEN,
        signing_secret=SECRET,
        channels={CHANNEL: "desk"},
        users={"U0RINA": "rina", "U0SARI": "sari"},
        rate_limits=True,
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@dataclass
class Desk:
    """The channel as staff see it: the emulator's control API, acting as people."""

    emulator: SlackEmulator
    http: httpx.AsyncClient
    chat: SlackChat

    async def press(self, user: str, action: str, ts: str | None = None) -> None:
        ts = ts or self.emulator.messages(CHANNEL)[0]["ts"]
        click = {"user": user, "channel": CHANNEL, "ts": ts, "action_id": action}
        answer = await self.http.post("/click", json=click)
        assert answer.status_code == 200 and answer.json()["status"] == 200, answer.text

    async def form(self, user: str, action: str) -> dict[str, Any]:
        """Press a button and return the form Slack opens for it."""
        before = {v["id"] for v in self.emulator.open_views(user)}
        await self.press(user, action)
        found = await until(
            lambda: [v for v in self.emulator.open_views(user) if v["id"] not in before],
            f"a form for {user}",
        )
        view: dict[str, Any] = found[-1]
        return view

    async def told(self, user: str, words: str) -> str:
        texts = await until(
            lambda: [
                e["text"] for e in self.emulator.ephemerals(CHANNEL, user) if words in e["text"]
            ],
            f"{user} told {words!r}",
        )
        return str(texts[-1])

    async def slow_down(self, method: str, **fault: Any) -> None:
        answer = await self.http.post("/faults", json={"path": f"/api/{method}", **fault})
        assert answer.status_code == 200, answer.text


async def until(found: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        value = await asyncio.to_thread(found)
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
async def desk(slack: tuple[SlackEmulator, str], store: Store) -> AsyncIterator[Desk]:
    emulator, url = slack
    vault = TokenVault(store, Sealer(SecretStr(Sealer.new_key())))
    await vault.save(
        LinkedAccount(
            person="sari",
            network="x",
            handle=PERSONAL,
            user_id="4242",
            method="oauth2",
            linked_at=datetime.now(UTC),
        ),
        Credentials(method="oauth2", access_token=SecretStr("sari-access")),
    )
    settings = AppSettings(
        slack_api_url=f"{url}/api/", slack_bot_token=TOKEN, slack_signing_secret=SECRET
    )
    chat = SlackChat(
        settings=settings,
        config=lambda: CONFIG,
        store=store,
        actions=ActionDispatcher(
            store,
            config=lambda: CONFIG,
            replies=ReplyDesk(store, config=lambda: CONFIG, publishers={}, vault=vault),
            threads=ThreadDesk(store, config=lambda: CONFIG),
        ),
    )
    bridge = EmbeddedServer(Starlette(routes=list(chat.web_routes())), port=free_port())
    await bridge.start()
    async with httpx.AsyncClient(base_url=f"{url}/_emulator", timeout=15) as http:
        answer = await http.post("/config", json={"bridge_url": f"{bridge.url}/slack/events"})
        assert answer.status_code == 200
        await store.append_mentions(
            [
                Mention(
                    network="x",
                    id="1900000000000000001",
                    account="humas",
                    text=f"@{HANDLE} lampu jalan mati di depan sekolah",
                    # X allows display names of 50 characters.
                    author=Author(id="7", handle="warga_budiman_1", name="W" * 50, followers=3),
                    created_at=datetime(2026, 12, 1, tzinfo=UTC),
                    conversation_id="1900000000000000001",
                )
            ],
            network="x",
            account="humas",
            cursor="1900000000000000001",
        )
        await drain(store, chat, CONFIG, interval_s=0.01)
        yield Desk(emulator, http, chat)
    await bridge.stop()
    await chat.close()


def labels(view: dict[str, Any]) -> tuple[str, str, str]:
    return (view["title"]["text"], view["submit"]["text"], view["close"]["text"])


async def test_every_form_opens_within_slacks_limits_in_each_persons_language(
    desk: Desk, store: Store
) -> None:
    # "Reply as @humas_kominfo_1" is a character longer than Slack lets a title be: the form
    # says "Reply" rather than a handle cut into somebody else's.
    form = await desk.form("U0RINA", "reply_institution")
    assert labels(form) == ("Reply", "Post reply", "Cancel")
    assert f"posted publicly on X as @{HANDLE}" in str(form["blocks"])

    form = await desk.form("U0RINA", "reply_personal")
    assert form["title"]["text"] == "Reply as myself"
    assert "not linked yet" in str(form["blocks"])

    form = await desk.form("U0SARI", "reply_personal")
    assert labels(form) == ("Balas", "Kirim balasan", "Batal")
    assert f"@{PERSONAL}" in str(form["blocks"])

    form = await desk.form("U0SARI", "dismiss")
    assert labels(form) == ("Abaikan mention", "Abaikan", "Batal")
    reasons = next(b for b in form["blocks"] if b["block_id"] == "reason")["element"]["options"]
    assert [o["value"] for o in reasons] == ["spam", "not_for_us", "duplicate", "other"]

    # Answered, the thread offers "Reply again": a form that lets Sari pick who she answers as.
    thread_id = (await store.thread_ids())[0]
    await change_state(store, thread_id, status=ThreadStatus.ANSWERED, by="rina")
    await drain(store, desk.chat, CONFIG, interval_s=0.01)
    form = await desk.form("U0SARI", "reply_again")
    assert form["title"]["text"] == "Balas lagi"
    choice = next(b for b in form["blocks"] if b["block_id"] == "identity")["element"]
    assert [o["text"]["text"] for o in choice["options"]] == [
        f"@{HANDLE} (institusi)",
        f"@{PERSONAL} (akun Anda)",
    ]
    # Every form was accepted by Slack's checks, on the first try.
    calls = (await desk.http.get("/calls", params={"path": "/api/views.open"})).json()["calls"]
    assert [c["status"] for c in calls] == [200] * 5


async def test_a_claim_shows_the_longest_name_on_the_mirror(desk: Desk, store: Store) -> None:
    await desk.press("U0RINA", "claim")
    await desk.told("U0RINA", "It is yours")
    await drain(store, desk.chat, CONFIG, interval_s=0.01)
    [message] = desk.emulator.messages(CHANNEL)
    assert f"🙋 {RINA_NAME} is on it" in str(message["blocks"]) and message["edited"]


async def test_a_busy_slack_is_said_plainly_to_the_person_who_pressed(desk: Desk) -> None:
    await desk.slow_down("views.open", error="rate_limited", retry_after=7)
    await desk.press("U0SARI", "dismiss")
    told = await desk.told("U0SARI", "Slack sedang sibuk")
    assert "7 detik" in told and "Tekan tombolnya lagi" in told
    assert desk.emulator.open_views("U0SARI") == []

    await desk.slow_down("views.open", status=503)
    await desk.press("U0RINA", "dismiss")
    await desk.told("U0RINA", "Slack did not answer in time and the form did not open")

    assert (await desk.form("U0SARI", "dismiss"))["title"]["text"] == "Abaikan mention"


async def test_a_private_answer_waits_out_slacks_rate_limit(desk: Desk) -> None:
    await desk.slow_down("chat.postEphemeral", error="rate_limited", retry_after=1, times=2)
    await desk.press("U0RINA", "claim")
    await desk.told("U0RINA", "It is yours")
    calls = (await desk.http.get("/calls", params={"path": "/api/chat.postEphemeral"})).json()
    times = [c["time"] for c in calls["calls"]]
    assert len(times) == 3 and times[2] - times[0] >= 1.9
