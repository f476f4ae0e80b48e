"""What makes a Slack request one person's action, the same in any replay or retry of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.slack.chat import interaction_identity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"


def fixture(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text()))


def test_each_press_form_and_command_is_known_by_its_trigger_id() -> None:
    press = {**fixture("interactive.block_actions.sample.json"), "type": "block_actions"}
    form = {**fixture("interactive.view_submission.sample.json"), "type": "view_submission"}
    command = {"command": "/reachable", "text": "rules", "user_id": "U0RINA"}
    for body in (press, form, command):
        once = interaction_identity({**body, "trigger_id": "13345.99.ab"})
        assert once == "trigger:13345.99.ab"
        assert interaction_identity({**body, "trigger_id": "13346.01.cd"}) != once
    shortcut = {"type": "shortcut", "callback_id": "x", "trigger_id": "1.2.3"}
    assert interaction_identity(shortcut) == "trigger:1.2.3"


def test_without_a_trigger_id_the_request_itself_is_the_identity() -> None:
    press = {**fixture("interactive.block_actions.sample.json"), "type": "block_actions"}
    assert press["trigger_id"] == ""  # the recorded sample's placeholder
    same = interaction_identity(json.loads(json.dumps(press)))
    assert same is not None and same.startswith("body:")
    assert interaction_identity(press) == same
    other = {**press, "actions": [{**press["actions"][0], "action_ts": "2.0"}]}
    assert interaction_identity(other) != same


def test_events_are_not_actions_here_their_event_id_serves() -> None:
    event = fixture("event.message.sample.json")
    assert interaction_identity({**event, "type": "event_callback", "event_id": "Ev1"}) is None
    assert interaction_identity({"type": "url_verification", "challenge": "x"}) is None
