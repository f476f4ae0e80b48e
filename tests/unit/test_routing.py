"""Every rule condition, their combinations, `continue` and `drop`, and that routing is total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import parse_config
from bridge.config import Config
from bridge.domain.models import Author, Media, Mention
from bridge.domain.routing import Decision, decide
from bridge.errors import ConfigError

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Jakarta

BASE = """
accounts:
  - {key: humas, handle: humas_demo}
  - {key: pers, handle: pers_demo}
destinations:
  desk: {chat: slack, channel: C0DESK}
  press: {chat: slack, channel: C0PRESS}
  all: {chat: slack, channel: C0ALL}
lists:
  vip: [menteri_x, "@Gubernur_Y"]
  blocked: [spammer1]
calendars:
  office:
    timezone: Asia/Jakarta
    days: [mon, tue, wed, thu, fri]
    hours: "08:00-16:00"
    holidays: [2026-12-25]
  night:
    timezone: Asia/Jakarta
    days: [mon, tue, wed, thu, fri, sat, sun]
    hours: "22:00-06:00"
"""


def config(routes: str, base: str = BASE) -> Config:
    return parse_config(base + "routes:\n" + routes)


def mention(
    text: str = "halo",
    *,
    account: str = "humas",
    lang: str | None = "in",
    author: str = "warga",
    verified: bool = False,
    followers: int | None = 10,
    reply: bool = False,
    media: bool = False,
    at: datetime | None = NOW,
) -> Mention:
    return Mention(
        network="x",
        id="2",
        account=account,
        text=text,
        lang=lang,
        author=Author(id="9", handle=author, verified=verified, followers=followers),
        conversation_id="1" if reply else "2",
        created_at=at,
        media=(Media(kind="photo"),) if media else (),
    )


def route_of(cfg: Config, m: Mention) -> str:
    return decide(cfg, m, now=NOW).route


def one_rule(match: str) -> Config:
    return config(f"  - {{name: hit, match: {match}, to: [desk]}}\n  - {{name: rest, to: [all]}}\n")


@pytest.mark.parametrize(
    ("match", "hits", "misses"),
    [
        ("{account: pers}", mention(account="pers"), mention()),
        ("{any_words: [jalan rusak, keluhan]}", mention("Jalan  RUSAK!"), mention("jalanan")),
        ("{any_words: [keluhan]}", mention("ada kéluhan"), mention("keluhannya")),
        ("{all_words: [lampu, mati]}", mention("lampu taman mati"), mention("lampu taman")),
        ("{none_words: [promo]}", mention("lampu mati"), mention("PROMO gratis")),
        (r"{regex: ['no\.?\s*laporan\s*\d+']}", mention("No. Laporan 123"), mention("laporan")),
        ("{hashtags: [lapor]}", mention("tolong #Lapor"), mention("lapor tanpa tagar")),
        ("{hashtags: ['#lapor']}", mention("tolong ＃lapor"), mention("#laporan")),
        ("{hashtags: [lapor]}", mention("(#lapor)"), mention("kode &#lapor;")),  # as X: no entity
        ("{lang: [id]}", mention(lang="in"), mention(lang="en")),
        ("{lang: in}", mention(lang="id"), mention(lang="en")),
        ("{author_in: vip}", mention(author="gubernur_y"), mention(author="warga")),
        ("{author_in: ['@someone']}", mention(author="SomeOne"), mention()),
        ("{author_not_in: blocked}", mention(), mention(author="spammer1")),
        ("{verified: true}", mention(verified=True), mention()),
        ("{verified: false}", mention(), mention(verified=True)),
        ("{followers_at_least: 5000}", mention(followers=5000), mention(followers=4999)),
        ("{followers_at_least: 1}", mention(followers=1), mention(followers=None)),
        ("{is_reply: true}", mention(reply=True), mention()),
        ("{is_reply: false}", mention(), mention(reply=True)),
        ("{has_media: true}", mention(media=True), mention()),
        ("{within: office}", mention(), mention(at=NOW + timedelta(hours=8))),
        ("{outside: office}", mention(at=NOW + timedelta(hours=8)), mention()),
    ],
)
def test_each_condition_matches_and_misses(match: str, hits: Mention, misses: Mention) -> None:
    cfg = one_rule(match)
    assert route_of(cfg, hits) == "hit"
    assert route_of(cfg, misses) == "rest"


def test_office_hours_follow_the_time_zone_weekdays_and_holidays() -> None:
    office = one_rule("{within: office}").calendars["office"]
    jakarta_8am_utc = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert office.contains(jakarta_8am_utc)
    assert not office.contains(jakarta_8am_utc - timedelta(minutes=1))
    assert not office.contains(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # 16:00 is closed
    assert not office.contains(datetime(2026, 12, 5, 3, 0, tzinfo=UTC))  # Saturday
    assert not office.contains(datetime(2026, 12, 25, 3, 0, tzinfo=UTC))  # holiday


def test_an_overnight_window_belongs_to_the_evening_it_starts() -> None:
    night = one_rule("{within: night}").calendars["night"]
    assert night.contains(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 23:00 Jakarta
    assert night.contains(datetime(2026, 12, 1, 21, 0, tzinfo=UTC))  # 04:00 next day
    assert not night.contains(datetime(2026, 12, 1, 23, 30, tzinfo=UTC))  # 06:30


def test_conditions_combine_with_and() -> None:
    cfg = one_rule("{any_words: [rusak], lang: [id], followers_at_least: 100}")
    assert route_of(cfg, mention("jalan rusak", followers=100)) == "hit"
    assert route_of(cfg, mention("jalan rusak", followers=99)) == "rest"
    assert route_of(cfg, mention("jalan rusak", lang="en", followers=100)) == "rest"


def test_first_match_wins_unless_continue_and_continue_merges_the_outcome() -> None:
    cfg = config("""
  - {name: vip, match: {author_in: vip}, to: [press], priority: urgent, sla: 15m, tags: [vip],
     continue: true}
  - {name: complaints, match: {any_words: [rusak]}, to: [desk], priority: high, sla: 30m,
     tags: [complaint]}
  - {name: later, match: {any_words: [rusak]}, to: [press]}
  - {name: rest, to: [all]}
