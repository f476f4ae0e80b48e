"""`reachable report` on a real Redis: the text, and a PNG chart that opens, one bar per day."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from bridge.domain.models import Mention, PostedReply, ThreadStatus, thread_id_for
from bridge.store.store import Store
from bridge.store.threads import change_state
from cli.main import cli
from tests.integration.test_stages import route_all

CONFIG = """
accounts: [{key: humas, handle: humas_demo}]
destinations: {all: {chat: slack, channel: C0ALL}}
people: [{key: rina, name: Rina, slack: U0RINA}]
routes: [{name: all, to: [all], sla: 1h}]
"""


@pytest.fixture
async def answered_one_of_two(
    store: Store, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> Store:
    import tests.integration.test_stages as stages
    from app.config import parse_config

    monkeypatch.setattr(stages, "CONFIG", parse_config(CONFIG))
    await store.append_mentions(
        [
            Mention(network="x", id="31", account="humas", text="satu", conversation_id="31"),
            Mention(network="x", id="32", account="humas", text="dua", conversation_id="32"),
        ],
        network="x",
        account="humas",
        cursor="32",
    )
    await route_all(store)
    await change_state(
        store,
        thread_id_for(network="x", account="humas", conversation_id="31"),
        status=ThreadStatus.ANSWERED,
        by="rina",
        answered=PostedReply(
            id="99", url="https://x.com/humas_demo/status/99", as_handle="humas_demo"
        ),
    )
    monkeypatch.setenv("REACHABLE_REDIS_URL", redis_url)
    monkeypatch.setenv("REACHABLE_KEY_PREFIX", store.keys.prefix)
    return store


def run(tmp_path: Path, *args: str) -> str:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    result = CliRunner().invoke(cli, ["report", "--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result.output


async def test_the_report_and_its_chart(answered_one_of_two: Store, tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    out = await asyncio.to_thread(run, tmp_path, "--since", "1d", "--png", str(png))
    assert "Mentions: 2 in 2 threads" in out
    assert "Answered: 1 of 2 (50%)" in out
    assert "Time to first response: median under a minute" in out
    assert "Replies as: institution 1" in out
    assert "Chart of 1 day written to" in out
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] >= 600


async def test_a_report_reaching_back_past_what_is_kept_says_so(
    answered_one_of_two: Store, tmp_path: Path
) -> None:
    within = await asyncio.to_thread(run, tmp_path, "--since", "30d")
    assert "Answered: 1 of 2 (50%)" in within and "Threads are kept" not in within
    longer = await asyncio.to_thread(run, tmp_path, "--since", "200d")
    assert "Answered: 1 of 2 (50%)" in longer
    assert (
        "Threads are kept 6 months after they are answered or dismissed (retention: threads, "
        "in the config): the figures before "
    ) in longer
    assert "lack those closed more than 6 months ago." in longer
