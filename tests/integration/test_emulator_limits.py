"""The emulators hold the real clients to the platforms' stated rate limits, on a clock that may
run faster than real time; every wait they state is in that clock's seconds, and a bridge
told the same scale waits the right real time.

Sources of the limits are named beside them in the emulators; these tests read like a bot
meeting them: python-telegram-bot, slack-sdk and tweepy (through XClient) over real HTTP.
"""

from __future__ import annotations

import os

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import RetryAfter

from adapters.x.client import XClient
from app.httpserver import ThreadedServer
from bridge.domain.platform_time import PlatformTime
from bridge.errors import RateLimited
from emulators.slack import SlackEmulator
from emulators.telegram import TelegramEmulator
from emulators.x import XEmulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TOKEN = "123456:ABC-limits"
GROUP, RINA = -1001000000001, 1001
SLACK_TOKEN, APP_TOKEN = "xoxb-limits", "xapp-1-A0LIMITS-limits"
X_APP = "app-bearer-token"
X_KEYS = {"consumer_key": "ck", "consumer_secret": "cs"}
HUMAS = {"access_token": "at-humas", "access_token_secret": "ats-humas"}
RINA_X = {"access_token": "at-rina", "access_token_secret": "ats-rina"}


def served(app: object) -> Iterator[str]:
    server = ThreadedServer(app).start()  # type: ignore[arg-type]
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramEmulator, str]]:
    emulator = TelegramEmulator(
        token=TOKEN,
        bot_username="limits_bot",
        chats={GROUP: {"title": "Humas", "type": "supergroup"}, RINA: {"type": "private"}},
        users={RINA: {"first_name": "Rina"}},
        time_scale=30,
    )
    for url in served(emulator.app):
        yield emulator, url


@pytest.fixture
def slack() -> Iterator[tuple[SlackEmulator, str]]:
    emulator = SlackEmulator(
        bot_token=SLACK_TOKEN, app_token=APP_TOKEN, channels={"C0HUMAS": "humas"}, time_scale=30
    )
    for url in served(emulator.app):
        yield emulator, url


@pytest.fixture
def x() -> Iterator[tuple[XEmulator, str]]:
    emulator = XEmulator(
        bearer_tokens={X_APP},
        oauth1_consumers={X_KEYS["consumer_key"]: X_KEYS["consumer_secret"]},
        oauth1_tokens={
            HUMAS["access_token"]: (HUMAS["access_token_secret"], "humas_demo"),
            RINA_X["access_token"]: (RINA_X["access_token_secret"], "rina_personal"),
        },
        time_scale=60,
    )
    for url in served(emulator.app):
        yield emulator, url


