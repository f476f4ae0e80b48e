"""`reachable rules replay`: last week's kept mentions, routed again with candidate rules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.config import parse_config
from bridge.domain.models import Author, Mention
from bridge.store.store import Store
from cli.main import cli
from tests.integration.test_stages import route_all

LIVE = """
accounts: [{key: humas, handle: humas_demo}]
destinations:
  desk: {chat: slack, channel: C0DESK}
  all: {chat: slack, channel: C0ALL}
routes:
  - {name: spam, match: {any_words: [promo]}, drop: true}
  - {name: complaints, match: {any_words: [rusak]}, to: [desk, all], sla: 30m}
  - {name: rest, to: [all]}
"""
CANDIDATE = LIVE.replace(
    "  - {name: rest, to: [all]}",
    "  - {name: floods, match: {any_words: [banjir]}, to: [desk]}\n  - {name: rest, to: [all]}",
).replace("any_words: [promo]", "any_words: [promo, gratis]")


def mention(n: int, text: str, *, days_ago: float = 1) -> Mention:
    return Mention(
        network="x",
        id=str(100 + n),
        account="humas",
        text=text,
        author=Author(id=str(n), handle=f"warga_{n}"),
        conversation_id=str(100 + n),
        created_at=datetime.now(UTC) - timedelta(days=days_ago),
    )


@pytest.fixture
async def routed(store: Store, monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Store:
    import tests.integration.test_stages as stages

    monkeypatch.setattr(stages, "CONFIG", parse_config(LIVE))
    await store.append_mentions(
        [
            mention(1, "jalan rusak"),
            mention(2, "banjir di pasar"),
            mention(3, "banjir lagi"),
            mention(4, "PROMO murah"),
            mention(5, "hadiah gratis"),
            mention(6, "halo, lama sekali", days_ago=9),
        ],
        network="x",
        account="humas",
        cursor="106",
    )
    await route_all(store)
    monkeypatch.setenv("REACHABLE_REDIS_URL", redis_url)
    monkeypatch.setenv("REACHABLE_KEY_PREFIX", store.keys.prefix)
    return store


def run(tmp_path: Path, *args: str) -> str:
    """The command in its own thread: it runs its own event loop, as from a shell."""
    live, candidate = tmp_path / "live.yaml", tmp_path / "candidate.yaml"
    live.write_text(LIVE)
    candidate.write_text(CANDIDATE)
    result = CliRunner().invoke(
        cli, ["rules", "replay", "--config", str(live), *args, "--rules", str(candidate)]
    )
    assert result.exit_code == 0, result.output
    return result.output


async def test_replay_counts_routes_then_and_with_the_candidate_and_shows_changes(
    routed: Store, tmp_path: Path
) -> None:
    out = await asyncio.to_thread(run, tmp_path, "--since", "7d")
    assert "Replayed 5 mentions from the last 7d" in out
    lines = out.splitlines()
    assert any(line.split() == ["rest", "3", "0", "-3"] for line in lines), out
    assert any(line.split() == ["floods", "0", "2", "+2"] for line in lines), out
    assert any(line.split() == ["spam", "(dropped)", "1", "2", "+1"] for line in lines), out
    assert any(line.split() == ["complaints", "1", "1", "·"] for line in lines), out
    assert "3 mentions would go elsewhere, for example:" in out
    assert "@warga_5 'hadiah gratis'\n      rest (all) → spam (dropped) (nowhere)" in out
    assert "Messages per destination: all 4 → 1, desk 1 → 3" in out


async def test_replay_of_an_empty_period_says_so(routed: Store, tmp_path: Path) -> None:
    assert "nothing to replay" in await asyncio.to_thread(run, tmp_path, "--since", "1m")
