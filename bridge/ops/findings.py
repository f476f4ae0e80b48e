"""What a go-live check finds: a row of the doctor's table, and the context each platform's own
checks (``adapters/*/doctor.py``) receive."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bridge.config import Config
from bridge.settings import Settings
from bridge.store.store import Store
from bridge.text.i18n import _


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"

    def label(self) -> str:
        """The status as the table shows it, in the reader's language."""
        return {Status.OK: _("ok"), Status.WARN: _("warn"), Status.FAIL: _("FAIL")}[self]


@dataclass(frozen=True)
class Finding:
    area: str
    check: str
    status: Status
    detail: str
    fix: str = ""


def ok(area: str, check: str, detail: str) -> Finding:
    return Finding(area, check, Status.OK, detail)


def warn(area: str, check: str, detail: str, fix: str) -> Finding:
    return Finding(area, check, Status.WARN, detail, fix)


def fail(area: str, check: str, detail: str, fix: str) -> Finding:
    return Finding(area, check, Status.FAIL, detail, fix)


@dataclass(frozen=True)
class DoctorContext:
    settings: Settings
    config: Config
    store: Store | None


PlatformDoctor = Callable[[DoctorContext], Awaitable[list[Finding]]]
