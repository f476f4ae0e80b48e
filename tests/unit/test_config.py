"""The YAML config: the documented example loads; every mistake is reported with its place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

import pytest

from adapters.slack.config import SLACK
from adapters.x.config import X
from app.config import load_config, parse_config
from bridge import config as core
from bridge.chats import ChatDestination, ChatPlatform
from bridge.config import Config
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

VALID = """
accounts:
  - {key: humas, handle: humas_demo}
destinations:
  humas-slack: {chat: slack, channel: C0HUMAS}
  supervisors: {chat: slack, channel: C0SUPER}
people:
  - {key: rina, slack: U0RINA, speaks_for: [humas]}
routes:
  - name: complaints
    match: {account: humas, any_words: [rusak]}
    to: [humas-slack]
    sla: 30m
  - name: everything-else
    to: humas-slack
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="test.yaml")
    return [f"{path}: {detail}" for path, detail in caught.value.problems]


@pytest.mark.parametrize("name", ["reachable.example.yaml", "demo.yaml"])
def test_shipped_configs_load(name: str) -> None:
    config = load_config(ROOT / "config" / name)
    assert config.accounts[0].handle == "humas_demo"
    assert config.routes[-1].match.is_empty()


def test_valid_config_has_durations_and_defaults() -> None:
    config = parse_config(VALID)
    assert config.routes[0].sla == timedelta(minutes=30)
    assert config.routes[1].sla is None  # routing falls back to 4h
    assert config.routes[1].to == ["humas-slack"]
    assert config.accounts[0].poll_every.total_seconds() == 60
    assert "complaints: -> humas-slack (SLA 30m, normal)" in config.summary()


def test_unknown_destination_names_the_path_line_and_the_known_ones() -> None:
    text = VALID.replace("to: humas-slack", "to: [humas-slack, humas-slak]")
    assert problems_of(text) == [
        "line 15: routes[1].to[1]: unknown destination 'humas-slak' "
        "(known: humas-slack, supervisors)"
    ]


def test_every_problem_is_reported_at_once() -> None:
    text = (
        VALID.replace("sla: 30m", "sla: half an hour")
        .replace("speaks_for: [humas]", "speaks_for: [humsa]")
        .replace("channel: C0SUPER", "channel: '#supervisors'")
    )
    found = problems_of(text)
    assert any(
        p.startswith("line 13: routes[0].sla: 'half an hour' is not a duration") for p in found
    ), found
    assert any("destinations.supervisors.channel" in p and "channel id" in p for p in found)
    # Cross-references are checked once the shapes are right, in a second pass.
    assert not any("humsa" in p for p in found)


def test_cross_reference_problems() -> None:
    found = problems_of(VALID.replace("speaks_for: [humas]", "speaks_for: [humsa]"))
    assert found == ["line 8: people[0].speaks_for[0]: unknown account 'humsa' (known: humas)"]


def test_a_person_needs_a_user_id_in_one_of_the_chats() -> None:
    found = problems_of(VALID.replace("{key: rina, slack: U0RINA,", "{key: rina,"))
    assert found == ["line 8: people[0]: a person needs a chat user id (one of: slack, telegram)"]


def test_a_chats_user_id_and_address_are_checked_by_its_own_form() -> None:
    found = problems_of(
        VALID.replace("slack: U0RINA", "slack: rina").replace("C0SUPER", "supervisors")
    )
    assert found == [
        "line 6: destinations.supervisors.channel: 'supervisors' is not valid here "
        "(a Slack channel id such as C0HUMAS, not its #name)",
        "line 8: people[0].slack: 'rina' is not valid here "
        "(a Slack user id such as U0RINA, not a display name)",
    ]


