"""What a Slack request says: who acted, where, what they asked for, and whether it is one
Slack sends at all. Plain functions of the payload, shared by the chat's gate and its staff
handlers."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import parse_qs

from adapters.slack.settings import SlackSettings

# Requests that carry what a person did (the rest are events).
INTERACTIVE_TYPES = {"block_actions", "view_submission", "shortcut", "message_action"}


def malformed(body: bytes, content_type: str) -> str | None:
    """Why a body is not one Slack sends, in words; bolt would answer it with a 500."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the request body is not UTF-8"
    if "json" in content_type:
        found: Any = text
    else:
        fields = parse_qs(text)
        if "payload" not in fields:
            return None
        found = fields["payload"][0]
    try:
        parsed = json.loads(found)
    except ValueError:
        return "the payload is not JSON"
    return None if isinstance(parsed, dict) else "the payload is not a JSON object"


def interaction_identity(body: dict[str, Any]) -> str | None:
    """What stays the same in a replay or a retry of one person's action, and differs between
    two actions: Slack gives each button press, form submission, shortcut and slash command a
    trigger_id of its own. Without one, the request itself. None for events (their event_id
    serves) and for anything that is not a person's action."""
    if not is_action(body):
        return None
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        return f"trigger:{trigger}"
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return "body:" + hashlib.sha256(canonical).hexdigest()


def is_action(body: dict[str, Any]) -> bool:
    return "command" in body or body.get("type") in INTERACTIVE_TYPES


def asked_for(body: dict[str, Any]) -> str:
    """What a request asked for, in a word: the command's verb, the button or the form."""
    if "command" in body:
        return f"{body['command']} {str(body.get('text', '')).strip().partition(' ')[0]}"
    actions = body.get("actions") or [{}]
    name = actions[0].get("action_id") if isinstance(actions[0], dict) else None
    return str(name or (body.get("view") or {}).get("callback_id") or body.get("type"))


def socket_mode(settings: SlackSettings) -> bool:
    return settings.slack_mode == "socket"


def user_of(body: dict[str, Any]) -> str:
    """Who acted: a button or form (``user.id``), a command (``user_id``) or an event."""
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id", ""))
    return str(body.get("user_id") or (body.get("event") or {}).get("user") or "")


def channel_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict) and channel.get("id"):
        return str(channel["id"])
    found = (
        body.get("channel_id")
        or (body.get("container") or {}).get("channel_id")
        or (body.get("event") or {}).get("channel")
    )
    if found:
        return str(found)
    # A form carries the channel it was opened from in its metadata.
    try:
        metadata = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
    except ValueError:
        return None
    return (
        str(metadata["channel"]) if isinstance(metadata, dict) and "channel" in metadata else None
    )


def team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if team is None and isinstance(body.get("user"), dict):
        team = body["user"].get("team_id")
    return str(team) if team else None
