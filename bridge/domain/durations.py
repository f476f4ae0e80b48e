"""Durations as admins write them in YAML: ``90s``, ``30m``, ``4h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

from bridge.text.i18n import _

_PART = re.compile(r"(\d+)\s*(d|h|m|s)")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(value: object) -> timedelta:
    """Parse ``30m`` or ``1h30m`` (or a number of seconds); raise ``ValueError`` with the reason."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(_("expected a duration like 30m or 4h, got {value}", value=repr(value)))
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(_("a duration cannot be negative"))
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError(_("expected a duration like 30m or 4h, got {value}", value=repr(value)))
    text = value.strip().lower().replace(" ", "")
    if not text or _PART.sub("", text):
        raise ValueError(
            _(
                "'{value}' is not a duration: write it like 90s, 30m, 4h, 1h30m or 2d",
                value=value,
            )
        )
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(text))
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The inverse of :func:`parse_duration`, in its shortest form (``1h30m``)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
