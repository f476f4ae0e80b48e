"""X's secrets and addresses, from ``REACHABLE_X_*`` variables or a ``.env`` file."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bridge.settings import platform_part

# The real X API's hosts (the emulator's are anything else).
X_HOSTS = ("twitter.com", "x.com")


class XAccountToken(BaseModel):
    """OAuth 1.0a user keys of one institutional account, for posting as it."""

    access_token: SecretStr
    access_token_secret: SecretStr


class XSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="REACHABLE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    x_api_url: str = "https://api.twitter.com"
    x_bearer_token: SecretStr | None = None
    # The X app's OAuth 1.0a consumer keys, and per institutional account (by its key in the
    # config) the user keys to post as it, as JSON: {"humas": {"access_token": ..., ...}}.
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None
    x_account_tokens: dict[str, XAccountToken] = {}

    # Personal accounts (see the core's settings): with an X OAuth 2.0 client and the bridge's
    # public_url, people link their X account in one click at <public_url>/link/x/callback;
    # without it, they link with a PIN instead (needs the consumer keys above).
    x_oauth_client_id: str | None = None
    x_oauth_client_secret: SecretStr | None = None


def x_settings(settings: object) -> XSettings:
    """The X part of the settings the bridge was given."""
    return platform_part(settings, XSettings, "X")