""")
    decision = decide(cfg, mention("jalan rusak", author="menteri_x"), now=NOW)
    assert [r.name for r in decision.matched] == ["vip", "complaints"]
    assert decision.route == "complaints"
    assert decision.destinations == ["press", "desk"]
    assert decision.priority == "urgent"
    assert decision.sla == timedelta(minutes=15)
    assert decision.tags == ("vip", "complaint")
    plain = decide(cfg, mention("halo"), now=NOW)
    assert (plain.route, plain.destinations, plain.priority) == ("rest", ["all"], "normal")
    assert plain.sla == timedelta(hours=4)


def test_a_tag_two_matching_rules_give_is_shown_once() -> None:
    cfg = config("""
  - {name: vip, match: {author_in: vip}, to: [press], tags: [vip, watch], continue: true}
  - {name: rest, to: [all], tags: [watch]}
""")
    assert decide(cfg, mention(author="menteri_x"), now=NOW).tags == ("vip", "watch")


def test_drop_sends_nowhere_and_ends_the_evaluation() -> None:
    cfg = config("""
  - {name: vip, match: {author_in: vip}, to: [press], continue: true}
  - {name: spam, match: {any_words: [promo, hadiah gratis]}, drop: true}
  - {name: rest, to: [all]}
""")
    dropped = decide(cfg, mention("HADIAH  gratis", author="menteri_x"), now=NOW)
    assert dropped.dropped and dropped.route == "spam" and dropped.destinations == []
    assert not decide(cfg, mention("halo"), now=NOW).dropped


def test_a_catch_all_may_drop() -> None:
    cfg = config("""
  - {name: desk, match: {account: humas}, to: [desk]}
  - {name: others, drop: true}
""")
    assert decide(cfg, mention(account="pers"), now=NOW).dropped


def test_a_config_built_without_its_checks_still_routes_every_mention() -> None:
    """Only a config changed without validation (``model_copy``) can lack a catch-all: its last
    rule then takes what no rule matched, or what a matching ``continue`` rule left open."""
    checked = config("""
  - {name: vip, match: {author_in: vip}, to: [press], continue: true}
  - {name: complaints, match: {any_words: [rusak]}, to: [desk]}
  - {name: later, match: {any_words: [lampu]}, to: [all]}
  - {name: rest, to: [all]}
