"""What `reachable rules test` and `/route` show an admin for each condition: how it reads, what
the mention had, and whether it held."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.config import parse_config
from bridge.domain.models import Mention
from bridge.domain.routing import decide
from tests.unit.test_routing import BASE, NOW, config, mention, one_rule

Shown = tuple[str, str, bool]


def shown(match: str, posted: Mention) -> list[Shown]:
    decision = decide(one_rule(match), posted, now=NOW)
    return [(check.condition, check.found, check.held) for check in decision.trace[0].checks]


@pytest.mark.parametrize(
    ("match", "posted", "expected"),
    [
        ("{account: humas}", mention(account="pers"), ("account is humas", "pers", False)),
        (
            "{account: [humas, pers]}",
            mention(),
            ("account is one of humas, pers", "humas", True),
        ),
        (
            "{any_words: [rusak, lapor]}",
            mention("Lapor: jalan RUSAK"),
            ("any of the words rusak, lapor", "rusak, lapor", True),
        ),
        ("{any_words: [rusak]}", mention("halo"), ("any of the words rusak", "none", False)),
        (
            "{all_words: [lampu, mati]}",
            mention("lampu taman mati"),
            ("all of the words lampu, mati", "all there", True),
        ),
        (
            "{all_words: [lampu, taman, mati]}",
            mention("taman"),
            ("all of the words lampu, taman, mati", "missing lampu, mati", False),
        ),
        (
            "{none_words: [promo, gratis]}",
            mention("PROMO gratis"),
            ("none of the words promo, gratis", "promo, gratis", False),
        ),
        ("{none_words: [promo]}", mention("halo"), ("none of the words promo", "none", True)),
        (
            r"{regex: ['\d+', 'ja.an', 'x{3}']}",
            mention("Jalan 12"),
            (r"matches /\d+/ or /ja.an/ or /x{3}/", r"\d+, ja.an", True),
        ),
        (r"{regex: ['\d+']}", mention("halo"), (r"matches /\d+/", "none", False)),
        (
            "{hashtags: [lapor, '#darurat', banjir]}",
            mention("#Lapor ＃darurat"),
            ("hashtag #lapor or #darurat or #banjir", "lapor, #darurat", True),
        ),
        ("{hashtags: [lapor]}", mention("halo"), ("hashtag #lapor", "none", False)),
        ("{lang: [id, en]}", mention(lang="in"), ("language is one of id, en", "id", True)),
        (
            "{lang: en}",
            mention("When will the broken road be fixed?", lang=None),
            ("language is en", "en (detected)", True),
        ),
        (
            "{author_in: vip}",
            mention(author="Gubernur_Y"),
            ("author in list vip", "@gubernur_y", True),
        ),
        (
            "{author_in: ['@someone', Xena]}",
            mention(),
            ("author in @someone, @Xena", "@warga", False),
        ),
        (
            "{author_not_in: blocked}",
            mention(author="spammer1"),
            ("author not in list blocked", "@spammer1", False),
        ),
        ("{verified: true}", mention(), ("author is verified", "no", False)),
        ("{verified: true}", mention(verified=True), ("author is verified", "yes", True)),
        ("{followers_at_least: 10}", mention(followers=10), ("followers at least 10", "10", True)),
        ("{is_reply: true}", mention(reply=True), ("a reply in a conversation", "yes", True)),
        ("{has_media: true}", mention(), ("has media", "no", False)),
        ("{within: office}", mention(), ("within office", "Tue 2026-12-01 10:00 WIB", True)),
        (
            "{outside: office}",
            mention(at=NOW + timedelta(hours=9)),
            ("outside office", "Tue 2026-12-01 19:00 WIB", True),
        ),
    ],
)
def test_each_condition_shows_what_the_mention_had(
    match: str, posted: Mention, expected: Shown
) -> None:
    assert shown(match, posted) == [expected]


@pytest.mark.parametrize(
    ("match", "posted", "expected"),
    [
        ("{verified: false}", mention(), ("author is not verified", "yes", True)),
        ("{verified: false}", mention(verified=True), ("author is not verified", "no", False)),
        ("{is_reply: false}", mention(), ("starts a conversation", "yes", True)),
        ("{is_reply: false}", mention(reply=True), ("starts a conversation", "no", False)),
        ("{has_media: false}", mention(), ("has no media", "yes", True)),
        ("{has_media: false}", mention(media=True), ("has no media", "no", False)),
    ],
)
def test_a_condition_phrased_in_the_negative_answers_yes_when_it_holds(
    match: str, posted: Mention, expected: Shown
) -> None:
    assert shown(match, posted) == [expected]


def test_a_mention_without_an_author_is_in_no_list_and_has_no_followers() -> None:
    anonymous = mention().model_copy(update={"author": None})
    assert shown(
        "{author_in: vip, author_not_in: blocked, verified: false, followers_at_least: 0}",
        anonymous,
    ) == [
        ("author in list vip", "@", False),
        ("author not in list blocked", "@", True),
        ("author is not verified", "yes", True),
        ("followers at least 0", "0", True),
    ]
    cfg = config(
        "  - {name: known, match: {author_not_in: blocked}, to: [desk]}\n"
        "  - {name: rest, to: [all]}\n"
    )
    assert decide(cfg, anonymous, now=NOW).route == "known"


def test_a_mention_without_a_time_is_routed_by_the_time_it_is_routed() -> None:
    undated = mention(at=None)
    cfg = one_rule("{within: office}")
    evening = NOW + timedelta(hours=9)
    at_ten = decide(cfg, undated, now=NOW)
    at_seven_pm = decide(cfg, undated, now=evening)
    assert (at_ten.route, at_seven_pm.route) == ("hit", "rest")
    assert at_seven_pm.trace[0].checks[0].found == "Tue 2026-12-01 19:00 WIB"


def test_an_author_list_is_matched_without_at_signs_or_case() -> None:
    cfg = parse_config(
        BASE.replace("vip: [menteri_x,", "vip: ['@Xavier_ID', menteri_x,")
        + "routes:\n  - {name: vip, match: {author_in: vip}, to: [press]}\n"
        "  - {name: rest, to: [all]}\n"
    )
    assert decide(cfg, mention(author="xavier_id"), now=NOW).route == "vip"
    assert decide(cfg, mention(author="Gubernur_y"), now=NOW).route == "vip"
    assert decide(cfg, mention(author="xavier"), now=NOW).route == "rest"
