"""Secrets from the settings never reach a log line, even inside a library's DEBUG output."""

from __future__ import annotations

import io
import logging

import pytest

from app.settings import AppSettings
from bridge.ops.logsafety import (
    REDACTED,
    RedactingStream,
    RedactSecrets,
    secret_values,
    secret_values_in_environment,
)

SETTINGS = AppSettings.model_validate(
    {
        "redis_url": "redis://:redis-password@127.0.0.1:6379/0",
        "telegram_bot_token": "424242:telegram-secret",
        "token_key": "fernet-key-value",
        "x_account_tokens": {
            "humas": {"access_token": "at-123456", "access_token_secret": "ats-1"}
        },
    }
)


def test_every_secret_setting_is_collected_and_short_values_are_not() -> None:
    found = secret_values(SETTINGS)
    assert {"424242:telegram-secret", "fernet-key-value", "at-123456", "redis-password"} <= set(
        found
    )
    assert "ats-1" not in found


def test_messages_arguments_and_tracebacks_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("some.library")
    caplog.handler.addFilter(RedactSecrets(secret_values(SETTINGS)))
    with caplog.at_level(logging.DEBUG, logger="some.library"):
        logger.debug("Set Bot API URL: http://127.0.0.1/bot%s", "424242:telegram-secret")
        try:
            raise ValueError("token at-123456 refused")
        except ValueError:
            logger.exception("call failed")
    text = caplog.text
    assert "424242:telegram-secret" not in text and "at-123456" not in text
    assert f"bot{REDACTED}" in text
    assert f"ValueError: token {REDACTED} refused" in text


def test_output_is_redacted_even_when_a_secret_is_written_in_pieces_or_url_encoded() -> None:
    target = io.StringIO()
    stream = RedactingStream(target, secret_values_in_environment(ENVIRONMENT, AppSettings))
    stream.write("token: 424242:tele")
    stream.write("gram-secret\nurl: /bot424242:telegram-secret%20/getMe\n")
    stream.write("unfinished at-123456")
    assert "secret" not in target.getvalue()
    stream.flush()
    assert target.getvalue() == (
        f"token: {REDACTED}\nurl: /bot{REDACTED}/getMe\nunfinished {REDACTED}"
    )


ENVIRONMENT = {
    "REACHABLE_TELEGRAM_BOT_TOKEN": "424242:telegram-secret ",
    "REACHABLE_X_ACCOUNT_TOKENS": '{"humas": {"access_token": "at-123456"}}',
    "REACHABLE_LOG_LEVEL": "DEBUG",
}


def test_every_platforms_secrets_are_redacted_from_the_composed_settings() -> None:
    """The platforms' secrets live in their adapters' settings: the composed settings bring them
    all, from the object and from the environment alike."""
    settings = AppSettings(
        slack_bot_token="xoxb-slack-secret",
        slack_signing_secret="slack-signing-secret",
        telegram_webhook_secret="telegram-webhook-secret",
        x_bearer_token="x-bearer-secret",
        x_oauth_client_secret="x-oauth-secret",
    )
    environment = {
        "REACHABLE_SLACK_APP_TOKEN": "xapp-slack-secret",
        "REACHABLE_TELEGRAM_BOT_TOKEN": "424242:telegram-secret",
        "REACHABLE_X_CONSUMER_SECRET": "x-consumer-secret",
        "REACHABLE_X_ACCOUNT_TOKENS": '{"humas": {"access_token": "at-123456"}}',
        "REACHABLE_SLACK_TEAM_ID": "T0PUBLIC",
    }
    for secrets, expected in (
        (
            secret_values(settings),
            {
                "xoxb-slack-secret",
                "slack-signing-secret",
                "telegram-webhook-secret",
                "x-bearer-secret",
                "x-oauth-secret",
            },
        ),
        (
            secret_values_in_environment(environment, AppSettings),
            {"xapp-slack-secret", "424242:telegram-secret", "x-consumer-secret", "at-123456"},
        ),
    ):
        assert expected <= set(secrets)
        assert "T0PUBLIC" not in secrets
        filter_ = RedactSecrets(secrets)
        for secret in expected:
            record = logging.LogRecord(
                "lib", logging.INFO, __file__, 1, "token %s", (secret,), None
            )
            filter_.filter(record)
            assert record.getMessage() == f"token {REDACTED}"
