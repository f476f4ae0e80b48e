"""Slack's secrets and limits, from ``REACHABLE_SLACK_*`` variables or a ``.env`` file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.settings import platform_part

# The real Slack API's host (the emulator's is anything else).
SLACK_HOSTS = ("slack.com",)


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REACHABLE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    slack_api_url: str = "https://slack.com/api/"
    slack_bot_token: SecretStr | None = None
    # How Slack reaches the bridge. "http": Slack POSTs to <public address>/slack/events, signed
    # with the signing secret. "socket": the bridge opens a websocket to Slack with the app-level
    # token (xapp-…, scope connections:write), so no public address is needed.
    slack_mode: Literal["http", "socket"] = "http"
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # Seconds between Socket Mode pings; a connection silent for four of them is replaced.
    slack_socket_ping_s: float = Field(10.0, gt=0)
    # When set, events from any other workspace or app are ignored (and logged).
    slack_team_id: str | None = None
    slack_app_id: str | None = None
    # Slack's guidance is about one message per second per channel.
    slack_channel_interval_s: float = 1.0


def slack_settings(settings: object) -> SlackSettings:
    """The Slack part of the settings the bridge was given."""
    return platform_part(settings, SlackSettings, "Slack")
