"""The authority table: what the staff guides show is what the code decides, and roles combine
as a real institution expects (an admin is not a supervisor; the holder is told, not refused)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.config import CHATS
from bridge.config import PersonConfig, person_model
from bridge.desks.authority import (
    ACTION_LABELS,
    TABLE,
    Action,
    Role,
    Rule,
    markdown_table,
    thread_action,
    verdict,
)
from bridge.domain.models import Thread, ThreadStatus

ROOT = Path(__file__).resolve().parents[2]
STAFF_GUIDE = ROOT / "docs" / "staff-guide.md"
PANDUAN_STAF = ROOT / "docs" / "panduan-staf.md"
# The Indonesian guide's words for each rule of the table.
RULES_IN_INDONESIAN: dict[str, Rule] = {
    "-": Rule.NOT_APPLICABLE,
    "tidak": Rule.NO,
    "jika `speaks_for` mencantumkan akun tersebut": Rule.SPEAKS_FOR,
    "ya, dengan menekan sekali lagi dalam satu menit": Rule.CONFIRM,
    "ya": Rule.YES,
    "diberi tahu bahwa utas itu sudah miliknya; tidak ada yang berubah": Rule.ALREADY,
}
# A person as the config with its chats reads one (with a Slack user id).
Person = person_model(CHATS)
RINA = Person(key="rina", slack="U0RINA", speaks_for=["humas"])
BUDI = Person(key="budi", slack="U0BUDI")
SARI = Person(key="sari", slack="U0SARI", roles=["staff", "supervisor"])
ADI = Person(key="adi", slack="U0ADI", roles=["staff", "admin"])


def thread(status: ThreadStatus, by: str | None = None) -> Thread:
    return Thread(
        id="x-humas-3f9a1c00",
        network="x",
        account="humas",
        conversation_id="1",
        route="all",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        status=status,
        status_by=by,
    )


def shown_table(path: Path, opening: str) -> str:
    text = path.read_text()
    start = text.index(opening)
    end = text.index("<!-- end of the authority table -->", start)
    return text[start:end].split("\n", 1)[1].strip()


def test_the_staff_guide_shows_the_table_the_code_decides_by() -> None:
    shown = shown_table(
        STAFF_GUIDE, "<!-- authority table: made by bridge.desks.authority.markdown_table() -->"
    )
    assert shown == markdown_table(), (
        "docs/staff-guide.md's table differs from bridge/desks/authority.py"
    )


def test_the_indonesian_staff_guide_shows_the_same_table_translated() -> None:
    shown = shown_table(PANDUAN_STAF, "<!-- authority table (Bahasa Indonesia):")
    header, ruler, *rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")] for line in shown.splitlines()
    ]
    where = "docs/panduan-staf.md's table"
    assert len(header) == len(ruler) == len(Role) + 1, f"{where}: not one column per role"
    assert len(rows) == len(TABLE), (
        f"{where}: {len(rows)} rows, bridge/desks/authority.py has {len(TABLE)}"
    )
    for row, (action, rules) in zip(rows, TABLE.items(), strict=True):
        label, *cells = row
        commands = re.findall(r"`[^`]+`", ACTION_LABELS[action])
        assert re.findall(r"`[^`]+`", label) == commands, f"{where}: row {label!r} is not {action}"
        unknown = [cell for cell in cells if cell not in RULES_IN_INDONESIAN]
        assert not unknown, f"{where}: row {label!r} has words for no rule: {unknown}"
        shown_rules = tuple(RULES_IN_INDONESIAN[cell] for cell in cells)
        assert shown_rules == rules, (
            f"{where}: row {label!r} differs from bridge/desks/authority.py"
        )


def test_a_button_falls_in_the_row_of_the_threads_state() -> None:
    held = thread(ThreadStatus.CLAIMED, "rina")
    assert thread_action("claim", thread(ThreadStatus.OPEN)) is Action.CLAIM
    assert thread_action("claim", held) is Action.TAKE_OVER
    assert thread_action("dismiss", thread(ThreadStatus.OPEN)) is Action.DISMISS_OPEN
    assert thread_action("dismiss", held) is Action.DISMISS_HELD
    assert not verdict(Action.DISMISS_HELD, BUDI, thread=held).allowed
    assert verdict(Action.DISMISS_HELD, RINA, thread=held).allowed


def test_an_admin_who_is_not_a_supervisor_configures_but_does_not_oversee() -> None:
    held = thread(ThreadStatus.CLAIMED, "rina")
    assert verdict(Action.ADMIN, ADI).allowed
    assert not verdict(Action.RELEASE, ADI, thread=held).allowed
    assert not verdict(Action.DISMISS_HELD, ADI, thread=held).allowed
    assert not verdict(Action.ASSIGN, ADI).allowed
    assert not verdict(Action.ADMIN, SARI).allowed
    both = Person(key="ida", slack="U0IDA", roles=["staff", "supervisor", "admin"])
    assert verdict(Action.ASSIGN, both).allowed and verdict(Action.ADMIN, both).allowed


def test_the_holder_is_told_it_is_theirs_even_when_also_a_supervisor() -> None:
    held_by_sari = thread(ThreadStatus.CLAIMED, "sari")
    pressed = verdict(Action.TAKE_OVER, SARI, thread=held_by_sari)
    assert pressed.rule is Rule.ALREADY and not pressed.allowed
    assert verdict(Action.TAKE_OVER, BUDI, thread=held_by_sari).needs_confirmation
    assert verdict(Action.RELEASE, SARI, thread=held_by_sari).allowed


@pytest.mark.parametrize(
    ("person", "allowed"), [(RINA, True), (BUDI, False), (SARI, False), (ADI, False)]
)
def test_speaking_for_the_institution_is_the_persons_own_list_not_a_role(
    person: PersonConfig, allowed: bool
) -> None:
    decided = verdict(Action.REPLY_AS_INSTITUTION, person, account="humas")
    assert decided.allowed is allowed
    assert not verdict(Action.REPLY_AS_INSTITUTION, RINA, account="other").allowed
