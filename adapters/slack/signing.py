"""Slack's request signing, checked before bolt sees a request.

bolt checks signatures too, but a request it refuses is logged with its whole body at INFO
(its loggers take their level from the root logger, whatever is set for them), and a
non-numeric timestamp makes its verifier raise, which the web app answers with a 500. Checking
here first gives one plain refusal per request, with the reason and never the body.
See https://api.slack.com/authentication/verifying-requests-from-slack.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

# Slack refuses to sign requests older than this, and so do we.
SIGNATURE_WINDOW_S = 300
# Where Slack's response_url points on the real platform.
SLACK_HOOKS_HOST = "hooks.slack.com"


def why_unsigned(*, secret: str, headers: Mapping[str, str], body: bytes, now: float) -> str | None:
    """Why the request is not one Slack signed with ``secret``, or None when it is."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp or not signature:
        return "no signature"
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return "the timestamp is not a number"
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_S:
        return "the timestamp is outside Slack's 5-minute window"
    signed = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    # Header values arrive decoded as latin-1; comparing bytes also takes non-ASCII garbage.
    if not hmac.compare_digest(expected.encode(), signature.encode("latin-1", "replace")):
        return "the signature does not match"
    return None


def slack_owns(url: str, *, api_url: str) -> bool:
    """Whether ``url`` (a response_url from a payload) is Slack's own: its hooks host over
    https, or the host the Web API is reached at (the emulator in tests and demos). A signed
    payload is still only data: the bridge must not be made to POST to any address it names."""
    try:
        target, api = urlsplit(url), urlsplit(api_url)
    except ValueError:
        return False
    if target.username or target.password:
        return False
    if target.scheme == "https" and target.hostname == SLACK_HOOKS_HOST and target.port is None:
        return True
    return (target.scheme, target.hostname, target.port) == (api.scheme, api.hostname, api.port)


class DropRefusedBodies(logging.Filter):
    """bolt's own signature check logs the refused request's body; that line is dropped (the
    check above has already logged the refusal without it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Invalid request signature" not in str(record.msg)


def quiet_bolt_signature_log() -> None:
    for name in ("slack_bolt.AsyncRequestVerification", "slack_bolt.RequestVerification"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropRefusedBodies) for f in logger.filters):
            logger.addFilter(DropRefusedBodies())
