"""The composed settings read every platform's variables and the core's, from the environment
and from a .env file, under the same REACHABLE_* names as before the platforms had their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.slack.settings import SlackSettings
from adapters.telegram.settings import TelegramSettings
from adapters.x.settings import XSettings
from app.settings import AppSettings
from bridge.settings import Settings

VARIABLES = {
    "REACHABLE_SLACK_BOT_TOKEN": "xoxb-from-outside",
    "REACHABLE_TELEGRAM_BOT_TOKEN": "4242:from-outside",
    "REACHABLE_X_BEARER_TOKEN": "bearer-from-outside",
    "REACHABLE_REDIS_URL": "redis://redis.internal:6380/2",
}


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No variable of the test's own environment, and no .env but the test's."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_read(settings: AppSettings) -> None:
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-outside"
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "4242:from-outside"
    assert settings.x_bearer_token is not None
    assert settings.x_bearer_token.get_secret_value() == "bearer-from-outside"
    assert settings.redis_url == "redis://redis.internal:6380/2"


def test_the_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)
    assert_read(AppSettings())


def test_a_dotenv_file_is_read(clean: Path) -> None:
    (clean / ".env").write_text("".join(f"{n}={v}\n" for n, v in VARIABLES.items()))
    assert_read(AppSettings())


def test_defaults_and_validation_are_each_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AppSettings()
    assert (settings.slack_api_url, settings.slack_mode) == ("https://slack.com/api/", "http")
    assert settings.telegram_group_interval_s == 3.0
    assert settings.x_api_url == "https://api.twitter.com"
    assert settings.key_prefix == "reachable"
    monkeypatch.setenv("REACHABLE_SLACK_SOCKET_PING_S", "0")
    with pytest.raises(ValueError, match="slack_socket_ping_s"):
        AppSettings()


def test_the_composed_settings_are_every_part() -> None:
    """The core is given a Settings, each adapter takes its own part of the same object."""
    settings = AppSettings()
    for part in (Settings, XSettings, SlackSettings, TelegramSettings):
        assert isinstance(settings, part)
    names = set(AppSettings.model_fields)
    for part in (Settings, XSettings, SlackSettings, TelegramSettings):
        assert set(part.model_fields) <= names


def test_an_adapter_given_the_core_settings_alone_says_so() -> None:
    from adapters.slack.settings import slack_settings

    with pytest.raises(TypeError, match="AppSettings"):
        slack_settings(Settings())
