"""Crash points: where the crash tests make a process kill itself with SIGKILL.

A reply must reach X exactly once however a worker dies, and the moments that matter are exact
(before the post, after it but before it is recorded, after the record). Killing a process from
outside cannot hit them reliably, so the code names them. Inert unless ``REACHABLE_CRASH_AT``
names the point; each (point, key) crashes once, remembered by a file in ``REACHABLE_CRASH_DIR``,
so that the restarted process gets past it as a real one would.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

REPLY_BEFORE_SEND = "reply-before-send"
REPLY_AFTER_SEND = "reply-after-send"
REPLY_AFTER_RECORD = "reply-after-record"
POINTS = (REPLY_BEFORE_SEND, REPLY_AFTER_SEND, REPLY_AFTER_RECORD)


def crash_point(name: str, key: str) -> None:
    if os.environ.get("REACHABLE_CRASH_AT") != name:
        return
    marker = Path(os.environ.get("REACHABLE_CRASH_DIR", ".")) / f"{name}-{key}"
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os.kill(os.getpid(), signal.SIGKILL)
