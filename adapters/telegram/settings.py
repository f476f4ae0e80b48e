"""Telegram's secrets and limits, from ``REACHABLE_TELEGRAM_*`` variables or a ``.env`` file."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.settings import platform_part

# The real Bot API's host (the emulator's is anything else).
TELEGRAM_HOSTS = ("telegram.org",)


class TelegramSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REACHABLE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: SecretStr | None = None
    # Telegram allows a group 20 messages a minute (one every 3 s) and a private chat one a second.
    telegram_group_interval_s: float = 3.0
    telegram_private_interval_s: float = 1.0
    telegram_messages_per_s: float = 30.0
    # Webhook mode, for deployments with a public HTTPS address: Telegram pushes updates to this
    # URL (ending in /telegram/webhook) with the secret in a header. Unset: long polling.
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None

    def chat_interval_s(self, chat_id: int) -> float:
        """Seconds between two messages to one chat, a group's (a negative id) or a private
        chat's, in the platform's time."""
        return self.telegram_group_interval_s if chat_id < 0 else self.telegram_private_interval_s


def telegram_settings(settings: object) -> TelegramSettings:
    """The Telegram part of the settings the bridge was given."""
    return platform_part(settings, TelegramSettings, "Telegram")
