"""What `reachable config check` tells an admin about rules that cannot work: every problem, on
its own line, with the rule and setting it is about and what to do."""

from __future__ import annotations

import pytest

from app.config import parse_config
from bridge.errors import ConfigError
from tests.unit.test_routing import config

THEN_CATCH_ALL = "  - {name: b, to: [all]}\n"


@pytest.mark.parametrize(
    ("routes", "problems"),
    [
        (
            "  - {name: a, to: [nowhere, desk, elsewhere]}\n",
            [
                "routes[0].to[0]: unknown destination 'nowhere' (known: desk, press, all)",
                "routes[0].to[2]: unknown destination 'elsewhere' (known: desk, press, all)",
            ],
        ),
        (
            "  - {name: a, match: {account: [humas, other]}, to: [desk]}\n" + THEN_CATCH_ALL,
            ["routes[0].match.account[1]: unknown account 'other' (known: humas, pers)"],
        ),
        (
            "  - {name: a, match: {regex: ['ok', '(unclosed']}, to: [desk]}\n" + THEN_CATCH_ALL,
            [
                "routes[0].match.regex[1]: invalid regular expression: missing ), unterminated"
                " subpattern at position 0"
            ],
        ),
        (
            "  - {name: a, match: {author_in: vips, author_not_in: blockd}, to: [desk]}\n"
            + THEN_CATCH_ALL,
            [
                "routes[0].match.author_in: unknown list 'vips' (known: vip, blocked)",
                "routes[0].match.author_not_in: unknown list 'blockd' (known: vip, blocked)",
            ],
        ),
        (
            "  - {name: a, match: {within: ofice, outside: nite}, to: [desk]}\n" + THEN_CATCH_ALL,
            [
                "routes[0].match.within: unknown calendar 'ofice' (known: office, night)",
                "routes[0].match.outside: unknown calendar 'nite' (known: office, night)",
            ],
        ),
        (
            "  - {name: a, to: [all]}\n  - {name: b, to: [desk]}\n  - {name: c, to: [desk]}\n",
            [
                "routes[1]: can never match: route 'a' above it already matches everything",
                "routes[2]: can never match: route 'a' above it already matches everything",
            ],
        ),
        (
            "  - {name: a, to: [all], drop: true}\n",
            ["routes[0].drop: a dropped mention goes nowhere: remove `to` or `drop`"],
        ),
        ("  - {name: a}\n", ["routes[0].to: say where mentions go (`to: [...]`), or `drop: true`"]),
        (
            "  - {name: a, match: {any_words: [x]}, drop: true, continue: true}\n" + THEN_CATCH_ALL,
            ["routes[0].continue: `drop` ends routing, so `continue: true` cannot apply"],
        ),
        (
            "  - {name: a, match: {any_words: [Promo], all_words: [gratis],"
            " none_words: [promo, GRATIS, baru]}, to: [desk]}\n" + THEN_CATCH_ALL,
            ["routes[0].match.none_words: also required elsewhere: gratis, promo"],
        ),
        (
            "  - {name: a, match: {within: office, outside: office}, to: [desk]}\n"
            + THEN_CATCH_ALL,
            ["routes[0].match: `within` and `outside` 'office' never both hold"],
        ),
        (
            "  - {name: a, to: [all], continue: true}\n",
            [
                "routes: the last route must match everything (no `match`), so that every"
                " mention is routed or explicitly dropped"
            ],
        ),
    ],
)
def test_config_check_names_the_rule_the_setting_and_what_to_do(
    routes: str, problems: list[str]
) -> None:
    with pytest.raises(ConfigError) as raised:
        config(routes)
    assert [line.split(": ", 2)[2] for line in str(raised.value).splitlines()] == problems


def test_a_name_used_where_none_are_defined_says_there_are_none() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
routes:
  - {name: a, match: {author_in: vip, within: office}, to: [desk]}
  - {name: b, to: [desk]}
""")
    assert str(raised.value).splitlines() == [
        "<config>: line 5: routes[0].match.author_in: unknown list 'vip' (known: none)",
        "<config>: line 5: routes[0].match.within: unknown calendar 'office' (known: none)",
    ]


def test_a_handle_longer_than_x_allows_in_a_list_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
lists: {vip: [menteri_x, fifteen_chars_x, sixteen_chars_xx]}
routes: [{name: rest, to: [desk]}]
""")
    [problem] = str(raised.value).splitlines()
    assert problem.startswith("<config>: line 4: lists.vip[2]: 'sixteen_chars_xx' is not valid")


def test_an_author_in_a_rule_is_checked_against_the_networks_handle_form() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations: {desk: {chat: slack, channel: C0DESK}}
routes:
  - {name: vip, match: {author_in: ["@menteri_x", "pak menteri"]}, to: [desk]}
  - {name: rest, to: [desk]}
""")
    [problem] = str(raised.value).splitlines()
    assert problem == (
        "<config>: line 5: routes[0].match.author_in[1]: 'pak menteri' is not valid here "
        "(an X handle: letters, digits and '_', at most 15)"
    )
