"""The mirror stage with the real Slack client against the Slack emulator and a real Redis."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from adapters.slack.chat import SlackChat
from adapters.slack.errors import RATE_LIMIT_DEFAULT_WAIT_S
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.config import BurstConfig, Config
from bridge.domain.models import Author, Mention, ThreadStatus, thread_id_for
from bridge.errors import Deferred
from bridge.pipeline.mirror import MirrorStage
from bridge.pipeline.route import RouterStage
from bridge.pipeline.runner import Entry, StageRunner
from bridge.store.bursts import FoldedMention
from bridge.store.progress import MirrorProgress
from bridge.store.store import RoundTrips, Store
from bridge.store.threads import TransitionRefused, change_state
from emulators.slack import SlackEmulator
from tests.integration.test_bursts import folded

TOKEN, SECRET = "xoxb-mirror-test", "mirror-secret"
CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations:
  desk: {chat: slack, channel: C0DESK}
  gone: {chat: slack, channel: C0GONE}
routes:
  - {name: lost, match: {any_words: [lost]}, to: [gone]}
  - {name: all, to: [desk]}
""")


@pytest.fixture
def slack() -> Iterator[tuple[SlackEmulator, str]]:
    emulator = SlackEmulator(
        bot_token=TOKEN,
        signing_secret=SECRET,
        team_id="T0",
        app_id="A0",
        bot_user_id="U0BOT",
        bot_id="B0BOT",
        bridge_url=None,
        channels={"C0DESK": "desk"},
        users={},
        rate_limits=True,
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@pytest.fixture
async def chat(slack: tuple[SlackEmulator, str], store: Store) -> AsyncIterator[SlackChat]:
    settings = AppSettings(
        slack_api_url=f"{slack[1]}/api/", slack_bot_token=TOKEN, slack_signing_secret=SECRET
    )
    instance = SlackChat(settings=settings, config=lambda: CONFIG, store=store)
    yield instance
    await instance.close()


def mention(n: int, *, conversation: int | None = None, text: str | None = None) -> Mention:
    return Mention(
        network="x",
        id=str(1000 + n),
        account="humas",
        text=text or f"@humas_demo pesan {n}",
        author=Author(id="7", handle="warga", name="Warga", followers=10),
        created_at=datetime(2026, 11, 29, tzinfo=UTC),
        conversation_id=str(1000 + (conversation if conversation is not None else n)),
    )


async def drain(
    store: Store,
    chat: SlackChat,
    config: Config = CONFIG,
    interval_s: float = 1.0,
    timeout: float = 30,
) -> None:
    router = RouterStage(store, config=lambda: config)
    mirror = MirrorStage(
        store, config=lambda: config, sinks={"slack": chat}, channel_interval_s=lambda _: interval_s
    )
    runners = [
        StageRunner(
            store.redis,
            stream=router.stream,
            group=router.group,
            consumer="c",
            handler=router.handle,
            block_ms=50,
            claim_idle_ms=500,
        ),
        StageRunner(
            store.redis,
            stream=mirror.stream,
            group=mirror.group,
            consumer="c",
            handler=mirror.handle,
            lane_of=mirror.lane_of,
            block_ms=50,
            claim_idle_ms=500,
        ),
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    try:
        async with asyncio.timeout(timeout):
            while True:
                await asyncio.sleep(0.2)
                pending = [await store.redis.xpending(r.stream, r.group) for r in runners]
                lag = [await store.redis.xlen(r.stream) for r in runners]
                if (
                    all(p["pending"] == 0 for p in pending)
                    and lag[0]
                    and await _all_read(store, runners)
                ):
                    break
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def _all_read(store: Store, runners: list[StageRunner]) -> bool:
    for runner in runners:
        groups = await store.redis.xinfo_groups(runner.stream)
        if any(int(g.get("lag") or 0) for g in groups):
            return False
    return True


def calls(url: str, path: str) -> list[dict[str, object]]:
    return [c for c in httpx.get(f"{url}/_emulator/calls").json()["calls"] if c["path"] == path]


async def test_a_burst_to_one_channel_is_paced_under_slacks_limit(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, url = slack
    await store.append_mentions(
        [mention(n) for n in range(6)], network="x", account="humas", cursor="1005"
    )
    await drain(store, chat)
    assert len(emulator.messages("C0DESK")) == 6
    posts = calls(url, "/api/chat.postMessage")
    assert [c["status"] for c in posts] == [200] * 6
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(posts)]
    # One a second on average; a single gap may be shorter when the first call also opened the
    # connection (the send slots are kept, the arrival of one message was late).
    assert posts[-1]["time"] - posts[0]["time"] >= 4.5 and min(gaps) > 0.5, gaps


async def test_retry_after_is_honoured_and_nothing_is_posted_twice(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, url = slack
    httpx.post(
        f"{url}/_emulator/faults",
        json={
            "method": "POST",
            "path": "/api/chat.postMessage",
            "status": 429,
            "retry_after": 2,
            "times": 1,
        },
    )
    httpx.post(
        f"{url}/_emulator/faults",
        json={"method": "POST", "path": "/api/chat.postMessage", "status": 503, "times": 1},
    )
    await store.append_mentions(
        [mention(1), mention(2, conversation=1)], network="x", account="humas", cursor="1002"
    )
    await drain(store, chat, interval_s=0.01)
    messages = emulator.messages("C0DESK")
    assert len(messages) == 2 and messages[1]["thread_ts"] == messages[0]["ts"]
    posts = calls(url, "/api/chat.postMessage")
    assert [c["status"] for c in posts] == [429, 503, 200, 200]
    assert posts[1]["time"] - posts[0]["time"] >= 1.9


def slow_down(
    url: str, method: str, *, error: str, status: int, times: int, **extra: object
) -> None:
    """Slack answers the next ``times`` calls of ``method`` with a rate limit."""
    fault = {"path": f"/api/{method}", "status": status, "error": error, "times": times, **extra}
    assert httpx.post(f"{url}/_emulator/faults", json=fault).status_code == 200


@pytest.mark.parametrize(
    ("error", "status"), [("rate_limited", 200), ("ratelimited", 429)], ids=["http200", "http429"]
)
async def test_a_rate_limit_storm_delays_mirrors_and_loses_none(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store, error: str, status: int
) -> None:
    """Slack's message limit comes as HTTP 200 ``rate_limited`` as well as 429 ``ratelimited``:
    either way every mention is posted once, after the wait Slack asked for."""
    emulator, url = slack
    slow_down(url, "chat.postMessage", error=error, status=status, times=4, retry_after=1)
    await store.append_mentions(
        [mention(1), mention(2, conversation=1), mention(3)],
        network="x",
        account="humas",
        cursor="1003",
    )
    await drain(store, chat, interval_s=0.01)

    shown = emulator.messages("C0DESK")
    assert sorted(
        b["text"]["text"] for m in shown for b in m["blocks"] if b["type"] == "section"
    ) == [
        "@humas_demo pesan 1",
        "@humas_demo pesan 2",
        "@humas_demo pesan 3",
    ]
    assert [m["thread_ts"] for m in shown if "pesan 2" in m["text"]] == [shown[0]["ts"]]
    posts = calls(url, "/api/chat.postMessage")
    assert len(posts) == 4 + 3
    # Four refusals, each asking for a second: nothing got through before that wait was over.
    assert posts[4]["time"] - posts[0]["time"] >= 3.5
    effects = await store.redis.keys(store.keys.effect("mirror:*"))
    assert [await store.redis.hget(key, "state") for key in effects] == ["done"] * 3


async def test_a_rate_limit_without_retry_after_waits_a_sensible_time(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, url = slack
    slow_down(url, "chat.postMessage", error="rate_limited", status=200, times=1)
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")
    await drain(store, chat, interval_s=0.01)
    assert len(emulator.messages("C0DESK")) == 1
    first, second = calls(url, "/api/chat.postMessage")
    assert second["time"] - first["time"] >= RATE_LIMIT_DEFAULT_WAIT_S - 0.5


async def test_a_state_change_reaches_the_mirror_through_a_rate_limit_storm(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, url = slack
    config = parse_config(
        """
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
people: [{key: rina, name: Rina, slack: U0RINA}]
routes: [{name: all, to: [desk]}]
"""
    )
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")
    await drain(store, chat, config)
    thread_id = (await store.thread_ids())[0]
    slow_down(url, "chat.update", error="rate_limited", status=200, times=3, retry_after=1)

    await change_state(store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
    await drain(store, chat, config)

    [message] = emulator.messages("C0DESK")
    assert "🙋 Rina is on it" in str(message["blocks"]) and message["edited"]
    assert len(calls(url, "/api/chat.update")) == 3 + 1
    assert len(calls(url, "/api/chat.postMessage")) == 1


async def test_a_channel_slack_refuses_is_reported_once_not_retried_forever(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    _, url = slack
    await store.append_mentions(
        [mention(1, text="lost in space")], network="x", account="humas", cursor="1001"
    )
    await drain(store, chat)
    effect = await store.effect("mirror:gone:" + (await store.thread_ids())[0] + ":1001")
    assert effect is not None and effect.state == "failed"
    assert effect.error == "slack: the channel does not exist or the bot cannot see it"
    assert len(calls(url, "/api/chat.postMessage")) == 1


async def test_an_interrupted_post_is_found_again_instead_of_reposted(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, url = slack
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")
    await drain(store, chat)
    thread_id = (await store.thread_ids())[0]
    effect_key = f"mirror:desk:{thread_id}:1001"
    # As if the worker died after Slack accepted the post but before recording it.
    await store.redis.hset(store.keys.effect(effect_key), "state", "doing")
    await store.redis.xadd(
        store.keys.outbox_stream,
        {"thread_id": thread_id, "mention_id": "1001", "destination": "desk", "root": "1001"},
    )
    await drain(store, chat)
    assert len(emulator.messages("C0DESK")) == 1
    assert len(calls(url, "/api/chat.postMessage")) == 1
    effect = await store.effect(effect_key)
    assert effect is not None and effect.state == "done"


async def test_a_state_change_redraws_the_mirror_and_a_new_mention_reopens_it(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, _ = slack
    config = parse_config(
        """
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
people: [{key: rina, name: Rina, slack: U0RINA}]
routes: [{name: all, to: [desk]}]
"""
    )
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")
    await drain(store, chat, config)
    thread_id = (await store.thread_ids())[0]

    def shown() -> tuple[list[str], list[str]]:
        message = emulator.messages("C0DESK")[0]
        contexts = [
            e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]
        ]
        buttons = [
            e["action_id"]
            for b in message["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        return contexts, buttons

    await change_state(store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
    await drain(store, chat, config)
    contexts, buttons = shown()
    assert "🙋 Rina is on it" in contexts
    assert buttons == ["reply_institution", "reply_personal", "claim", "release", "dismiss"]

    await change_state(store, thread_id, status=ThreadStatus.DISMISSED, by="rina", note="spam")
    await drain(store, chat, config)
    contexts, buttons = shown()
    assert "🚫 Dismissed by Rina: spam" in contexts and buttons == []
    with pytest.raises(TransitionRefused) as refused:
        await change_state(store, thread_id, status=ThreadStatus.CLAIMED, by="rina")
    assert refused.value.thread.status is ThreadStatus.DISMISSED

    await store.append_mentions(
        [mention(2, conversation=1)], network="x", account="humas", cursor="1002"
    )
    await drain(store, chat, config)
    contexts, buttons = shown()
    assert not any("Dismissed" in c for c in contexts)
    assert buttons == ["reply_institution", "reply_personal", "claim", "dismiss"]
    assert len(emulator.messages("C0DESK")) == 2


async def test_a_burst_is_folded_and_so_are_later_mentions_of_a_folded_thread(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    emulator, _ = slack
    folding = CONFIG.model_copy(update={"bursts": BurstConfig(fold_above=2)})
    await store.append_mentions(
        [mention(n) for n in range(6)], network="x", account="humas", cursor="1005"
    )
    await drain(store, chat, config=folding, interval_s=0.1)
    singles = emulator.messages("C0DESK")
    folded = [
        FoldedMention.from_json(raw)
        for raw in await store.redis.lrange(store.keys.folded("desk"), 0, -1)
    ]
    assert 1 <= len(singles) <= 2 and len(singles) + len(folded) == 6
    timers = await store.redis.zrange(store.keys.timers, 0, -1)
    # One digest timer per 20 s window: the burst took under a second, maybe across a boundary.
    assert 1 <= len([t for t in timers if t.startswith("digest|desk|")]) <= 2

    # A minute later the burst is over: a new mention of a folded thread is folded too (there
    # is no message to thread it under); one of a thread posted singly goes in its thread.
    await store.redis.delete(store.keys.arrivals("desk"))
    in_folded = mention(10, conversation=int(folded[0].mention) - 1000)
    in_single = mention(11, conversation=0)
    await store.append_mentions([in_folded, in_single], network="x", account="humas", cursor="1011")
    await drain(store, chat, config=folding, interval_s=0.1)
    replies = [m for m in emulator.messages("C0DESK") if m.get("thread_ts") not in (None, m["ts"])]
    assert len(emulator.messages("C0DESK")) == len(singles) + 1
    assert [m["thread_ts"] for m in replies] == [singles[0]["ts"]]
    assert await store.redis.llen(store.keys.folded("desk")) == len(folded) + 1


async def test_a_mention_takes_one_round_trip_to_route_and_two_to_mirror(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    """Each Redis round trip is an fsync with AOF `appendfsync always`: routing is one script
    (thread, outbox entry, escalation timer, ack), mirroring a read that reserves the send
    slot and a record."""
    emulator, _ = slack
    router = RouterStage(store, config=lambda: CONFIG)
    mirror = MirrorStage(
        store, config=lambda: CONFIG, sinks={"slack": chat}, channel_interval_s=lambda _: 0.0
    )
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

    # The first of each loads the scripts into Redis (two more round trips each).
    for n in (1, 2):
        await store.append_mentions([mention(n)], network="x", account="humas", cursor=f"100{n}")
        routing, mirroring = await handle_one(router), await handle_one(mirror)
    assert (routing, mirroring) == (1, 2)
    thread_id = thread_id_for(network="x", account="humas", conversation_id="1002")
    assert await store.redis.zscore(store.keys.timers, f"escalate|{thread_id}|0.0") is not None
    assert await store.mirror(thread_id, "desk") is not None
    assert "pesan 2" in emulator.messages("C0DESK")[-1]["text"]


@pytest.mark.parametrize("kind", ["digest", "notice"])
async def test_a_message_of_reachable_cut_off_before_its_record_is_not_posted_again(
    slack: tuple[SlackEmulator, str],
    chat: SlackChat,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """A worker killed between Slack's answer and the record: the next attempt finds the
    digest (or notice) by its tag and records it instead of posting it again."""
    emulator, _ = slack
    mirror = MirrorStage(
        store, config=lambda: CONFIG, sinks={"slack": chat}, channel_interval_s=lambda _: 0.0
    )
    await store.redis.rpush(store.keys.folded("desk"), *(folded(n).to_json() for n in range(3)))
    await store.redis.xgroup_create(mirror.stream, mirror.group, id="0", mkstream=True)
    fields = (
        {"kind": "digest", "destination": "desk", "window": "1000"}
        if kind == "digest"
        else {"kind": "notice", "destination": "desk", "text": "Balasan terkirim."}
    )
    await store.redis.xadd(mirror.stream, fields)
    [[_, [(entry_id, read)]]] = await store.redis.xreadgroup(
        mirror.group, "c", {mirror.stream: ">"}, count=1
    )
    entry = Entry(mirror.stream, entry_id, read)

    async def killed(record: object) -> None:
        raise RuntimeError("killed before the record")

    with monkeypatch.context() as patched:
        patched.setattr(mirror, "_record_once_posted", killed)
        with pytest.raises(RuntimeError):
            await mirror.handle(entry)
    assert len(emulator.messages("C0DESK")) == 1
    await mirror.handle(entry)

    assert len(emulator.messages("C0DESK")) == 1
    assert (await store.redis.xpending(mirror.stream, mirror.group))["pending"] == 0
    done = await store.effect(f"{kind}:desk:1000" if kind == "digest" else f"notice:{entry_id}")
    assert done is not None and done.state == "done"


async def test_twenty_thousand_folded_mentions_are_shown_by_two_digests_none_lost_or_twice(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    """A viral moment folds more than Lua can move in one call (it stopped at about 8,000):
    each digest takes its share in chunks, and the next window's takes the rest."""
    emulator, _ = slack
    mirror = MirrorStage(
        store, config=lambda: CONFIG, sinks={"slack": chat}, channel_interval_s=lambda _: 0.0
    )
    key = store.keys.folded("desk")
    for start in range(0, 20_000, 2_000):
        await store.redis.rpush(key, *(folded(n).to_json() for n in range(start, start + 2_000)))
    await store.redis.xgroup_create(mirror.stream, mirror.group, id="0", mkstream=True)
    for window in ("1000", "2000"):
        await store.redis.xadd(
            mirror.stream, {"kind": "digest", "destination": "desk", "window": window}
        )
    read = await store.redis.xreadgroup(mirror.group, "c", {mirror.stream: ">"}, count=2)

    for entry_id, fields in read[0][1]:
        await mirror.handle(Entry(mirror.stream, entry_id, fields))

    digests = [m["text"] for m in emulator.messages("C0DESK")]
    assert len(digests) == 2 and all("10,000" in text for text in digests), digests
    assert await store.redis.llen(key) == 0
    assert (await store.redis.xpending(mirror.stream, mirror.group))["pending"] == 0


@pytest.mark.parametrize("where", ["thread", "channel"])
async def test_a_post_cut_off_before_its_record_is_found_among_hundreds_of_messages(
    slack: tuple[SlackEmulator, str],
    chat: SlackChat,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    """A worker killed between Slack's answer and the record, in a busy thread (205 replies
    before it) or channel (205 messages after it): the next attempt pages through Slack's
    history to find the message instead of posting it a second time."""
    emulator, url = slack
    router = RouterStage(store, config=lambda: CONFIG)
    mirror = MirrorStage(
        store, config=lambda: CONFIG, sinks={"slack": chat}, channel_interval_s=lambda _: 0.0
    )
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")
    await drain(store, chat)
    [root] = emulator.messages("C0DESK")

    async def chatter(thread_ts: str | None) -> None:
        # People talking, not what is tested: Slack's pace would make this take minutes.
        emulator.rate_limits = False
        for n in range(205):
            await chat.client.chat_postMessage(channel="C0DESK", text=f"n{n}", thread_ts=thread_ts)
        emulator.rate_limits = True

    async def next_entry(stage: RouterStage | MirrorStage) -> Entry:
        [[_, [(entry_id, fields)]]] = await store.redis.xreadgroup(
            stage.group, "c", {stage.stream: ">"}, count=1
        )
        return Entry(stage.stream, entry_id, fields)

    if where == "thread":
        await chatter(root["ts"])
        later = mention(2, conversation=1)
    else:
        later = mention(2)
    await store.append_mentions([later], network="x", account="humas", cursor="1002")
    await router.handle(await next_entry(router))
    entry = await next_entry(mirror)

    async def killed(record: object) -> None:
        raise RuntimeError("killed before the record")

    with monkeypatch.context() as patched:
        patched.setattr(mirror, "_record_once_posted", killed)
        with pytest.raises(RuntimeError):
            await mirror.handle(entry)
    if where == "channel":
        await chatter(None)
    posted = len(calls(url, "/api/chat.postMessage"))
    # Slack's read limits apply to the lookup too: the entry waits, the lookup is not skipped.
    read = "conversations.replies" if where == "thread" else "conversations.history"
    slow_down(url, read, error="ratelimited", status=429, times=1)
    with pytest.raises(Deferred):
        await mirror.handle(entry)

    await mirror.handle(entry)

    assert len(calls(url, "/api/chat.postMessage")) == posted
    mirrored = [m for m in emulator.messages("C0DESK") if "pesan 2" in m["text"]]
    assert len(mirrored) == 1
    assert (mirrored[0]["thread_ts"] == root["ts"]) is (where == "thread")
    assert (await store.redis.xpending(mirror.stream, mirror.group))["pending"] == 0
    if where == "channel":
        thread_id = thread_id_for(network="x", account="humas", conversation_id="1002")
        ref = await store.mirror(thread_id, "desk")
        assert ref is not None and ref.message_id == mirrored[0]["ts"]
    assert len(calls(url, f"/api/{read}")) == 1 + 2, "refused once, then two pages of 200"


async def test_an_escalated_mirror_keeps_its_link_through_a_rate_limit(
    slack: tuple[SlackEmulator, str], chat: SlackChat, store: Store
) -> None:
    """The supervisors' copy of a thread links to the team's message; a busy Slack delays
    its redraw rather than send it out without that link."""
    emulator, url = slack
    emulator.channels["C0SUPER"] = "supervisors"
    emulator.reset_state()
    config = parse_config(
        """
accounts: [{key: humas, handle: humas_demo}]
destinations:
  desk: {chat: slack, channel: C0DESK}
  supervisors: {chat: slack, channel: C0SUPER}
people: [{key: rina, name: Rina, slack: U0RINA}]
routes: [{name: all, to: [desk, supervisors]}]
escalation: {to: supervisors}
"""
    )
    await store.append_mentions([mention(1)], network="x", account="humas", cursor="1001")
    await drain(store, chat, config)
    [team] = emulator.messages("C0DESK")
    slow_down(url, "chat.getPermalink", error="ratelimited", status=429, times=2, retry_after=1)

    await change_state(
        store,
        thread_id_for(network="x", account="humas", conversation_id="1001"),
        status=ThreadStatus.CLAIMED,
        by="rina",
    )
    await drain(store, chat, config)

    [supervisors] = emulator.messages("C0SUPER")
    assert "Rina is on it" in str(supervisors["blocks"])
    assert f"/archives/C0DESK/p{team['ts'].replace('.', '')}" in str(supervisors["blocks"])


async def test_a_long_post_interrupted_after_its_second_message_is_finished_once(
    slack: tuple[SlackEmulator, str],
    chat: SlackChat,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 25,000-character post goes out as the mirror and two more messages in its thread. The
    worker dies right after Slack took the second (sent, not recorded): the next attempt finds
    that message by its tag and posts only the third."""
    emulator, _ = slack
    text = " ".join(f"kata{n}" for n in range(5000))[:25_000]
    router = RouterStage(store, config=lambda: CONFIG)
    mirror = MirrorStage(
        store, config=lambda: CONFIG, sinks={"slack": chat}, channel_interval_s=lambda _: 0.0
    )
    for stage in (router, mirror):
        await store.redis.xgroup_create(stage.stream, stage.group, id="0", mkstream=True)
    await store.append_mentions([mention(1, text=text)], network="x", account="humas", cursor="1")
    [[_, [(route_id, route_fields)]]] = await store.redis.xreadgroup(
        router.group, "c", {router.stream: ">"}, count=1
    )
    await router.handle(Entry(router.stream, route_id, route_fields))
    [[_, [(entry_id, fields)]]] = await store.redis.xreadgroup(
        mirror.group, "c", {mirror.stream: ">"}, count=1
    )
    entry = Entry(mirror.stream, entry_id, fields)

    turns = 0
    real_turn = MirrorProgress.turn

    async def killed_before_the_third(progress: MirrorProgress) -> None:
        nonlocal turns
        turns += 1
        if turns == 3:  # the turn that would record the second message
            raise RuntimeError("killed")
        await real_turn(progress)

    with monkeypatch.context() as patched:
        patched.setattr(MirrorProgress, "turn", killed_before_the_third)
        with pytest.raises(RuntimeError):
            await mirror.handle(entry)
    assert len(emulator.messages("C0DESK")) == 2
    await mirror.handle(entry)

    posted = emulator.messages("C0DESK")
    assert len(posted) == 3
    shown = "".join(
        block["text"]["text"] for m in posted for block in m["blocks"] if block["type"] == "section"
    )
    assert shown == text
    assert (await store.redis.xpending(mirror.stream, mirror.group))["pending"] == 0