""")
    unchecked = checked.model_copy(update={"routes": checked.routes[:3]})
    nothing = decide(unchecked, mention("halo"), now=NOW)
    assert (nothing.route, nothing.destinations) == ("later", ["all"])
    assert [t.rule.name for t in nothing.trace] == ["vip", "complaints", "later"]
    left_open = decide(unchecked, mention("halo", author="menteri_x"), now=NOW)
    assert (left_open.route, left_open.destinations) == ("later", ["press", "all"])


def test_a_missing_language_is_detected() -> None:
    cfg = one_rule("{lang: [en]}")
    assert route_of(cfg, mention("When will the broken road be fixed?", lang=None)) == "hit"
    assert route_of(cfg, mention("When will the broken road be fixed?", lang="und")) == "hit"
    assert route_of(cfg, mention("Kapan jalan yang rusak diperbaiki?", lang=None)) == "rest"


def test_a_language_is_detected_among_the_ones_the_config_names() -> None:
    """Malay and Indonesian are close: an institution that hears only Indonesian and English
    says so, and a post X gave no language is not taken for Malay."""
    malay_looking = mention("Bila jalan rosak ini akan dibaiki?", lang=None)
    anywhere = one_rule("{lang: [id]}")
    here = anywhere.model_copy(update={"detect_languages": ["id", "en"]})
    assert route_of(anywhere, malay_looking) == "rest"
    assert route_of(here, malay_looking) == "hit"


def test_the_trace_says_which_condition_failed() -> None:
    cfg = one_rule("{any_words: [rusak], followers_at_least: 5000}")
    decision = decide(cfg, mention("jalan rusak", followers=12), now=NOW)
    hit = decision.trace[0]
    assert not hit.matched
    assert [(c.condition, c.found, c.held) for c in hit.checks] == [
        ("any of the words rusak", "rusak", True),
        ("followers at least 5000", "12", False),
    ]


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ("  - {name: a, to: [nowhere]}\n", "routes[0].to[0]: unknown destination 'nowhere'"),
        (
            "  - {name: a, match: {account: other}, to: [desk]}\n  - {name: b, to: [all]}\n",
            "routes[0].match.account[0]: unknown account 'other'",
        ),
        (
            "  - {name: a, match: {regex: ['(unclosed']}, to: [desk]}\n  - {name: b, to: [all]}\n",
            "routes[0].match.regex[0]: invalid regular expression: missing ), unterminated",
        ),
        (
            "  - {name: a, match: {author_in: vips}, to: [desk]}\n  - {name: b, to: [all]}\n",
            "routes[0].match.author_in: unknown list 'vips' (known: vip, blocked)",
        ),
        (
            "  - {name: a, match: {within: ofice}, to: [desk]}\n  - {name: b, to: [all]}\n",
            "routes[0].match.within: unknown calendar 'ofice' (known: office, night)",
        ),
        ("  - {name: a, to: [all]}\n  - {name: b, to: [desk]}\n", "routes[1]: can never match"),
        ("  - {name: a, to: [all], drop: true}\n", "remove `to` or `drop`"),
        ("  - {name: a}\n", "say where mentions go"),
        (
            "  - {name: a, match: {any_words: [x]}, drop: true, continue: true}\n"
            "  - {name: b, to: [all]}\n",
            "`drop` ends routing",
        ),
        (
            "  - {name: a, match: {any_words: [Promo], none_words: [promo]}, to: [desk]}\n"
            "  - {name: b, to: [all]}\n",
            "none_words: also required elsewhere: promo",
        ),
        (
            "  - {name: a, match: {within: office, outside: office}, to: [desk]}\n"
            "  - {name: b, to: [all]}\n",
            "never both hold",
        ),
        ("  - {name: a, match: {any_words: [x]}, to: [desk]}\n", "the last route must match"),
        (
            "  - {name: a, match: {followers_at_least: -1}, to: [desk]}\n"
            "  - {name: b, to: [all]}\n",
            "routes[0].match.followers_at_least",
        ),
    ],
)
def test_validation_names_the_rule_and_the_path(routes: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config(routes)
    assert problem in str(raised.value)


def test_calendars_and_lists_are_checked() -> None:
    bad = BASE.replace("Asia/Jakarta", "Asia/Jakartaa", 1).replace('"08:00-16:00"', '"8-16"')
    with pytest.raises(ConfigError) as raised:
        config("  - {name: b, to: [all]}\n", base=bad)
    text = str(raised.value)
    assert "calendars.office.timezone: unknown time zone 'Asia/Jakartaa'" in text
    assert "calendars.office.hours: '8-16' is not a range of hours like 08:00-16:00" in text


# -- properties: routing is total and deterministic for any valid rules and any mention ----------

WORDS = st.sampled_from(["rusak", "lapor", "promo", "jalan", "lampu mati", "kéluhan", "x"])
CONDITIONS = st.fixed_dictionaries(
    {},
    optional={
        "account": st.sampled_from(["humas", "pers"]),
        "any_words": st.lists(WORDS, min_size=1, max_size=3),
        "all_words": st.lists(WORDS, min_size=1, max_size=2),
        "regex": st.lists(st.sampled_from([r"\d+", "ja.an", "^@", "(?i)PROMO"]), min_size=1),
        "hashtags": st.lists(st.sampled_from(["lapor", "darurat"]), min_size=1),
        "lang": st.lists(st.sampled_from(["id", "in", "en", "ms"]), min_size=1),
        "author_in": st.sampled_from(["vip", "blocked"]),
        "author_not_in": st.sampled_from(["vip", "blocked"]),
        "verified": st.booleans(),
        "followers_at_least": st.integers(0, 10_000),
        "is_reply": st.booleans(),
        "has_media": st.booleans(),
        "within": st.sampled_from(["office", "night"]),
    },
).filter(bool)
RULE = st.fixed_dictionaries(
    {"match": CONDITIONS},
    optional={
        "priority": st.sampled_from(["low", "normal", "high", "urgent"]),
        "sla": st.sampled_from(["15m", "1h", "2d"]),
        "continue": st.booleans(),
        "drop": st.booleans(),
        "to": st.lists(st.sampled_from(["desk", "press", "all"]), min_size=1, max_size=2),
    },
)


def as_yaml_rule(index: int, rule: dict[str, object]) -> str:
    import json

    body = dict(rule)
    if body.get("drop"):
        body.pop("to", None)
        body.pop("continue", None)
    elif "to" not in body:
        body["to"] = ["desk"]
    return f"  - {json.dumps({'name': f'r{index}', **body})}\n"


@settings(max_examples=150, deadline=None)
@given(
    rules=st.lists(RULE, max_size=5),
    last_drops=st.booleans(),
    text=st.text(max_size=60) | st.sampled_from(["jalan rusak #lapor 12", "PROMO lampu mati"]),
    author=st.sampled_from(["menteri_x", "spammer1", "warga"]),
    followers=st.none() | st.integers(0, 20_000),
    verified=st.booleans(),
    reply=st.booleans(),
    media=st.booleans(),
    hours=st.integers(0, 24 * 7),
    lang=st.sampled_from([None, "in", "en", "und"]),
)
def test_routing_is_total_and_deterministic(
    rules: list[dict[str, object]],
    last_drops: bool,
    text: str,
    author: str,
    followers: int | None,
    verified: bool,
    reply: bool,
    media: bool,
    hours: int,
    lang: str | None,
) -> None:
    routes = "".join(as_yaml_rule(i, rule) for i, rule in enumerate(rules))
    routes += "  - {name: last, drop: true}\n" if last_drops else "  - {name: last, to: [all]}\n"
    cfg = config(routes)
    m = mention(
        text,
        author=author,
        followers=followers,
        verified=verified,
        reply=reply,
        media=media,
        lang=lang,
        at=NOW + timedelta(hours=hours),
    )
    first: Decision = decide(cfg, m, now=NOW)
    again = decide(cfg, m, now=NOW)
    assert first.matched and (first.dropped or first.destinations)
    assert [r.name for r in first.matched] == [r.name for r in again.matched]
    assert first.destinations == again.destinations
    assert first.route in {r.name for r in cfg.routes}
    assert not first.matched[-1].continue_
