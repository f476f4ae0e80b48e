"""Slack's failures in the core's terms: a rate limit, worth retrying, or final.

Slack says "slow down" in two ways. The per-method tiers answer HTTP 429 ``ratelimited`` with a
``Retry-After`` header; the message-posting limit of ``chat.postMessage`` and ``chat.update``
answers HTTP 200 ``{"ok": false, "error": "rate_limited"}`` ("Application has posted too many
messages"), not always with a ``Retry-After``. Both mean the same to us: wait, then try again.
"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from bridge.errors import (
    DestinationUnavailable,
    PermanentError,
    PlatformError,
    RateLimited,
    TransientError,
)
from bridge.text.i18n import N_

RATE_LIMIT_ERRORS = frozenset({"ratelimited", "rate_limited"})
# The wait when Slack gives none. Slack allows about one message a second per channel with short
# bursts, and warns that apps which keep sending while limited may be disabled: ten seconds lets
# a burst allowance refill before the next try, without holding a channel back for long.
RATE_LIMIT_DEFAULT_WAIT_S = 10.0
_TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
_UNREACHABLE = {
    "channel_not_found": N_("the channel does not exist or the bot cannot see it"),
    "not_in_channel": N_("the bot is not a member of the channel (invite it with /invite)"),
    "is_archived": N_("the channel is archived"),
}


def error_code(exc: SlackApiError) -> str:
    """Slack's error code; a 5xx has a plain-text body, so the data is not always a dict."""
    data = exc.response.data
    return str(data.get("error", "unknown_error")) if isinstance(data, dict) else "http_error"


def rate_limit_wait(exc: SlackApiError) -> float | None:
    """Seconds Slack asks us to wait before the next call, or None when this is no rate limit."""
    if exc.response.status_code != 429 and error_code(exc) not in RATE_LIMIT_ERRORS:
        return None
    headers = exc.response.headers or {}
    given = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(given, list | tuple):
        given = given[0] if given else None
    try:
        wait = float(given) if given is not None else RATE_LIMIT_DEFAULT_WAIT_S
    except ValueError:
        wait = RATE_LIMIT_DEFAULT_WAIT_S
    return wait if wait > 0 else RATE_LIMIT_DEFAULT_WAIT_S


def wrap_slack_error(exc: Exception) -> PlatformError:
    """Translate slack-sdk and transport exceptions into the core's error kinds."""
    if isinstance(exc, SlackApiError):
        status, error = exc.response.status_code, error_code(exc)
        wait = rate_limit_wait(exc)
        if wait is not None:
            return RateLimited("slack", f"rate limited ({error})", retry_after=wait)
        if status >= 500 or error in _TRANSIENT_ERRORS:
            return TransientError("slack", f"{error} (HTTP {status})")
        if error in _UNREACHABLE:
            return DestinationUnavailable("slack", _UNREACHABLE[error])
        return PermanentError("slack", error)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return TransientError("slack", f"connection problem: {exc!r}")
    raise exc