@pytest.fixture
async def bot(telegram: tuple[TelegramEmulator, str]) -> AsyncIterator[Bot]:
    url = telegram[1]
    async with Bot(TOKEN, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:
        yield bot


def seconds(refused: RetryAfter) -> float:
    wait = refused.retry_after
    return float(wait) if isinstance(wait, int | float) else wait.total_seconds()


async def test_a_telegram_group_takes_twenty_messages_a_minute_edits_included(
    telegram: tuple[TelegramEmulator, str], bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after without a warning
    emulator, url = telegram
    clock = emulator.core.clock
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ambil", callback_data="claim:1")]])
    sent_at: list[float] = []
    group_wait = 0.0
    while not group_wait:
        try:
            await bot.send_message(GROUP, f"pesan {len(sent_at)}", reply_markup=keyboard)
            sent_at.append(clock.now())
        except RetryAfter as refused:
            if seconds(refused) > 1:
                group_wait = seconds(refused)
            else:  # one chat's own pace, about a message a second: waited out, as a bot would
                await asyncio.sleep(seconds(refused) / clock.scale)
    now = clock.now()
    in_the_last_minute = [at for at in sent_at if at > now - 60]
    assert len(in_the_last_minute) == 20
    # Told in the emulator's seconds: until the oldest of the twenty leaves the minute.
    assert group_wait == pytest.approx(in_the_last_minute[0] + 60 - now, abs=1.5)
    assert group_wait > 30, "twenty at a message a second leave most of the minute"

    # An edit is a message as far as the limit goes; the group's 429 looks like Telegram's.
    raw = httpx.post(
        f"{url}/bot{TOKEN}/editMessageText",
        json={"chat_id": GROUP, "message_id": 1, "text": "diubah"},
        trust_env=False,
    )
    assert raw.status_code == 429
    recorded = json.loads((FIXTURES / "telegram" / "error.too_many_requests.json").read_text())
    assert set(raw.json()) == set(recorded)
    retry_after = raw.json()["parameters"]["retry_after"]
    assert raw.json()["description"] == f"Too Many Requests: retry after {retry_after}"
    with pytest.raises(RetryAfter):
        await bot.edit_message_reply_markup(GROUP, 1, reply_markup=None)
    # Answering a button press and showing "typing" are not messages; another chat has room.
    pressed = httpx.post(
        f"{url}/_emulator/press",
        json={"user_id": RINA, "chat_id": GROUP, "message_id": 1, "action": "claim"},
        trust_env=False,
    ).json()
    assert await bot.answer_callback_query(pressed["callback_query_id"], text="Milik Anda")
    assert await bot.send_chat_action(GROUP, "typing")
    assert (await bot.send_message(RINA, "pribadi")).chat.id == RINA

    await asyncio.sleep(group_wait / clock.scale)
    assert (await bot.send_message(GROUP, "lagi")).text == "lagi"


async def test_slack_tiers_and_retry_after_in_the_emulators_seconds(
    slack: tuple[SlackEmulator, str],
) -> None:
    emulator, url = slack
    clock = emulator.core.clock
    client = AsyncWebClient(token=SLACK_TOKEN, base_url=f"{url}/api/")
    # apps.connections.open is tier 1: one a minute after a small burst.
    opener = AsyncWebClient(base_url=f"{url}/api/")
    for _ in range(3):
        await opener.apps_connections_open(app_token=APP_TOKEN)
    with pytest.raises(SlackApiError) as caught:
        await opener.apps_connections_open(app_token=APP_TOKEN)
    assert (caught.value.response.status_code, caught.value.response["error"]) == (
        429,
        "ratelimited",
    )
    retry_after = int(caught.value.response.headers["Retry-After"])
    assert 50 <= retry_after <= 60  # a minute of the emulator's clock, two seconds of ours
    await asyncio.sleep(PlatformTime(clock.scale).seconds(retry_after))
    assert (await opener.apps_connections_open(app_token=APP_TOKEN))["ok"]

    # chat.update is tier 3: fifty a minute (a minute's worth at once), across the workspace.
    clock.set_scale(1)
    posted = await client.chat_postMessage(channel="C0HUMAS", text="laporan")
    started, updated = time.monotonic(), 0
    with pytest.raises(SlackApiError) as caught:
        while True:
            await client.chat_update(channel="C0HUMAS", ts=posted["ts"], text=f"v{updated}")
            updated += 1
    allowed_meanwhile = (time.monotonic() - started) * 50 / 60
    assert 50 <= updated <= 50 + allowed_meanwhile + 1
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] in ("1", "2")


async def test_x_states_a_scaled_windows_reset_and_a_scaled_bridge_waits_it_out(
    x: tuple[XEmulator, str],
) -> None:
    url = x[1]
    limits = {"endpoint": "mentions", "limit": 2, "window_s": 120}
    assert httpx.post(f"{url}/_emulator/limits", json=limits, trust_env=False).status_code == 200
    async with XClient(bearer_token=X_APP, api_url=url) as reader:
        humas = await reader.user_id_for("humas_demo")
        for _ in range(2):
            await reader.mentions_page(user_id=humas, account_key="humas", since_id=None)
        with pytest.raises(RateLimited) as caught:
            await reader.mentions_page(user_id=humas, account_key="humas", since_id=None)
        # Two minutes of X's window as X would state them; two seconds here at scale 60.
        assert 110 <= caught.value.retry_after <= 121
        wait = PlatformTime(60).seconds(caught.value.retry_after)
        assert 1.8 <= wait <= 2.05
        await asyncio.sleep(wait / 2)
        with pytest.raises(RateLimited):
            await reader.mentions_page(user_id=humas, account_key="humas", since_id=None)
        await asyncio.sleep(wait / 2 + 0.1)
        await reader.mentions_page(user_id=humas, account_key="humas", since_id=None)


async def test_x_refuses_posts_past_the_apps_daily_budget_whoever_posts(
    x: tuple[XEmulator, str],
) -> None:
    url = x[1]
    daily = {"endpoint": "post_24h", "limit": 2}
    assert httpx.post(f"{url}/_emulator/limits", json=daily, trust_env=False).status_code == 200
    async with (
        XClient(bearer_token=X_APP, api_url=url, **X_KEYS, **HUMAS) as humas,
        XClient(bearer_token=X_APP, api_url=url, **X_KEYS, **RINA_X) as rina,
    ):
        await humas.create_post(text="Terima kasih, kami cek.", in_reply_to=None)
        await rina.create_post(text="Saya bantu teruskan.", in_reply_to=None)
        with pytest.raises(RateLimited) as caught:
            await humas.create_post(text="Satu lagi.", in_reply_to=None)
    # The user's own 15 minutes have room; the app's day does not, and the wait says so.
    assert 86_000 <= caught.value.retry_after <= 86_401  # X states whole seconds, rounded up
    assert [p["text"] for p in emulator_posts(url, "humas_demo")] == ["Terima kasih, kami cek."]
    snapshot = httpx.get(f"{url}/_emulator/limits", trust_env=False).json()
    assert snapshot["limits"]["post_24h"] == {"app": 2, "user": None, "window_s": 86_400.0}


def emulator_posts(url: str, author: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{url}/_emulator/posts", params={"author": author}, trust_env=False)
    return list(answer.json()["posts"])


@pytest.mark.parametrize("platform", ["x", "slack", "telegram"])
def test_the_clock_is_read_and_set_through_the_control_api(
    platform: str,
    x: tuple[XEmulator, str],
    slack: tuple[SlackEmulator, str],
    telegram: tuple[TelegramEmulator, str],
) -> None:
    started = {"x": 60.0, "slack": 30.0, "telegram": 30.0}[platform]
    url = {"x": x, "slack": slack, "telegram": telegram}[platform][1]
    with httpx.Client(base_url=f"{url}/_emulator", trust_env=False) as http:
        assert http.get("/clock").json()["scale"] == started
        for bad in ({"scale": 0}, {"scale": -1}, {"scale": "fast"}, {"scale": 2, "x": 1}, {}):
            refused = http.post("/clock", json=bad)
            assert refused.status_code == 400 and "scale" in refused.json()["error"], bad
        assert http.post("/clock", content=b"[1]").status_code == 400
        assert http.get("/clock").json()["scale"] == started, "a refused change changes nothing"
        assert http.post("/clock", json={"scale": 10}).json()["scale"] == 10
        assert http.get("/clock").json()["scale"] == 10
        http.post("/reset")
        assert http.get("/clock").json()["scale"] == started, "a reset restores the start scale"
