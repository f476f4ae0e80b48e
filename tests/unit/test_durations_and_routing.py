from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.base import RateBudget
from bridge.config import parse_config
from bridge.durations import format_duration, parse_duration
from bridge.models import Mention
from bridge.poller import pause_after_poll
from bridge.routing import choose_routes, destinations_of

CONFIG = parse_config("""
accounts:
  - {key: humas, handle: humas_demo}
  - {key: pers, handle: pers_demo}
destinations:
  desk: {chat: slack, channel: C0DESK}
  press: {chat: slack, channel: C0PRESS}
  all: {chat: slack, channel: C0ALL}
people: []
routes:
  - name: complaints
    match: {any_words: [jalan rusak, keluhan], lang: in}
    to: [desk]
    continue: true
  - name: press
    match: {account: pers}
    to: [press]
  - name: rest
    to: [all]
""")


def mention(text: str, *, account: str = "humas", lang: str | None = "in") -> Mention:
    return Mention(network="x", id="1", account=account, text=text, lang=lang, conversation_id="1")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("4h", 14400), ("1h30m", 5400), ("2d", 172800), (45, 45)],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_bad_durations_say_how_to_write_one() -> None:
    for bad in ("soon", "30 minutes", "", "-5m", True):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert format_duration(timedelta(seconds=5400)) == "1h30m"


def test_first_match_wins_unless_continue() -> None:
    routes = choose_routes(CONFIG, mention("Jalan  RUSAK di pasar"))
    assert [r.name for r in routes] == ["complaints", "rest"]
    assert destinations_of(routes) == ["desk", "all"]


def test_words_are_whole_words_and_accent_insensitive() -> None:
    assert choose_routes(CONFIG, mention("ada kéluhan"))[0].name == "complaints"
    assert [r.name for r in choose_routes(CONFIG, mention("keluhannya"))] == ["rest"]
    assert [r.name for r in choose_routes(CONFIG, mention("keluhan", lang="en"))] == ["rest"]


def test_account_condition() -> None:
    assert [r.name for r in choose_routes(CONFIG, mention("hi", account="pers"))] == ["press"]


def test_pacing_spreads_the_remaining_budget_until_reset() -> None:
    now = 1_000_000.0
    assert pause_after_poll(2, RateBudget(), now=now) == 2
    assert pause_after_poll(2, RateBudget(remaining=450, reset_at=now + 900), now=now) == 2
    assert pause_after_poll(2, RateBudget(remaining=10, reset_at=now + 600), now=now) == 60
    assert pause_after_poll(2, RateBudget(remaining=0, reset_at=now + 600), now=now) == 601


def test_x_language_codes_match_their_iso_form() -> None:
    assert choose_routes(CONFIG, mention("keluhan", lang="id"))[0].name == "complaints"
    assert choose_routes(CONFIG, mention("keluhan", lang=None))[-1].name == "rest"
