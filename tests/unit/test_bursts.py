"""When a destination folds, which mentions a digest quotes, and how a digest reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.slack.config import SLACK
from adapters.telegram.config import TELEGRAM
from app.config import parse_config
from bridge.config import BurstConfig, ConfigError
from bridge.desks.report import ThreadFacts, build, render
from bridge.domain.models import Author, Media, Mention
from bridge.store.bursts import FoldedMention, digest_timer, digest_window, fold_threshold, sample
from bridge.text import messages
from bridge.text.i18n import speaking
from tests.unit.test_config import VALID

AT = datetime(2026, 11, 29, 7, 0, 3, tzinfo=UTC)


def folded(n: int, priority: str = "normal", seconds: int = 0) -> FoldedMention:
    return FoldedMention(
        thread=f"x-humas-{n:016x}",
        mention=str(n),
        priority=priority,
        author=f"warga{n}",
        text=f"keluhan {n}",
        at=(AT + timedelta(seconds=seconds)).isoformat(),
    )


def test_the_threshold_is_half_the_channels_pace_unless_set() -> None:
    assert fold_threshold(BurstConfig(), channel_interval_s=1.0) == 30  # a Slack channel
    assert fold_threshold(BurstConfig(), channel_interval_s=3.0) == 10  # a Telegram group
    assert fold_threshold(BurstConfig(fold_above=200), channel_interval_s=1.0) == 200
    assert fold_threshold(BurstConfig(fold=False), channel_interval_s=1.0) is None
    assert fold_threshold(BurstConfig(), channel_interval_s=0.0) is None


def test_every_fold_in_one_window_names_the_same_digest_timer() -> None:
    every = timedelta(seconds=20)
    due = digest_window(AT, every)
    assert due == int(datetime(2026, 11, 29, 7, 0, 20, tzinfo=UTC).timestamp() * 1000)
    assert digest_window(AT + timedelta(seconds=16), every) == due
    assert digest_window(AT + timedelta(seconds=18), every) != due
    assert digest_timer("humas-slack", due) == f"digest|humas-slack|0.{due}"


def test_a_digest_quotes_the_most_urgent_then_the_oldest() -> None:
    items = [folded(1, seconds=5), folded(2, "urgent", 9), folded(3, seconds=1), folded(4, "low")]
    assert [i.mention for i in sample(items, 3)] == ["2", "3", "1"]
    assert sample(items, 0) == []
    assert FoldedMention.from_json(items[1].to_json()) == items[1]


@pytest.mark.parametrize(
    ("locale", "heading", "footer"),
    [
        ("en", "📥 Burst: 1,234 more mentions since 14:00", "/show <ref> posts one here"),
        ("id", "📥 Lonjakan: 1.234 mention lagi sejak 14:00 WIB", "/show <ref>"),
    ],
)
def test_a_digest_reads_in_its_destinations_language(
    locale: str, heading: str, footer: str
) -> None:
    with speaking(locale, "Asia/Jakarta"):
        text = messages.burst_digest(
            count=1234,
            since=AT,
            sample=[("0000000001"[:6], "warga1", repr("keluhan 1"))],
            command=TELEGRAM.command,
        )
    assert text.startswith(heading), text
    assert "• [000000] @warga1: 'keluhan 1'" in text
    assert footer in text and "/unanswered" in text


def test_bursts_are_configured_at_the_top_and_per_destination() -> None:
    own = "supervisors: {chat: slack, channel: C0SUPER, bursts: {fold: false}}"
    config = parse_config(
        VALID.replace("supervisors: {chat: slack, channel: C0SUPER}", own)
        + "bursts: {fold_above: 50, digest_every: 1m, sample: 5}\n"
    )
    assert config.bursts.fold_above == 50
    assert config.bursts.digest_every == timedelta(minutes=1)
    assert config.bursts_for(config.destinations["humas-slack"]) is config.bursts
    assert config.bursts_for(config.destinations["supervisors"]).fold is False
    with pytest.raises(ConfigError, match="digest_every"):
        parse_config(VALID + "bursts: {digest_every: 1s}\n")
    with pytest.raises(ConfigError, match="sample"):
        parse_config(VALID + "bursts: {sample: 50}\n")


def test_the_report_counts_threads_that_came_in_bursts() -> None:
    facts = [
        ThreadFacts(
            account="humas",
            route="everything",
            created_at=AT,
            mentions=1,
            first_response=None,
            answered_by=None,
            answered_as_institution=None,
            breached=False,
            folded=n < 2,
        )
        for n in range(3)
    ]
    report = build(facts, since=AT - timedelta(hours=1), until=AT, zone=UTC)
    assert "Came in bursts, folded into digests: 2 threads" in render(
        report, names={}, networks="X", zone=UTC
    )


def test_a_folded_post_of_only_photos_is_quoted_by_what_it_holds() -> None:
    photos = Mention(
        network="x",
        id="77",
        account="humas",
        text="",
        author=Author(id="7", handle="warga_foto"),
        conversation_id="77",
        media=(Media(kind="photo"), Media(kind="photo")),
    )
    item = FoldedMention.of(photos, thread_id="x-humas-77", priority="normal", at=AT)
    stored = FoldedMention.from_json(item.to_json())
    assert stored == item
    quoted = [("aaaaaa", stored.author, stored.quoted()), ("bbbbbb", "warga1", folded(1).quoted())]
    text = messages.burst_digest(count=2, since=AT, sample=quoted, command=SLACK.command)
    assert "• [aaaaaa] @warga_foto: (no text, 2 photos)" in text
    assert "• [bbbbbb] @warga1: 'keluhan 1'" in text
    with speaking("id"):
        assert stored.quoted() == "(tanpa teks, 2 foto)"


def test_what_another_version_folded_is_read() -> None:
    """During an upgrade, a digest may read what an older or newer process folded."""
    older = (
        '{"thread": "t", "mention": "1", "priority": "low", "author": "a", "text": "x", "at": "z"}'
    )
    assert FoldedMention.from_json(older).media == ()
    newer = older[:-1] + ', "media": ["video"], "reactions": 3}'
    assert FoldedMention.from_json(newer).media == ("video",)
