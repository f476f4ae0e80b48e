"""python-telegram-bot's exceptions as the core's error kinds."""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bridge.errors import (
    DestinationUnavailable,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
)
from bridge.text.i18n import N_

log = logging.getLogger(__name__)


def retry_after_s(exc: RetryAfter) -> float:
    """The wait flood control asks for, in seconds (python-telegram-bot warns that the type of
    ``retry_after`` will change; either type is read here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def wrap_telegram_error(exc: Exception) -> PlatformError:
    """Translate python-telegram-bot's exceptions into the core's error kinds."""
    if isinstance(exc, RetryAfter):
        return RateLimited("telegram", "flood control", retry_after=retry_after_s(exc))
    if isinstance(exc, TimedOut | NetworkError) and not isinstance(exc, BadRequest):
        return TransientError("telegram", str(exc))
    if isinstance(exc, Forbidden):
        log.warning("Telegram refused: %s", exc)
        return DestinationUnavailable("telegram", N_("the bot was removed or may not post there"))
    if isinstance(exc, BadRequest) and "chat not found" in str(exc).lower():
        return DestinationUnavailable(
            "telegram", N_("the chat does not exist or the bot is not in it")
        )
    if isinstance(exc, BadRequest | ChatMigrated | TelegramError):
        return PermanentError("telegram", str(exc))
    raise exc
