"""The mirror stage with python-telegram-bot against the Telegram emulator, its rate limits on.

A long post goes out in parts, each in its own slot of the chat's pace and recorded as it goes
out, so that neither a 429, a passing error nor a worker's death posts a part twice.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.telegram.chat import TelegramChat
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.config import Config, Destination
from bridge.domain.models import Author, Mention, ThreadStatus, thread_id_for
from bridge.pipeline.mirror import MirrorStage
from bridge.pipeline.route import RouterStage
from bridge.pipeline.runner import Entry, StageRunner
from bridge.store.store import RoundTrips, Store
from bridge.store.threads import change_state
from emulators.telegram import TelegramEmulator

TOKEN = "515151:mirror-test-token"
GROUP = -1001000000001  # a supergroup: Telegram allows a bot 20 messages a minute there
RINA = 1001  # a private chat: one message a second
LONG_TEXT = ("@humas_demo " + " ".join(f"kalimat{n}" for n in range(1200)))[:10_000]


def config_to(chat_id: int) -> Config:
    return parse_config(f"""
accounts: [{{key: humas, handle: humas_demo}}]
destinations: {{desk: {{chat: telegram, chat_id: {chat_id}}}}}
people: [{{key: rina, name: Rina, telegram: {RINA}}}]
routes: [{{name: all, to: [desk]}}]
""")


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot warns when a 429's RetryAfter is built unless this is set, and the
    tests turn warnings into errors: the 429 would look like a crash."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def telegram() -> Iterator[tuple[TelegramEmulator, str]]:
    emulator = TelegramEmulator(
        token=TOKEN,
        bot_username="mirror_test_bot",
        chats={
            GROUP: {"title": "Humas", "type": "supergroup", "is_forum": False},
            RINA: {"type": "private"},
        },
        users={RINA: {"first_name": "Rina"}},
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@pytest.fixture
def settings(telegram: tuple[TelegramEmulator, str]) -> AppSettings:
    return AppSettings(telegram_api_url=telegram[1], telegram_bot_token=TOKEN)


@pytest.fixture
async def chat(settings: AppSettings, store: Store) -> AsyncIterator[TelegramChat]:
    instance = TelegramChat(settings=settings, config=lambda: config_to(GROUP), store=store)
    await instance.application.initialize()
    yield instance
    await instance.application.shutdown()


@pytest.fixture
async def control(telegram: tuple[TelegramEmulator, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=telegram[1], trust_env=False, timeout=10) as client:
        yield client


def mention(n: int, text: str = LONG_TEXT) -> Mention:
    return Mention(
        network="x",
        id=str(1000 + n),
        account="humas",
        text=text,
        author=Author(id="7", handle="warga", name="Warga", followers=10),
        created_at=datetime(2026, 11, 29, tzinfo=UTC),
        conversation_id=str(1000 + n),
    )


def mirror_stage(
    store: Store,
    chat: TelegramChat,
    settings: AppSettings,
    config: Config,
    time_budget_s: float = 60.0,
) -> MirrorStage:
    """Paced as the runtime paces Telegram: 20 a minute per group, one a second per chat."""

    def interval(destination: Destination) -> float:
        if int(destination.address) < 0:
            return settings.telegram_group_interval_s
        return settings.telegram_private_interval_s

    return MirrorStage(
        store,
        config=lambda: config,
        sinks={"telegram": chat},
        channel_interval_s=interval,
        platform_interval_s=lambda _: 1 / settings.telegram_messages_per_s,
        time_budget_s=time_budget_s,
    )


def runner(store: Store, stage: RouterStage | MirrorStage, consumer: str) -> StageRunner:
    return StageRunner(
        store.redis,
        stream=stage.stream,
        group=stage.group,
        consumer=consumer,
        handler=stage.handle,
        lane_of=stage.lane_of if isinstance(stage, MirrorStage) else None,
        block_ms=50,
        claim_idle_ms=1000,
    )


async def until(check: Callable[[], Awaitable[bool]], *, what: str, timeout: float = 30) -> None:
    """Poll ``check`` (state in Redis or in the emulator, which cannot signal) until it holds;
    the test fails after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.05)


async def nothing_pending(store: Store, *stages: RouterStage | MirrorStage) -> bool:
    """Every stage's group has read its whole stream and acknowledged every entry."""
    for stage in stages:
        if not await store.redis.exists(stage.stream):
            return False
        groups = await store.redis.xinfo_groups(stage.stream)
        mine = [g for g in groups if g["name"] == stage.group]
        if not mine or int(mine[0]["pending"]) or int(mine[0].get("lag") or 0):
            return False
    return True


