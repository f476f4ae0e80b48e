"""Replies reach X once, even when the worker died mid-post; refusals are audited."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.x.publisher import XPublisher
from app.config import parse_config
from app.httpserver import ThreadedServer
from app.settings import AppSettings
from bridge.desks import audit
from bridge.desks.replies import ReplyDesk, ReplyRefused
from bridge.domain.models import Identity, Mention, Thread, ThreadStatus, thread_id_for
from bridge.pipeline.publish import PublishStage
from bridge.pipeline.runner import StageRunner
from bridge.store.store import Store
from emulators.x import PostSpec, XEmulator

CONFIG = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
people:
  - {key: rina, name: Rina Wulandari, slack: U0RINA, speaks_for: [humas]}
  - {key: sari, slack: U0SARI}
routes: [{name: all, to: [desk]}]
""")
RINA, SARI = CONFIG.people


@pytest.fixture
def x() -> Iterator[tuple[XEmulator, str]]:
    emulator = XEmulator(
        bearer_tokens={"bearer"},
        oauth1_consumers={"ck": "cs"},
        oauth1_tokens={"at": ("ats", "humas_demo")},
        users=[{"username": "humas_demo"}],
    )
    server = ThreadedServer(emulator.app).start()
    yield emulator, server.url
    server.stop()


@pytest.fixture
async def publisher(x: tuple[XEmulator, str], store: Store) -> AsyncIterator[XPublisher]:
    settings = AppSettings.model_validate(
        {
            "x_api_url": x[1],
            "x_bearer_token": "bearer",
            "x_consumer_key": "ck",
            "x_consumer_secret": "cs",
            "x_account_tokens": {"humas": {"access_token": "at", "access_token_secret": "ats"}},
        }
    )
    instance = XPublisher(settings, store)
    yield instance
    await instance.close()


async def a_thread(store: Store, x: XEmulator) -> tuple[str, str]:
    post = x.add_post(PostSpec(author="warga", text="@humas_demo jalan rusak"))
    mention = Mention(
        network="x", id=post.id, account="humas", text=post.text, conversation_id=post.id
    )
    thread_id = thread_id_for(network="x", account="humas", conversation_id=post.id)
    await store.join_thread(
        mention,
        thread=Thread(
            id=thread_id,
            network="x",
            account="humas",
            conversation_id=post.id,
            route="all",
            created_at=datetime.now(UTC),
        ),
        destinations=["desk"],
    )
    return thread_id, post.id


async def publish_all(store: Store, publisher: XPublisher) -> None:
    stage = PublishStage(store, config=lambda: CONFIG, publishers={"x": publisher})
    runner = StageRunner(
        store.redis,
        stream=stage.stream,
        group=stage.group,
        consumer="c",
        handler=stage.handle,
        block_ms=50,
    )
    await runner.ensure_group()
    while entries := await runner._read_new():
        await runner._handle_all(entries)


async def test_a_reply_interrupted_after_x_took_it_is_not_posted_again(
    x: tuple[XEmulator, str], publisher: XPublisher, store: Store
) -> None:
    emulator, _ = x
    thread_id, mention_id = await a_thread(store, emulator)
    desk = ReplyDesk(store, config=lambda: CONFIG, publishers={"x": publisher})
    request = await desk.request(
        thread_id=thread_id,
        mention_id=mention_id,
        text="Kami cek.",
        identity=Identity.INSTITUTION,
        person=RINA,
        chat="slack",
    )
    # The worker posted, then died before recording it.
    await publisher.post_reply(account=CONFIG.accounts[0], in_reply_to=mention_id, text="Kami cek.")
    await store.redis.hset(store.keys.effect(f"reply:{request.id}"), "state", "doing")

    await publish_all(store, publisher)

    assert len(emulator.posts_by("humas_demo")) == 1
    # Found by looking, not by trying again: X saw a single attempt.
    attempts = [
        c
        for c in emulator.core.calls_snapshot()
        if c["method"] == "POST" and c["path"] == "/2/tweets"
    ]
    assert len(attempts) == 1
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status is ThreadStatus.ANSWERED
    assert thread.answered_as == "humas_demo" and thread.status_by == "rina"


async def test_a_second_reply_is_refused_naming_who_answered(
    x: tuple[XEmulator, str], publisher: XPublisher, store: Store
) -> None:
    emulator, _ = x
    thread_id, mention_id = await a_thread(store, emulator)
    desk = ReplyDesk(store, config=lambda: CONFIG, publishers={"x": publisher})
    ask = {"thread_id": thread_id, "mention_id": mention_id, "identity": Identity.INSTITUTION}
    await desk.request(**ask, text="Kami cek.", person=RINA, chat="slack")
    await publish_all(store, publisher)

    with pytest.raises(ReplyRefused) as refused:
        await desk.request(**ask, text="Sudah.", person=RINA, chat="telegram")

    assert refused.value.reason == (
        "Rina Wulandari already answered this thread; nothing was posted."
    )
    assert len(emulator.posts_by("humas_demo")) == 1


async def test_x_calling_it_a_duplicate_counts_as_posted(
    x: tuple[XEmulator, str], publisher: XPublisher, store: Store
) -> None:
    emulator, _ = x
    thread_id, mention_id = await a_thread(store, emulator)
    desk = ReplyDesk(store, config=lambda: CONFIG, publishers={"x": publisher})
    await publisher.post_reply(
        account=CONFIG.accounts[0], in_reply_to=mention_id, text="Sudah kami terima."
    )
    await desk.request(
        thread_id=thread_id,
        mention_id=mention_id,
        text="Sudah kami terima.",
        identity=Identity.INSTITUTION,
        person=RINA,
        chat="telegram",
    )
    await publish_all(store, publisher)
    assert len(emulator.posts_by("humas_demo")) == 1
    thread = await store.thread(thread_id)
    assert thread is not None and thread.status is ThreadStatus.ANSWERED


async def test_refusals_change_nothing_and_are_audited(
    x: tuple[XEmulator, str], publisher: XPublisher, store: Store
) -> None:
    emulator, _ = x
    thread_id, mention_id = await a_thread(store, emulator)
    desk = ReplyDesk(store, config=lambda: CONFIG, publishers={"x": publisher})
    cases = [
        (SARI, Identity.INSTITUTION, "halo", "You may not reply as @humas_demo"),
        (RINA, Identity.INSTITUTION, "   ", "it is empty"),
        (RINA, Identity.INSTITUTION, "字" * 141, "2 characters too long for X (282 of 280"),
        (RINA, Identity.PERSONAL, "halo", "personal X account is not linked"),
    ]
    for person, identity, text, reason in cases:
        with pytest.raises(ReplyRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
            await desk.request(
                thread_id=thread_id,
                mention_id=mention_id,
                text=text,
                identity=identity,
                person=person,
                chat="slack",
            )
    assert await store.redis.xlen(store.keys.actions_stream) == 0
    found = await audit.entries(store, since=timedelta(hours=1))
    assert [(e["person"], e["outcome"]) for e in found] == [
        ("sari", "refused"),
        ("rina", "refused"),
        ("rina", "refused"),
        ("rina", "refused"),
    ]
    assert emulator.posts_by("humas_demo") == []