def test_with_one_chat_another_is_unknown_and_its_fields_are_explained() -> None:
    text = VALID.replace("C0SUPER}", "supervisors}").replace(
        "{chat: slack, channel: C0HUMAS}", "{chat: telegram, chat_id: 1}"
    )
    with pytest.raises(ConfigError) as caught:
        core.parse_config(text, chats=[SLACK], networks=[X], base=Config, source="one.yaml")
    found = [f"{path}: {detail}" for path, detail in caught.value.problems]
    assert found == [
        "line 5: destinations.humas-slack.chat: unknown chat 'telegram' (known: slack)",
        "line 5: destinations.humas-slack.channel: required setting is missing",
        "line 5: destinations.humas-slack.chat_id: unknown setting (check the spelling)",
        "line 6: destinations.supervisors.channel: 'supervisors' is not valid here "
        "(a Slack channel id such as C0HUMAS, not its #name)",
    ]


def test_a_chat_is_not_named_like_a_persons_own_setting() -> None:
    roles = ChatPlatform(**{**vars(SLACK), "name": "roles"})
    with pytest.raises(ValueError, match="cannot be named 'roles'"):
        core.parse_config(VALID, chats=[roles], networks=[X], base=Config)
    with pytest.raises(ValueError, match="a chat and a network at least"):
        core.parse_config(VALID, chats=[], networks=[X], base=Config)
    with pytest.raises(ValueError, match="a chat and a network at least"):
        core.parse_config(VALID, chats=[SLACK], networks=[], base=Config)


def test_a_chats_destination_must_say_where_it_is_and_how_to_name_it() -> None:
    class Room(ChatDestination):
        chat: Literal["matrix"]
        room: str

    with pytest.raises(TypeError, match="address, describe"):
        Room(chat="matrix", room="!humas:example.org")


def test_the_demos_linked_accounts_name_people_of_the_config() -> None:
    demo = VALID + "demo:\n  linked_accounts: {rina: rina_x, ghost: ghost_x}\n"
    found = problems_of(demo)
    assert found == ["line 17: demo.linked_accounts.ghost: unknown person 'ghost' (known: rina)"]
    assert parse_config(VALID + "demo:\n  linked_accounts: {rina: rina_x}\n").demo


def test_an_account_is_on_a_known_network_with_a_handle_of_its_form() -> None:
    found = problems_of(
        VALID.replace("{key: humas, handle: humas_demo}", "{key: humas, handle: humas demo}")
    )
    assert found == [
        "line 3: accounts[0].handle: 'humas demo' is not valid here "
        "(an X handle: letters, digits and '_', at most 15)"
    ]
    found = problems_of(
        VALID.replace("handle: humas_demo}", "handle: humas_demo, network: mastodon}")
    )
    assert found == ["line 3: accounts[0].network: unknown network 'mastodon' (known: x)"]
    assert parse_config(VALID).accounts[0].network == "x"  # the first network, when none is named


def test_typo_in_a_setting_name_is_an_error() -> None:
    found = problems_of(VALID.replace("sla: 30m", "slaa: 30m"))
    assert found == ["line 13: routes[0].slaa: unknown setting (check the spelling)"]


def test_unknown_chat_lists_the_known_ones() -> None:
    found = problems_of(
        VALID.replace("{chat: slack, channel: C0SUPER}", "{chat: slak, channel: C0SUPER}")
    )
    assert any("unknown chat 'slak' (known: slack, telegram)" in p for p in found), found


def test_a_catch_all_route_is_required_and_must_be_last() -> None:
    no_catch_all = VALID.replace("  - name: everything-else\n    to: humas-slack\n", "")
    assert any("last route must match everything" in p for p in problems_of(no_catch_all))
    shadowed = VALID + "  - name: never\n    to: [supervisors]\n"
    assert any(
        "routes[2]: can never match: route 'everything-else'" in p for p in problems_of(shadowed)
    )