async def mirror_all(
    store: Store,
    chat: TelegramChat,
    settings: AppSettings,
    config: Config,
    time_budget_s: float = 60.0,
) -> None:
    """Route and mirror what is queued, as one worker would, until nothing is left."""
    router = RouterStage(store, config=lambda: config)
    mirror = mirror_stage(store, chat, settings, config, time_budget_s)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(runner(store, s, "worker").run(stop)) for s in (router, mirror)]
    try:
        await until(lambda: nothing_pending(store, router, mirror), what="the mirror", timeout=40)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def messages(control: httpx.AsyncClient, chat_id: int) -> list[dict[str, Any]]:
    response = await control.get("/_emulator/messages", params={"chat_id": chat_id})
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


async def sends(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    """sendMessage calls in the emulator's log, oldest first."""
    calls = (await control.get("/_emulator/calls", params={"path": "*/sendMessage"})).json()
    return list(calls["calls"])


async def fault(control: httpx.AsyncClient, **spec: Any) -> None:
    response = await control.post("/_emulator/faults", json={"path": "*/sendMessage", **spec})
    assert response.status_code == 200, response.text


def assert_whole_post_once(parts: list[dict[str, Any]], text: str = LONG_TEXT) -> None:
    """The parts read as the post, once each and in order; the first carries the buttons and
    the others reply to it."""
    first, rest = parts[0], parts[1:]
    assert [p["text"].split("\n", 1)[0] for p in rest] == [
        f"({n}/{len(parts)}, continued)" for n in range(2, len(parts) + 1)
    ]
    body = [first["text"].split("\n\n")[1]] + [p["text"].split("\n", 1)[1] for p in rest]
    assert " ".join(body).split() == text.split()  # Telegram trims each message's spaces
    assert first["reply_markup"]["inline_keyboard"]
    assert all(p["reply_markup"] is None for p in rest)
    assert all(p["reply_to_message_id"] == first["message_id"] for p in rest)


async def test_a_long_mention_goes_out_once_part_by_part_at_the_groups_pace(
    chat: TelegramChat, settings: AppSettings, store: Store, control: httpx.AsyncClient
) -> None:
    """The bot has just answered someone in the group (not a mirror, so not in the mirror's
    pace); a 10,000-character mention arrives. Sent back to back, its third part met
    Telegram's 429 and every retry began again with the first."""
    await chat.bot.send_message(chat_id=GROUP, text="Pratinjau balasan: terima kasih.")
    answered = len(await sends(control))
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")

    await mirror_all(store, chat, settings, config_to(GROUP))

    parts = (await messages(control, GROUP))[1:]
    assert len(parts) == 3
    assert_whole_post_once(parts)
    mirrored = (await sends(control))[answered:]
    assert [c["status"] for c in mirrored] == [200, 200, 200], "no 429, no part sent twice"
    gaps = [later["time"] - earlier["time"] for earlier, later in itertools.pairwise(mirrored)]
    assert all(gap > settings.telegram_group_interval_s - 0.5 for gap in gaps), gaps
    thread_id = thread_id_for(network="x", account="humas", conversation_id="1001")
    ref = await store.mirror(thread_id, "desk")
    assert ref is not None and ref.message_id == str(parts[0]["message_id"])


async def test_a_429_and_an_error_midway_post_no_part_twice(
    chat: TelegramChat, settings: AppSettings, store: Store, control: httpx.AsyncClient
) -> None:
    """Telegram refuses part 2 with a 429 (retry after 2 s) and part 3 with a 502: each is
    tried again in its turn; the parts before it stay posted once. (To a private chat, paced
    at one a second, so that the test takes seconds rather than the group's minutes.)"""
    await fault(control, status=429, retry_after=2, after=1)
    await fault(control, status=502, after=3)
    await store.append_mentions([mention(2)], network="x", account="humas", cursor="1002")

    await mirror_all(store, chat, settings, config_to(RINA))

    parts = await messages(control, RINA)
    assert len(parts) == 3
    assert_whole_post_once(parts)
    calls = await sends(control)
    assert [c["status"] for c in calls] == [200, 429, 200, 502, 200]
    assert calls[2]["time"] - calls[1]["time"] >= 2 - 0.1, "part 2 again once the wait is over"


async def test_a_429_longer_than_the_handling_may_wait_defers_and_resumes_at_its_part(
    chat: TelegramChat, settings: AppSettings, store: Store, control: httpx.AsyncClient
) -> None:
    """The worker may hold the entry 1.5 s, Telegram asks for 3 s after part 1: the entry is
    left pending, tried again once the wait is over, and goes on with part 2."""
    await fault(control, status=429, retry_after=3, after=1)
    await store.append_mentions([mention(7)], network="x", account="humas", cursor="1007")

    await mirror_all(store, chat, settings, config_to(RINA), time_budget_s=1.5)

    parts = await messages(control, RINA)
    assert len(parts) == 3
    assert_whole_post_once(parts)
    calls = await sends(control)
    assert [c["status"] for c in calls] == [200, 429, 200, 200]
    assert calls[2]["time"] - calls[1]["time"] >= 3 - 0.1


async def test_a_worker_killed_midway_leaves_the_rest_to_the_next_who_posts_only_that(
    chat: TelegramChat, settings: AppSettings, store: Store, control: httpx.AsyncClient
) -> None:
    """The worker dies once part 2 is recorded, waiting for part 3's turn (should it get
    there first, part 3's call hangs and is cut off with it): its task is cancelled, and no
    code of ours writes anything on the way out, as after a kill. Another worker takes the
    entry over and posts part 3 only, under part 1."""
    config = config_to(RINA)
    await fault(control, status=500, delay_s=2, after=2)
    await store.append_mentions([mention(3)], network="x", account="humas", cursor="1003")
    router = RouterStage(store, config=lambda: config)
    mirror = mirror_stage(store, chat, settings, config)
    thread_id = thread_id_for(network="x", account="humas", conversation_id="1003")
    effect_key = f"mirror:desk:{thread_id}:1003"

    stop = asyncio.Event()
    routing = asyncio.create_task(runner(store, router, "worker-a").run(stop))
    worker_a = asyncio.create_task(runner(store, mirror, "worker-a").run(stop))

    async def part_2_recorded() -> bool:
        effect = await store.effect(effect_key)
        return effect is not None and 1 in effect.parts

    await until(part_2_recorded, what="part 2 recorded")
    worker_a.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker_a
    assert len(await messages(control, RINA)) == 2

    worker_b = asyncio.create_task(runner(store, mirror, "worker-b").run(stop))
    try:
        await until(lambda: nothing_pending(store, router, mirror), what="worker b")
    finally:
        stop.set()
        await asyncio.gather(routing, worker_b)

    parts = await messages(control, RINA)
    assert len(parts) == 3
    assert_whole_post_once(parts)
    assert [c["status"] for c in await sends(control)].count(200) == 3
    ref = await store.mirror(thread_id, "desk")
    assert ref is not None and ref.message_id == str(parts[0]["message_id"])


async def test_a_claim_redraws_the_first_part_only(
    chat: TelegramChat, settings: AppSettings, store: Store, control: httpx.AsyncClient
) -> None:
    """The status line and buttons live on the first part: the others stay as they were,
    and the post still reads whole, once."""
    config = config_to(RINA)
    await store.append_mentions([mention(4)], network="x", account="humas", cursor="1004")
    await mirror_all(store, chat, settings, config)
    before = await messages(control, RINA)
    thread_id = thread_id_for(network="x", account="humas", conversation_id="1004")

    await change_state(store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
    await mirror_all(store, chat, settings, config)

    after = await messages(control, RINA)
    assert len(after) == 3
    assert "🙋 Rina is on it" in after[0]["text"] and after[0]["edit_date"] is not None
    buttons = [
        b["callback_data"].split(":")[0]
        for row in after[0]["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert "release" in buttons
    assert after[1:] == before[1:]
    assert_whole_post_once(after)


async def test_a_short_mention_costs_telegram_no_more_round_trips_than_before(
    chat: TelegramChat, settings: AppSettings, store: Store, control: httpx.AsyncClient
) -> None:
    """One part, one step: the read that reserves its slot, the chat's migration lookup and
    the record; the step's own record travels with the mirror's."""
    config = config_to(RINA)
    router = RouterStage(store, config=lambda: config)
    mirror = mirror_stage(store, chat, settings, config)
    for stage in (router, mirror):
        await store.redis.xgroup_create(stage.stream, stage.group, id="0", mkstream=True)

    async def handle_one(stage: RouterStage | MirrorStage) -> int:
        [[_, [(entry_id, fields)]]] = await store.redis.xreadgroup(
            stage.group, "c", {stage.stream: ">"}, count=1
        )
        before = RoundTrips.sent
        await stage.handle(Entry(stage.stream, entry_id, fields))
        spent = RoundTrips.sent - before
        assert (await store.redis.xpending(stage.stream, stage.group))["pending"] == 0
        return spent

    # The first of each loads the scripts into Redis.
    for n in (5, 6):
        await store.append_mentions(
            [mention(n, text=f"@humas_demo pesan {n}")],
            network="x",
            account="humas",
            cursor=str(1000 + n),
        )
        await handle_one(router)
        mirroring = await handle_one(mirror)
    assert mirroring == 3
    assert [m["text"].split("\n\n")[1] for m in await messages(control, RINA)] == [
        "@humas_demo pesan 5",
        "@humas_demo pesan 6",
    ]
