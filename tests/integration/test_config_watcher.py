"""The config watcher never misses an edit made while its process was starting."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.config import load_config
from bridge.config import Config
from bridge.ops.reload import ConfigWatcher
from bridge.store.store import Store

FIRST = """
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
routes: [{name: all, to: [desk]}]
"""
SECOND = FIRST.replace("name: all", "name: everything")


async def until_everything_is_live(live: list[Config]) -> None:
    for _ in range(100):
        if live[-1].routes[0].name == "everything":
            return
        await asyncio.sleep(0.05)


async def test_an_edit_between_loading_and_watching_is_picked_up(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "reachable.yaml"
    path.write_text(FIRST)
    live: list[Config] = [load_config(path)]
    path.write_text(SECOND)  # edited after the process read it, before the watcher looked
    watcher = ConfigWatcher(
        path, store, current=lambda: live[-1], replace=live.append, interval_s=0.05
    )
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        await until_everything_is_live(live)
    finally:
        stop.set()
        await task
    assert [config.routes[0].name for config in live] == ["all", "everything"]


async def test_an_unchanged_file_is_not_reloaded(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "reachable.yaml"
    path.write_text(FIRST)
    live: list[Config] = [load_config(path)]
    watcher = ConfigWatcher(
        path, store, current=lambda: live[-1], replace=live.append, interval_s=0.05
    )
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    await asyncio.sleep(0.5)
    stop.set()
    await task
    assert len(live) == 1


async def test_a_refused_edit_is_told_in_the_admins_language(store: Store, tmp_path: Path) -> None:
    indonesian = FIRST.replace("channel: C0DESK}", "channel: C0DESK, locale: id}") + (
        "escalation: {to: desk}\n"
    )
    path = tmp_path / "reachable.yaml"
    path.write_text(indonesian)
    live: list[Config] = [load_config(path)]
    watcher = ConfigWatcher(path, store, current=lambda: live[-1], replace=live.append)
    path.write_text(indonesian.replace("to: [desk]", "to: [dsek]"))

    outcome = await watcher.reload(reason="test")

    assert outcome.problems and "unknown destination 'dsek'" in outcome.problems[0]
    [(_, alert)] = await store.redis.xrange(store.keys.outbox_stream)
    assert "tujuan 'dsek' tidak dikenal" in alert["text"], alert["text"]
    assert "unknown destination" not in alert["text"]
    assert len(live) == 1


async def test_a_file_still_being_written_is_read_once_it_is_whole(
    store: Store, tmp_path: Path
) -> None:
    """An editor or a script that truncates the file, then writes it in pieces: the watcher
    waits for it to settle instead of telling the admins about a half-written config."""
    told = "escalation: {to: desk}\n"  # the admins would be told of a refused file here
    first, second = FIRST + told, SECOND + told
    path = tmp_path / "reachable.yaml"
    path.write_text(first)
    live: list[Config] = [load_config(path)]
    watcher = ConfigWatcher(
        path, store, current=lambda: live[-1], replace=live.append, interval_s=0.02
    )
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        path.write_text("")
        await asyncio.sleep(0.1)
        path.write_text(second[: len(second) // 2])
        await asyncio.sleep(0.1)
        path.write_text(second)
        await until_everything_is_live(live)
    finally:
        stop.set()
        await task
    assert [config.routes[0].name for config in live] == ["all", "everything"]
    assert await store.redis.xlen(store.keys.outbox_stream) == 0, "no alert for a partial file"
