"""No secret reaches a log line, whatever a library logs at whatever level.

Libraries log more than they should at DEBUG (python-telegram-bot prints its API URL, which holds
the bot token). Rather than trust each one, every handler gets a filter that replaces the value
of every secret setting with ``[redacted]`` before the line is written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from pydantic import SecretStr

from bridge.settings import Settings

REDACTED = "[redacted]"
# Shorter values are not secrets worth the false positives (and could be common words).
MIN_SECRET_LENGTH = 6


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, longest first (so a secret inside another goes too)."""
    found: set[str] = set()
    for value in settings.model_dump().values():
        found.update(_secrets_in(value))
    password = urlsplit(settings.redis_url).password
    if password:
        found.add(password)
    return sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def _secrets_in(value: object) -> Iterable[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets_in(item)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            if secret in redacted:
                redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        return True


def redact_secrets_in_logs(settings: Settings) -> None:
    """Attach the filter to every handler of the root logger (call after configuring them)."""
    secrets = secret_values(settings)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets(secrets))