def test_not_yaml_and_not_a_mapping() -> None:
    assert "not valid YAML" in problems_of("accounts: [unclosed")[0]
    assert "must be a mapping" in problems_of("- just a list")[0]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_a_forum_topic_finds_its_own_destination() -> None:
    config = parse_config("""
accounts: [{key: humas, handle: humas_demo}]
destinations:
  complaints: {chat: telegram, chat_id: -1002000000002, topic: 7}
  whole-forum: {chat: telegram, chat_id: -1002000000002}
  praise: {chat: telegram, chat_id: -1002000000002, topic: 9}
  slack: {chat: slack, channel: C0DESK}
routes: [{name: all, to: [complaints, praise, whole-forum, slack]}]
""")
    forum = "-1002000000002"
    assert config.destination_key_at("telegram", forum, 9) == "praise"
    assert config.destination_key_at("telegram", forum, 7) == "complaints"
    assert config.destination_key_at("telegram", forum, 3) == "whole-forum"
    assert config.destination_key_at("telegram", forum) == "whole-forum"
    assert config.destination_key_at("slack", "C0DESK", 9) == "slack"
    assert config.destination_key_at("telegram", "-1") is None
    topics_only = config.model_copy(
        update={
            "destinations": {k: v for k, v in config.destinations.items() if k != "whole-forum"}
        }
    )
    assert topics_only.destination_key_at("telegram", forum) == "complaints"


def test_a_name_too_long_for_chat_is_refused_naming_the_person() -> None:
    """Mirrors show the name of whoever claimed or answered; chats hold a name, not an essay."""
    longest = "Rina " + "R" * 75
    assert parse_config(VALID.replace("key: rina,", f"key: rina, name: {longest},")).people
    found = problems_of(VALID.replace("key: rina,", f"key: rina, name: {longest}R,"))
    assert found == ["line 8: people[0].name: a name of 1 to 80 characters"]
    assert problems_of(VALID.replace("key: rina,", "key: rina, name: '  ',")) == found


def test_retention_has_the_defaults_an_institution_expects() -> None:
    retention = parse_config(VALID).retention
    assert retention.threads == timedelta(days=180)
    assert retention.effects == timedelta(days=7)
    assert retention.streams == timedelta(days=1)
    assert retention.audit == timedelta(days=400)
    assert retention.dropped == timedelta(days=30)


def test_the_example_config_documents_retention_and_why_the_audit_log_keeps_a_year() -> None:
    text = (ROOT / "config" / "reachable.example.yaml").read_text()
    retention = load_config(ROOT / "config" / "reachable.example.yaml").retention
    assert retention.audit == timedelta(days=400)
    assert "public-sector records" in text.lower() and "kept a year" in text


def test_retention_too_short_to_be_safe_is_refused_with_the_reason() -> None:
    text = VALID + "retention: {effects: 2h, threads: forever, streams: 0s}\n"
    assert problems_of(text) == [
        "line 16: retention.threads: 'forever' is not a duration: write it like 90s, 30m, 4h, "
        "1h30m or 2d",
        "line 16: retention.effects: at least 1d",
    ]


@pytest.mark.parametrize("sla", ["0", "0s", "0m"])
def test_an_sla_of_nothing_is_refused_with_the_reason(sla: str) -> None:
    text = VALID.replace("sla: 30m", f"sla: {sla}")
    assert problems_of(text) == [
        "line 13: routes[0].sla: an SLA of at least 1s, such as 30m or 4h; leave it out for 4h"
    ]


def test_an_sla_of_a_second_or_none_written_out_is_taken() -> None:
    assert parse_config(VALID.replace("sla: 30m", "sla: 1s")).routes[0].sla == timedelta(seconds=1)
    assert parse_config(VALID.replace("sla: 30m", "sla: null")).routes[0].sla is None


def test_threads_are_kept_at_least_as_long_as_a_scheduled_reports_period() -> None:
    text = VALID + "reports: {to: supervisors, every: 7d}\nretention: {threads: 3d}\n"
    assert problems_of(text) == [
        "line 17: retention.threads: keep threads at least as long as the reports' period (7d): "
        "a report must find every thread of its period"
    ]
